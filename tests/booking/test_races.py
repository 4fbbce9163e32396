"""Double-booking safety under real concurrency.

Twenty threads, each with its own database connection, are released together
(tests/races.py) and all call booking_hold. The same bodies run on PostgreSQL
(row lock + exclusion constraint) and on SQLite (IMMEDIATE transactions).
"""

from datetime import time, timedelta
from functools import partial

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from booking import availability, services
from booking.exceptions import SlotTaken
from booking.models import Booking
from tests.shared import EVERY_DAY, INTAKE, next_week_at
from tests.factories import BookingFactory, PractitionerFactory, ServiceFactory, UserFactory
from tests.races import race, split

pytestmark = [pytest.mark.booking]

THREADS = 20


def arrange(practitioners: int = 1):
    service = ServiceFactory()  # 45 min + 15 min buffer: each booking blocks an hour
    physios = [PractitionerFactory(services=[service], hours=EVERY_DAY) for _ in range(practitioners)]
    patients = [UserFactory() for _ in range(THREADS)]
    return service, physios, patients


def hold_race(patients, starts, **hold) -> tuple[list, list]:
    """Each patient holds their start, all at once: (the bookings made, the SlotTaken refusals)."""
    return split(race(*(
        partial(services.booking_hold, patient=patient, start=start, intake=INTAKE, **hold)
        for patient, start in zip(patients, starts, strict=True)
    )), SlotTaken)


@pytest.mark.django_db(transaction=True)
def test_same_start_race(each_database):
    service, [physio], patients = arrange()
    start = next_week_at(time(10))
    won, lost = hold_race(patients, [start] * THREADS, service=service, practitioner=physio)
    assert len(won) == 1
    assert len(lost) == THREADS - 1
    assert all(refusal.code == "slot_taken" for refusal in lost)
    # The loser is offered the nearest free times, none of them the taken one.
    assert all(refusal.alternatives for refusal in lost)
    assert all(slot.start != start for refusal in lost for slot in refusal.alternatives)
    assert Booking.objects.blocking().filter(practitioner=physio).count() == 1
    assert Booking.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_overlapping_starts_race(each_database):
    service, [physio], patients = arrange()
    # 10:00, 10:15, 10:30, 10:45 (repeated): every pair overlaps, since each
    # booking blocks an hour (45 minutes + 15 minutes' buffer).
    starts = [next_week_at(time(10)) + timedelta(minutes=15 * (i % 4)) for i in range(THREADS)]
    won, lost = hold_race(patients, starts, service=service, practitioner=physio)
    assert len(won) == 1
    assert len(lost) == THREADS - 1
    assert Booking.objects.blocking().filter(practitioner=physio).count() == 1
    assert Booking.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_any_practitioner_race(each_database):
    service, physios, patients = arrange(practitioners=2)
    start = next_week_at(time(10))
    won, lost = hold_race(patients, [start] * THREADS, service=service)
    assert len(won) == 2
    assert len(lost) == THREADS - 2
    assert {booking.practitioner_id for booking in won} == {physio.pk for physio in physios}
    assert Booking.objects.blocking().count() == 2
    assert Booking.objects.count() == 2


# --- PostgreSQL only: the exclusion constraint ---------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_exclusion_constraint_refuses_overlap_behind_the_services_back():
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service])
    start = next_week_at(time(10))
    BookingFactory(practitioner=physio, service=service, start=start)
    # Starts inside the first one's buffer (10:45-11:00).
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory(practitioner=physio, service=service, start=start + timedelta(minutes=45))
    # A lapsed hold is still in the constraint until marked expired...
    with pytest.raises(IntegrityError), transaction.atomic():
        BookingFactory(
            practitioner=physio, service=service, start=start, status=Booking.Status.HELD,
            hold_expires_at=timezone.now() - timedelta(hours=1),
        )
    # ...while the range is half-open, other practitioners are independent, and
    # cancelled or expired bookings are outside it.
    BookingFactory(practitioner=physio, service=service, start=start + timedelta(hours=1))
    BookingFactory(practitioner=PractitionerFactory(services=[service]), service=service, start=start)
    BookingFactory(practitioner=physio, service=service, start=start, status=Booking.Status.CANCELLED)
    BookingFactory(practitioner=physio, service=service, start=start, status=Booking.Status.EXPIRED)
    assert Booking.objects.filter(practitioner=physio, status=Booking.Status.CONFIRMED).count() == 2


@pytest.mark.postgres
@pytest.mark.django_db
def test_exclusion_constraint_checks_moves_too():
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service])
    start = next_week_at(time(10))
    BookingFactory(practitioner=physio, service=service, start=start)
    later = BookingFactory(practitioner=physio, service=service, start=start + timedelta(hours=2))
    later.start = start + timedelta(minutes=30)
    later.end = later.start + timedelta(minutes=45)
    later.blocks_until = later.end + timedelta(minutes=15)
    with pytest.raises(IntegrityError), transaction.atomic():
        later.save()


@pytest.mark.postgres
@pytest.mark.django_db
def test_exclusion_constraint_has_the_last_word_and_becomes_slot_taken(monkeypatch):
    """If the service's own check were ever wrong, the database still refuses, and the patient gets slot_taken."""
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service], hours=EVERY_DAY)
    start = next_week_at(time(10))
    BookingFactory(practitioner=physio, service=service, start=start)
    monkeypatch.setattr(availability, "is_free", lambda **kwargs: True)
    with transaction.atomic():  # a caller's transaction stays usable after the refusal
        with pytest.raises(SlotTaken) as refusal:
            services.booking_hold(
                patient=UserFactory(), service=service, start=start + timedelta(minutes=30), practitioner=physio,
                intake=INTAKE,
            )
        assert Booking.objects.count() == 1
    assert refusal.value.code == "slot_taken"
    assert refusal.value.alternatives
