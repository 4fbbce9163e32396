"""Reception cannot double-book either: the same booking_hold, the same locks, the database decides.

Real threads, each with its own database connection (tests/races.py). On PostgreSQL the
practitioner row lock and the exclusion constraint decide; on SQLite the
IMMEDIATE transactions serialise the writers.
"""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from booking.availability import LONDON
from booking.exceptions import SlotTaken
from booking.models import Booking
from booking.staff import services as desk
from payments.models import Payment
from tests.factories import FollowUpFactory, PractitionerFactory, ReceptionistFactory, UserFactory
from tests.races import race, split

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.booking, pytest.mark.postgres]

THREADS = 6


def kinds(results) -> list[str]:
    """Sorted "ok" and "taken" (SlotTaken) of a race; any other exception fails the test."""
    won, taken = split(results, SlotTaken)
    return sorted(["ok"] * len(won) + ["taken"] * len(taken))


@pytest.fixture
def desk_setup():
    follow_up = FollowUpFactory()
    physio = PractitionerFactory(services=[follow_up], hours=[(d, time(0), time(23, 45)) for d in range(7)])
    receptionists = [ReceptionistFactory() for _ in range(2)]
    patients = [UserFactory(password=None) for _ in range(THREADS)]
    tomorrow = timezone.localtime(timezone.now(), LONDON).date() + timedelta(days=1)
    return follow_up, physio, receptionists, patients, datetime.combine(tomorrow, time(10), tzinfo=LONDON)


@pytest.mark.parametrize("payment", [desk.PAY_AT_CLINIC, desk.PAY_BY_LINK])
def test_reception_desks_racing_for_one_slot_book_it_once(desk_setup, payment):
    follow_up, physio, receptionists, patients, start = desk_setup
    calls = [
        # Overlapping starts, not only equal ones: 10:00 and 10:15 for a 30-minute service.
        (lambda i=i: desk.reception_book(
            patient=patients[i], service=follow_up, practitioner=physio,
            start=start + timedelta(minutes=15 * (i % 2)), payment=payment, actor=receptionists[i % 2],
            hold_minutes=60,
        ))
        for i in range(THREADS)
    ]
    results = race(*calls)
    assert kinds(results) == ["ok"] + ["taken"] * (THREADS - 1), results
    assert Booking.objects.blocking().count() == 1
    if payment == desk.PAY_AT_CLINIC:
        # The losers wrote nothing: one booking, confirmed with the amount still due, no payment yet.
        assert Payment.objects.count() == 0
        assert Booking.objects.count() == 1
        assert Booking.objects.get().status == Booking.Status.CONFIRMED


def test_reception_and_online_race_for_one_slot(desk_setup):
    from booking import services as booking_services

    follow_up, physio, receptionists, patients, start = desk_setup
    calls = []
    for i in range(THREADS):
        if i % 2:
            calls.append(lambda i=i: booking_services.booking_hold(
                patient=patients[i], service=follow_up, start=start, practitioner=physio))
        else:
            calls.append(lambda i=i: desk.reception_book(
                patient=patients[i], service=follow_up, practitioner=physio, start=start,
                payment=desk.PAY_AT_CLINIC, actor=receptionists[0]))
    results = race(*calls)
    assert kinds(results) == ["ok"] + ["taken"] * (THREADS - 1), results
    assert Booking.objects.blocking().count() == 1



@pytest.mark.parametrize("attempt", range(3))
def test_time_off_and_a_booking_racing_never_both_win(desk_setup, attempt):
    follow_up, physio, receptionists, patients, start = desk_setup

    def block():
        try:
            return desk.time_off_create(practitioner=physio, start=start, end=start + timedelta(hours=1),
                                        reason="training", actor=receptionists[0])
        except desk.BookingsInTheWay as exc:
            raise SlotTaken("time off refused") from exc

    def book():
        return desk.reception_book(patient=patients[0], service=follow_up, practitioner=physio, start=start,
                                   payment=desk.PAY_AT_CLINIC, actor=receptionists[1])

    results = race(block, book)
    assert kinds(results) == ["ok", "taken"], results
    from booking.models import TimeOff

    assert TimeOff.objects.count() + Booking.objects.blocking().count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_working_hours_change_and_a_booking_racing_never_orphan(desk_setup, attempt):
    follow_up, physio, receptionists, patients, start = desk_setup
    late = start.replace(hour=16)
    day = start.date()
    mornings = [desk.HoursRow(d, time(9), time(13)) for d in range(7)]

    def shorten():
        try:
            return desk.working_hours_replace(practitioner=physio, rows=mornings, effective_from=day,
                                              actor=receptionists[0])
        except desk.BookingsInTheWay as exc:
            raise SlotTaken("hours change refused") from exc

    def book():
        return desk.reception_book(patient=patients[0], service=follow_up, practitioner=physio, start=late,
                                   payment=desk.PAY_AT_CLINIC, actor=receptionists[1])

    results = race(shorten, book)
    assert kinds(results) == ["ok", "taken"], results
    # Whoever won, no live booking sits outside the hours now in force.
    live = list(Booking.objects.blocking())
    assert desk.working_hours_check(practitioner=physio, rows=[
        desk.HoursRow(r.weekday, r.start_time, r.end_time)
        for r in physio.working_hours.filter(valid_until__isnull=True)
    ], effective_from=day) == []
    assert len(live) <= 1
