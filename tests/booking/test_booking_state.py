"""A booking's state has one answer, on the model or in booking.services, and every reader gives it.

The rules pinned at their home: a lapsed hold reads expired (Booking.shown_status,
awaiting_payment, hold_lapsed and the queryset forms), which marks a booking
allows (booking_allowed_marks / check_markable), and whether a practitioner
offers a service (Practitioner.offers / Practitioner.objects.offering). Then the
API, the patient's pages, the desk's page and the calendar are asked the same
question at the same instant and must agree.
"""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from booking import services
from booking.availability import LONDON
from booking.calendar import calendar_days
from booking.exceptions import InvalidSlot, InvalidStatusChange
from booking.models import Booking, Practitioner
from booking.staff.forms import BookForm
from tests.api.support import make_api
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    PractitionerFactory,
    ReceptionistFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

START = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)  # a Tuesday
HOLD_ENDS = datetime(2027, 1, 11, 8, 30, tzinfo=LONDON)  # the day before
JUST_BEFORE = HOLD_ENDS - timedelta(microseconds=1)


@pytest.fixture
def held():
    return BookingFactory(start=START, status=Booking.Status.HELD, hold_expires_at=HOLD_ENDS)


# The rule at its home -----------------------------------------------------------------------


def test_a_hold_awaits_payment_until_the_instant_it_lapses_then_reads_expired(held):
    with time_machine.travel(JUST_BEFORE, tick=False):
        assert held.awaiting_payment() and held.is_blocking() and not held.hold_lapsed()
        assert held.shown_status() == "held"
        assert list(Booking.objects.awaiting_payment()) == [held]
        assert not Booking.objects.holds_lapsed().exists()
    with time_machine.travel(HOLD_ENDS, tick=False):
        assert not held.awaiting_payment() and not held.is_blocking() and held.hold_lapsed()
        assert held.shown_status() == "expired"
        assert not Booking.objects.awaiting_payment().exists()
        assert list(Booking.objects.holds_lapsed()) == [held]
    # The status column still says held: only the clean-up job writes expired.
    assert Booking.objects.get(pk=held.pk).status == Booking.Status.HELD


def test_a_hold_with_no_expiry_never_awaits_payment():
    booking = BookingFactory(start=START, status=Booking.Status.HELD, hold_expires_at=None)
    assert booking.shown_status() == "expired" and not booking.awaiting_payment()


@pytest.mark.parametrize("status", ["confirmed", "cancelled", "expired", "attended", "no_show"])
def test_every_other_status_is_shown_as_it_is_whatever_the_clock(status):
    booking = BookingFactory(start=START, status=status, hold_expires_at=HOLD_ENDS)
    with time_machine.travel(HOLD_ENDS + timedelta(days=2), tick=False):
        assert booking.shown_status() == status
        assert not booking.awaiting_payment() and not booking.hold_lapsed()


def test_a_lapsed_hold_and_an_expired_booking_are_refused_in_the_same_words(held):
    expired = BookingFactory(start=START + timedelta(hours=2), status=Booking.Status.EXPIRED)
    with time_machine.travel(HOLD_ENDS, tick=False):
        now = datetime.now(LONDON)
        for booking in (held, expired):
            with pytest.raises(Exception, match="This booking is expired and cannot be cancelled."):
                services.check_cancellable(booking=booking, now=now)
            with pytest.raises(Exception, match="This booking is expired and cannot be moved."):
                services.check_movable(booking=booking, now=now)


# Every reader agrees -------------------------------------------------------------------------


def _readers(booking):
    """What the API, the patient's list and page, the desk's page and the calendar say now."""
    patient_client = make_api(booking.patient)
    api_status = patient_client.get(f"/api/v1/bookings/{booking.pk}/").json()["status"]
    mine = patient_client.client.get(reverse("booking:my_booking", args=[booking.pk])).content.decode()
    my_list = patient_client.client.get(reverse("booking:my_bookings")).content.decode()
    desk = make_api(ReceptionistFactory()).client.get(reverse("staff:booking", args=[booking.pk])).content.decode()
    day = timezone_day(booking)
    (pday,) = calendar_days(date_from=day, date_to=day, practitioner_ids=[booking.practitioner_id])
    shown = [b.status for b in pday.bookings if b.id == booking.pk]
    gone = [b.status for b in pday.cancelled if b.id == booking.pk]
    return api_status, mine, my_list, desk, shown, gone


def timezone_day(booking):
    return booking.start.astimezone(LONDON).date()


def test_api_pages_and_calendar_agree_on_a_hold_before_and_after_it_lapses(held):
    with time_machine.travel(JUST_BEFORE, tick=False):
        api_status, mine, my_list, desk, shown, gone = _readers(held)
        assert api_status == "held"
        assert "Awaiting payment until 08:30" in mine and "Pay now" in mine and "not paid in time" not in mine
        assert "Awaiting payment until 08:30" in my_list and "Pay now" in my_list
        assert 'data-status="held"' in desk and "Send payment link" in desk
        assert (shown, gone) == (["held"], [])
    with time_machine.travel(HOLD_ENDS, tick=False):
        api_status, mine, my_list, desk, shown, gone = _readers(held)
        assert api_status == "expired"
        assert "Expired (not paid)" in mine and "Pay now" not in mine and "not paid in time" in mine
        assert "Expired (not paid)" in my_list and "Pay now" not in my_list
        assert 'data-status="expired"' in desk and "Send payment link" not in desk
        assert (shown, gone) == ([], ["expired"])


def test_a_booking_marked_expired_reads_like_a_lapsed_hold_everywhere(held):
    with time_machine.travel(HOLD_ENDS, tick=False):
        lapsed = _readers(held)
        services.bookings_expire_lapsed()
        held.refresh_from_db()
        assert held.status == Booking.Status.EXPIRED
        marked = _readers(held)
    assert lapsed[0] == marked[0] == "expired"
    assert "Expired (not paid)" in marked[1] and "Expired (not paid)" in marked[2]
    assert lapsed[4:] == marked[4:] == ([], ["expired"])


# Which marks a booking allows ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "arrived", "minutes_to_start", "marks"),
    [
        ("confirmed", False, 61, []),  # before the arrival window
        ("confirmed", False, 60, ["arrived"]),  # the window opens
        ("confirmed", False, 0, ["arrived", "attended", "no_show"]),  # started
        ("confirmed", True, -5, ["attended", "no_show"]),  # already arrived
        ("attended", False, -60, ["no_show"]),
        ("no_show", False, -60, ["attended"]),
        ("held", False, -60, []),
        ("cancelled", False, -60, []),
        ("expired", False, -60, []),
    ],
)
def test_allowed_marks_follow_status_arrival_window_and_start(status, arrived, minutes_to_start, marks):
    now = START - timedelta(minutes=minutes_to_start)
    booking = BookingFactory(start=START, status=status, arrived_at=now if arrived else None)
    assert services.booking_allowed_marks(booking=booking, now=now) == marks
    for action in services.MARK_ACTIONS:
        if action in marks:
            services.check_markable(booking=booking, action=action, now=now)
        else:
            with pytest.raises(InvalidStatusChange):
                services.check_markable(booking=booking, action=action, now=now)


def test_a_patient_already_marked_arrived_is_not_marked_again():
    booking = BookingFactory(start=START, status=Booking.Status.CONFIRMED, arrived_at=START - timedelta(minutes=10))
    with pytest.raises(InvalidStatusChange, match="Already marked arrived at 09:50"):
        services.booking_mark(booking=booking, action="arrived", actor=ReceptionistFactory(), now=START)
    assert Booking.objects.get(pk=booking.pk).arrived_at == START - timedelta(minutes=10)


@pytest.mark.parametrize(
    ("status", "arrived", "minutes_to_start"),
    [("confirmed", False, 30), ("confirmed", False, -5), ("confirmed", True, -5), ("attended", False, -5),
     ("no_show", False, -5), ("held", False, -5)],
)
def test_the_desk_page_shows_exactly_the_marks_the_service_allows(status, arrived, minutes_to_start):
    now = START - timedelta(minutes=minutes_to_start)
    booking = BookingFactory(start=START, status=status, arrived_at=now if arrived else None,
                             hold_expires_at=now + timedelta(minutes=5) if status == "held" else None)
    with time_machine.travel(now, tick=False):
        page = make_api(ReceptionistFactory()).client.get(reverse("staff:booking", args=[booking.pk])).content.decode()
        allowed = services.booking_allowed_marks(booking=booking, now=now)
    buttons = {"arrived": "Mark arrived", "attended": "Mark attended", "no_show": "Mark no-show"}
    assert [action for action, label in buttons.items() if label in page] == allowed


# Does this practitioner offer this service? ------------------------------------------------


@pytest.fixture
def offering():
    service, other = ServiceFactory(), FollowUpFactory()
    week = [(d, time(9), time(17)) for d in range(7)]
    return {
        "service": service,
        "offers": PractitionerFactory(services=[service], hours=week),
        "other_service": PractitionerFactory(services=[other], hours=week),
        "inactive": PractitionerFactory(services=[service], hours=week, active=False),
    }


def test_a_practitioner_offers_a_service_when_active_and_it_is_theirs(offering):
    service = offering["service"]
    assert offering["offers"].offers(service)
    assert not offering["other_service"].offers(service)
    assert not offering["inactive"].offers(service)
    assert list(Practitioner.objects.offering(service)) == [offering["offers"]]


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
@pytest.mark.parametrize("who", ["other_service", "inactive"])
def test_api_desk_form_hold_and_move_all_refuse_a_practitioner_who_does_not_offer_it(offering, who):
    service, practitioner = offering["service"], offering[who]
    response = make_api().get("/api/v1/availability/", {
        "service": service.slug, "date_from": "2027-01-12", "date_to": "2027-01-12", "practitioner": practitioner.pk,
    })
    assert response.status_code == 400 and response.json()["code"] == "unknown_practitioner"
    form = BookForm(data={
        "service": service.pk, "practitioner": practitioner.pk, "date": "2027-01-12", "time": "10:00",
        "patient_id": UserFactory().pk, "payment": "clinic", "hold_minutes": 1440,
    }, practitioners=Practitioner.objects.all())
    assert not form.is_valid()
    assert f"{practitioner.name} does not offer {service.name}." in str(form.errors)
    with pytest.raises(InvalidSlot, match="does not offer"):
        services.booking_hold(patient=UserFactory(), service=service, start=START, practitioner=practitioner,
                              source=Booking.Source.RECEPTION)
    booking = services.booking_hold(patient=UserFactory(), service=service, start=START,
                                    practitioner=offering["offers"], source=Booking.Source.RECEPTION)
    with pytest.raises(InvalidSlot, match="does not offer"):
        services.booking_reschedule(booking=booking, start=START + timedelta(hours=3), practitioner=practitioner,
                                    by_staff=True)
