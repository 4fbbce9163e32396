"""Two patients move their bookings to the same free slot at the same moment: one wins."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection

from booking import services
from booking.availability import LONDON
from booking.exceptions import SlotTaken
from booking.models import Booking
from tests.factories import BookingFactory, UserFactory

pytestmark = [pytest.mark.booking, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_patients_rescheduling_to_the_same_slot_one_wins(clinic):
    service, physio = clinic
    now = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)
    first = BookingFactory(patient=UserFactory(), service=service, practitioner=physio,
                           start=datetime(2027, 1, 14, 9, 0, tzinfo=LONDON))
    second = BookingFactory(patient=UserFactory(), service=service, practitioner=physio,
                            start=datetime(2027, 1, 14, 13, 0, tzinfo=LONDON))
    target = datetime(2027, 1, 15, 11, 0, tzinfo=LONDON)
    barrier = threading.Barrier(2)
    outcomes, errors = {}, []

    def move(booking):
        try:
            barrier.wait()
            services.booking_reschedule(booking=booking, start=target, actor=booking.patient, now=now)
            outcomes[booking.pk] = "moved"
        except SlotTaken as taken:
            outcomes[booking.pk] = ("taken", taken.alternatives)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(b,)) for b in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(v if v == "moved" else v[0] for v in outcomes.values()) == ["moved", "taken"]
    loser = next(pk for pk, v in outcomes.items() if v != "moved")
    assert outcomes[loser][1], "the loser is offered the nearest free times"
    at_target = Booking.objects.filter(start=target, status=Booking.Status.CONFIRMED)
    assert at_target.count() == 1
    # The loser keeps their original time.
    loser_booking = Booking.objects.get(pk=loser)
    assert loser_booking.start in (first.start, second.start)
    assert loser_booking.start != target and loser_booking.end - loser_booking.start == timedelta(minutes=45)
