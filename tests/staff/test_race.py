"""Reception cannot double-book either: the same booking_hold, the same locks, the database decides.

Real threads, each with its own database connection. On PostgreSQL the
practitioner row lock and the exclusion constraint decide; on SQLite the
IMMEDIATE transactions serialise the writers.
"""

import threading
from datetime import datetime, time, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from booking.availability import LONDON
from booking.exceptions import SlotTaken
from booking.models import Booking
from booking.staff import services as desk
from payments.models import Payment
from tests.factories import FollowUpFactory, PractitionerFactory, ReceptionistFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.booking, pytest.mark.postgres]

THREADS = 6


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait()
            result = ("ok", call())
        except SlotTaken as exc:
            result = ("taken", exc)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            result = ("error", repr(exc))
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


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
    outcomes = _race(calls)
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok"] + ["taken"] * (THREADS - 1), outcomes
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
    outcomes = _race(calls)
    assert sorted(kind for kind, _ in outcomes) == ["ok"] + ["taken"] * (THREADS - 1), outcomes
    assert Booking.objects.blocking().count() == 1



def _outcome_kinds(outcomes):
    return sorted(kind if kind != "error" else payload for kind, payload in outcomes)


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

    outcomes = _race([block, book])
    assert _outcome_kinds(outcomes) == ["ok", "taken"], outcomes
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

    outcomes = _race([shorten, book])
    assert _outcome_kinds(outcomes) == ["ok", "taken"], outcomes
    # Whoever won, no live booking sits outside the hours now in force.
    live = list(Booking.objects.blocking())
    assert desk.working_hours_check(practitioner=physio, rows=[
        desk.HoursRow(r.weekday, r.start_time, r.end_time)
        for r in physio.working_hours.filter(valid_until__isnull=True)
    ], effective_from=day) == []
    assert len(live) <= 1
