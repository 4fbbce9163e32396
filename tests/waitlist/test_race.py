"""Waitlist offers accepted at once for one slot give one booking (the database decides).

Each patient was offered the same Wednesday slot in turn, and each hold
lapsed; then they all come back and accept at the same moment, in real
threads with their own connections (tests/races.py). waitlist_offer_accept goes through
booking_hold, so the practitioner lock and PostgreSQL's exclusion constraint
(SQLite: IMMEDIATE transactions) let exactly one in.
"""

from datetime import time, timedelta
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone

from booking.models import Booking
from tests.shared import EVERY_DAY, next_week_at
from tests.factories import FollowUpFactory, PractitionerFactory, UserFactory
from tests.races import race, split
from waitlist import services
from waitlist.exceptions import OfferGone

pytestmark = [pytest.mark.booking]

def accept_race(count: int):
    service = FollowUpFactory()
    physio = PractitionerFactory(services=[service], hours=EVERY_DAY)
    start = next_week_at(time(10))
    day = start.date()
    offered_at = timezone.now() - timedelta(hours=count)
    offers = []
    for i in range(count):
        entry = services.waitlist_join(patient=UserFactory(), service=service, date_from=day, date_to=day,
                                       now=offered_at)
        # Offered in turn, each after the previous hold (15 minutes) lapsed.
        offers.append(services.waitlist_offer_make(entry=entry, practitioner=physio, start=start,
                                                   now=offered_at + timedelta(minutes=16 * i)))
    now = timezone.now()
    assert all(offer.state(now) == "lapsed" for offer in offers)

    won, gone = split(race(*(partial(services.waitlist_offer_accept, offer=offer, now=now) for offer in offers)),
                      OfferGone)
    assert len(won) == 1 and len(gone) == count - 1
    assert all(g.code == "offer_gone" for g in gone)
    assert Booking.objects.blocking(now).filter(practitioner=physio, start=start).count() == 1
    assert won[0].status == Booking.Status.HELD and won[0].start == start


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_waitlist_offers_accepted_at_once_give_one_booking_postgres():
    accept_race(2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_waitlist_offers_accepted_at_once_give_one_booking_postgres():
    accept_race(8)


@pytest.mark.django_db(transaction=True)
def test_waitlist_offers_accepted_at_once_give_one_booking_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite run of this race (PostgreSQL has its own test)")
    accept_race(4)


def offer_race(count: int):
    """Freed-time handlers (or reception) offering one slot to different patients at once: one offer, one hold."""
    from booking.exceptions import SlotTaken
    from waitlist.models import WaitlistOffer

    service = FollowUpFactory()
    physio = PractitionerFactory(services=[service], hours=EVERY_DAY)
    start = next_week_at(time(10))
    day = start.date()
    entries = [services.waitlist_join(patient=UserFactory(), service=service, date_from=day, date_to=day)
               for _ in range(count)]
    made, _ = split(race(*(
        partial(services.waitlist_offer_make, entry=entry, practitioner=physio, start=start) for entry in entries
    )), SlotTaken)
    assert len(made) == 1
    assert WaitlistOffer.objects.count() == 1
    assert Booking.objects.filter(start=start).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_slot_offered_to_many_at_once_is_held_for_one_postgres():
    offer_race(8)
