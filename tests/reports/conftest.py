"""A seeded clinic whose every report figure is known by construction.

The period is the week Monday 2 to Sunday 8 March 2026 (GMT, no clock change).

Utilisation
  Alex works Mon-Fri 09:00-13:00 + 13:00-17:00 (two rows, one block): 5 x 480 = 2,400 min,
  less time off Wed 09:00-12:00 (180) = 2,220 min. Booked: 45 + 30 + 30 + 45 = 150 min.
  Billie works Mon + Tue 09:00-17:00 = 960 min. Booked: 30 + 30 = 60 min (6.25 %).
Bookings made (not held/expired): 8; online 5, reception 3, waitlist 0.
  Attended 4, no-show 1, cancelled 2 of which late 1.
Revenue: Stripe 7,500 + 6,000 + 6,000 taken; refunds 3,000 + 6,000 + 2,000 (the last on a
  payment taken before the period) = net 8,500. Card terminal 6,000. Cash 7,500.
  Not counted: a failed and a pending payment, a failed refund, the payment before the period.
Offer funnel (codes issued in the period): 4 claimed, 3 used in a hold, 2 paid, 1 came back.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

import pytest

from booking.availability import LONDON
from booking.models import Booking, BookingEvent
from offers.models import OfferCode
from payments.models import Payment, Refund
from reports.figures import Period
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    OfferCodeFactory,
    OfferFactory,
    PractitionerFactory,
    ServiceFactory,
    TimeOffFactory,
    UserFactory,
)

PERIOD = Period(date(2026, 3, 2), date(2026, 3, 8))


@pytest.fixture(autouse=True)
def _fresh_period():
    """PERIOD memoises its totals (one page's worth): each test reads its own database afresh."""
    PERIOD._memo.clear()


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


@dataclass
class Seeded:
    alex: object
    billie: object
    bookings: dict


def _pay(booking, method, amount, *, status=Payment.Status.SUCCEEDED, when=None):
    return Payment.objects.create(booking=booking, method=method, amount_pence=amount, status=status,
                                  idempotency_key=f"seed-{Payment.objects.count() + 1}", paid_at=when)


def _refund(payment, amount, when, *, status=Refund.Status.SUCCEEDED):
    refund = Refund.objects.create(payment=payment, amount_pence=amount, status=status)
    Refund.objects.filter(pk=refund.pk).update(created_at=when)
    return refund


def seed_clinic() -> Seeded:
    assessment = ServiceFactory()
    follow_up = FollowUpFactory()
    alex = PractitionerFactory(
        services=[assessment, follow_up], position=1,
        hours=[(d, time(9), time(13)) for d in range(5)] + [(d, time(13), time(17)) for d in range(5)],
    )
    billie = PractitionerFactory(services=[follow_up], position=2, hours=[(d, time(9), time(17)) for d in range(2)])
    TimeOffFactory(practitioner=alex, start=at(4, 9), end=at(4, 12))
    S = Booking.Status
    ONLINE, DESK = Booking.Source.ONLINE, Booking.Source.RECEPTION

    def book(key, practitioner, service, start, status, source, **kw):
        return key, BookingFactory(practitioner=practitioner, service=service, start=start, status=status, source=source, **kw)

    b = dict([
        book("b1", alex, assessment, at(2, 9), S.ATTENDED, ONLINE),
        book("b2", alex, follow_up, at(2, 11), S.ATTENDED, ONLINE),
        book("b3", alex, follow_up, at(3, 9), S.NO_SHOW, DESK),
        book("b4", alex, assessment, at(5, 10), S.CONFIRMED, DESK),
        book("b5", alex, follow_up, at(5, 14), S.CANCELLED, ONLINE),
        book("b6", alex, follow_up, at(6, 9), S.CANCELLED, ONLINE),
        book("b7", alex, assessment, at(6, 11), S.HELD, ONLINE, hold_expires_at=at(1, 9)),
        book("b8", alex, assessment, at(6, 14), S.EXPIRED, ONLINE),
        book("b9", billie, follow_up, at(2, 10), S.ATTENDED, ONLINE),
        book("b10", billie, follow_up, at(3, 10), S.ATTENDED, DESK),
        # Outside the period: the day after it ends, and a follow-up later in March.
        book("b11", alex, assessment, at(9, 9), S.ATTENDED, ONLINE),
    ])
    b["b12"] = BookingFactory(practitioner=alex, service=follow_up, start=at(20, 9), status=S.CONFIRMED,
                              patient=b["b1"].patient)
    # Cancellations: b5 two hours before its start (late), b6 three days before (free).
    BookingEvent.objects.create(booking=b["b5"], action=BookingEvent.Action.CANCELLED, at=at(5, 12))
    BookingEvent.objects.create(booking=b["b6"], action=BookingEvent.Action.CANCELLED, at=at(3, 9))

    M = Payment.Method
    p1 = _pay(b["b1"], M.STRIPE_CHECKOUT, 7500, when=at(2, 8))
    _refund(p1, 1000, at(3, 9), status=Refund.Status.FAILED)
    _pay(b["b2"], M.CARD_TERMINAL, 6000, when=at(2, 11, 30))
    _pay(b["b4"], M.CASH, 7500, when=at(5, 10, 45))
    p4 = _pay(b["b5"], M.STRIPE_CHECKOUT, 6000, when=at(3, 12), status=Payment.Status.PARTIALLY_REFUNDED)
    _refund(p4, 3000, at(5, 12))
    p5 = _pay(b["b6"], M.STRIPE_CHECKOUT, 6000, when=at(3, 13), status=Payment.Status.REFUNDED)
    _refund(p5, 6000, at(3, 9, 5))
    _pay(b["b9"], M.STRIPE_CHECKOUT, 6000, status=Payment.Status.FAILED)
    _pay(b["b10"], M.STRIPE_CHECKOUT, 6000, status=Payment.Status.PENDING)
    p8 = _pay(b["b11"], M.STRIPE_CHECKOUT, 5000, when=at(27, 9, month=2))
    _refund(p8, 2000, at(4, 15))

    offer = OfferFactory(services=[assessment])
    OfferCodeFactory(offer=offer, issued_at=at(2, 8))  # claimed only
    c2 = OfferCodeFactory(offer=offer, issued_at=at(3, 8))
    c3 = OfferCodeFactory(offer=offer, issued_at=at(2, 0, 30))
    c4 = OfferCodeFactory(offer=offer, issued_at=at(4, 8))
    c5 = OfferCodeFactory(offer=offer, issued_at=at(1, 8))  # before the period
    Booking.objects.filter(pk=b["b7"].pk).update(offer_code=c2)
    Booking.objects.filter(pk=b["b1"].pk).update(offer_code=c3)
    Booking.objects.filter(pk=b["b4"].pk).update(offer_code=c4)
    Booking.objects.filter(pk=b["b11"].pk).update(offer_code=c5)
    OfferCode.objects.filter(pk=c3.pk).update(redeemed_by=b["b1"])
    OfferCode.objects.filter(pk=c4.pk).update(redeemed_by=b["b4"])
    OfferCode.objects.filter(pk=c5.pk).update(redeemed_by=b["b11"])

    return Seeded(alex=alex, billie=billie, bookings=b)


@pytest.fixture
def seeded(db):
    return seed_clinic()


@pytest.fixture
def manager(db):
    from django.contrib.auth.models import Group

    user = UserFactory(email="owner@clinic.example", first_name="Olu", last_name="Owner")
    user.groups.add(Group.objects.get_or_create(name="Manager")[0])
    return user
