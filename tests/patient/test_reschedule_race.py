"""Two patients move their bookings to the same free slot at the same moment: one wins."""

from datetime import datetime, timedelta
from functools import partial

import pytest

from booking import services
from booking.availability import LONDON
from booking.exceptions import SlotTaken
from booking.models import Booking
from tests.factories import BookingFactory, UserFactory
from tests.races import race, split

pytestmark = [pytest.mark.booking, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_patients_rescheduling_to_the_same_slot_one_wins(clinic):
    service, physio = clinic
    now = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)
    first = BookingFactory(patient=UserFactory(), service=service, practitioner=physio,
                           start=datetime(2027, 1, 14, 9, 0, tzinfo=LONDON))
    second = BookingFactory(patient=UserFactory(), service=service, practitioner=physio,
                            start=datetime(2027, 1, 14, 13, 0, tzinfo=LONDON))
    target = datetime(2027, 1, 15, 11, 0, tzinfo=LONDON)
    results = race(*(
        partial(services.booking_reschedule, booking=booking, start=target, actor=booking.patient, now=now)
        for booking in (first, second)
    ))
    moved, taken = split(results, SlotTaken)
    assert len(moved) == 1 and len(taken) == 1, results
    assert taken[0].alternatives, "the loser is offered the nearest free times"
    loser = next(b.pk for b, result in zip((first, second), results, strict=True) if isinstance(result, SlotTaken))
    at_target = Booking.objects.filter(start=target, status=Booking.Status.CONFIRMED)
    assert at_target.count() == 1
    # The loser keeps their original time.
    loser_booking = Booking.objects.get(pk=loser)
    assert loser_booking.start in (first.start, second.start)
    assert loser_booking.start != target and loser_booking.end - loser_booking.start == timedelta(minutes=45)
