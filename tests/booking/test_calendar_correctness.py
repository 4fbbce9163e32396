"""Issue 14's calendar correctness: hours rows as one union, clock changes, real elapsed minutes.

Each rule is checked where it is applied: the engine (free_slots, booking_hold),
the staff calendar (calendar_days) and the desk's fit check for new working hours.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from booking import availability, services
from booking.calendar import calendar_days
from booking.exceptions import SlotTaken
from booking.models import Booking
from booking.staff import services as desk
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    PractitionerFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

LONDON = availability.LONDON
TUESDAY = date(2027, 1, 12)
SPRING = date(2027, 3, 28)  # 01:00 GMT -> 02:00 BST (01:00 UTC)
AUTUMN = date(2027, 10, 31)  # 02:00 BST -> 01:00 GMT (01:00 UTC)
SPLIT_SHIFT = [(TUESDAY.weekday(), time(9), time(13)), (TUESDAY.weekday(), time(13), time(17))]


def local(day: date, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=LONDON)


def clocks_of(slots) -> list[str]:
    return [f"{s.local_start:%H:%M}" for s in slots]


# --- the union of working-hours rows ----------------------------------------------------


@time_machine.travel(datetime(2027, 1, 11, 8, tzinfo=LONDON), tick=False)
def test_touching_hours_rows_offer_the_times_that_straddle_them():
    assessment = ServiceFactory()  # 45 + 15 minutes
    PractitionerFactory(services=[assessment], hours=SPLIT_SHIFT)
    offered = clocks_of(availability.free_slots(service=assessment, date_from=TUESDAY, date_to=TUESDAY))
    assert {"12:15", "12:30", "12:45"} <= set(offered)
    assert offered[0] == "09:00" and offered[-1] == "16:00" and len(offered) == 29


@time_machine.travel(datetime(2027, 1, 11, 8, tzinfo=LONDON), tick=False)
def test_overlapping_hours_rows_are_one_block():
    assessment = ServiceFactory()
    weekday = TUESDAY.weekday()
    PractitionerFactory(services=[assessment], hours=[(weekday, time(9), time(12, 30)), (weekday, time(12), time(14))])
    offered = clocks_of(availability.free_slots(service=assessment, date_from=TUESDAY, date_to=TUESDAY))
    assert offered[0] == "09:00" and offered[-1] == "13:00"
    assert "12:00" in offered and len(offered) == len(set(offered))


@time_machine.travel(datetime(2027, 1, 11, 8, tzinfo=LONDON), tick=False)
def test_booking_hold_takes_a_start_that_straddles_touching_rows():
    assessment = ServiceFactory()
    physio = PractitionerFactory(services=[assessment], hours=SPLIT_SHIFT)
    booking = services.booking_hold(
        patient=UserFactory(), service=assessment, start=local(TUESDAY, "12:30"), practitioner=physio,
        intake={"pain_areas": ["thigh"], "side": "left", "duration_weeks": 2},
    )
    assert booking.status == Booking.Status.HELD
    assert booking.blocks_until == local(TUESDAY, "13:30")


@time_machine.travel(datetime(2027, 1, 11, 8, tzinfo=LONDON), tick=False)
def test_desk_fit_check_counts_touching_rows_as_one_block():
    assessment = ServiceFactory()
    physio = PractitionerFactory(services=[assessment])  # 09:00-17:00
    straddling = BookingFactory(practitioner=physio, service=assessment, start=local(TUESDAY, "12:30").astimezone(UTC))
    late = BookingFactory(practitioner=physio, service=assessment, start=local(TUESDAY, "16:30").astimezone(UTC))
    rows = [desk.HoursRow(weekday, start, end) for weekday, start, end in SPLIT_SHIFT]
    outside = desk.working_hours_check(practitioner=physio, rows=rows, effective_from=TUESDAY)
    assert outside == [late]
    assert straddling not in outside


@time_machine.travel(datetime(2027, 1, 11, 8, tzinfo=LONDON), tick=False)
def test_staff_calendar_shows_touching_rows_as_one_working_interval():
    physio = PractitionerFactory(hours=SPLIT_SHIFT)
    (pday,) = calendar_days(date_from=TUESDAY, date_to=TUESDAY, practitioner_ids=[physio.pk])
    assert pday.working == [(local(TUESDAY, "09:00"), local(TUESDAY, "17:00"))]


# --- spring forward: a boundary in the gap is the first real instant after it ----------------


def test_hours_boundary_in_the_spring_gap_is_the_first_instant_after_it():
    assert availability.hours_boundary(SPRING, time(1, 30)) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert availability.hours_boundary(SPRING, time(1, 0)) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert availability.hours_boundary(SPRING, time(2, 0)) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert availability.hours_boundary(SPRING, time(0, 59)) == datetime(2027, 3, 28, 0, 59, tzinfo=UTC)


@time_machine.travel(datetime(2027, 3, 25, 12, tzinfo=LONDON), tick=False)
def test_spring_forward_hours_starting_in_the_gap_start_at_two_bst():
    follow_up = FollowUpFactory()
    PractitionerFactory(services=[follow_up], hours=[(6, time(1, 30), time(4))])
    slots = availability.free_slots(service=follow_up, date_from=SPRING, date_to=SPRING)
    assert slots[0].start == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # 02:00 BST, not 02:30
    assert clocks_of(slots) == ["02:00", "02:15", "02:30", "02:45", "03:00", "03:15", "03:30"]


@time_machine.travel(datetime(2027, 3, 25, 12, tzinfo=LONDON), tick=False)
def test_spring_forward_hours_ending_in_the_gap_end_at_the_change():
    follow_up = FollowUpFactory()
    PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(1, 30))])
    slots = availability.free_slots(service=follow_up, date_from=SPRING, date_to=SPRING)
    # 00:00-01:30 on the wall is 00:00-01:00 UTC: the last 30-minute slot starts 00:30 GMT.
    assert clocks_of(slots) == ["00:00", "00:15", "00:30"]
    assert all(s.end <= datetime(2027, 3, 28, 1, 0, tzinfo=UTC) for s in slots)


@time_machine.travel(datetime(2027, 3, 25, 12, tzinfo=LONDON), tick=False)
def test_staff_calendar_and_desk_fit_check_use_the_first_instant_after_the_gap():
    follow_up = FollowUpFactory()
    physio = PractitionerFactory(services=[follow_up], hours=[(6, time(1, 30), time(4))])
    (pday,) = calendar_days(date_from=SPRING, date_to=SPRING, practitioner_ids=[physio.pk])
    assert pday.working == [(datetime(2027, 3, 28, 1, 0, tzinfo=UTC), datetime(2027, 3, 28, 3, 0, tzinfo=UTC))]
    assert f"{pday.working[0][0]:%H:%M}" == "02:00"
    two_bst = BookingFactory(practitioner=physio, service=follow_up, start=datetime(2027, 3, 28, 1, 0, tzinfo=UTC))
    rows = [desk.HoursRow(6, time(1, 30), time(4))]
    assert desk.working_hours_check(practitioner=physio, rows=rows, effective_from=SPRING) == []
    later_rows = [desk.HoursRow(6, time(2, 30), time(4))]
    assert desk.working_hours_check(practitioner=physio, rows=later_rows, effective_from=SPRING) == [two_bst]


# --- fall back: the second reading when the first is busy -------------------------------------


@time_machine.travel(datetime(2027, 10, 28, 12, tzinfo=LONDON), tick=False)
def test_fall_back_second_reading_is_offered_and_bookable_when_the_first_is_busy():
    follow_up = FollowUpFactory()
    physio = PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(3))])
    # 01:15-01:45 BST is taken (00:15-00:45 UTC).
    BookingFactory(practitioner=physio, service=follow_up, start=datetime(2027, 10, 31, 0, 15, tzinfo=UTC))
    slots = availability.free_slots(service=follow_up, date_from=AUTUMN, date_to=AUTUMN)
    starts = {s.start for s in slots}
    second_one_fifteen = datetime(2027, 10, 31, 1, 15, tzinfo=UTC)  # 01:15 GMT
    assert second_one_fifteen in starts
    assert clocks_of(slots).count("01:15") == 1
    # Where both readings are free, only the first is offered.
    assert datetime(2027, 10, 31, 0, 45, tzinfo=UTC) in starts  # 01:45 BST
    assert datetime(2027, 10, 31, 1, 45, tzinfo=UTC) not in starts  # 01:45 GMT
    booking = services.booking_hold(
        patient=UserFactory(), service=follow_up, start=second_one_fifteen.astimezone(LONDON), practitioner=physio,
        source=Booking.Source.RECEPTION,
    )
    assert booking.start == second_one_fifteen


# --- fall back: both readings free ------------------------------------------------------------
# 01:30 happens twice on the fall-back night: 00:30 UTC (BST) and 01:30 UTC (GMT). A practitioner
# working 00:00-03:00 by the wall clock works four real hours, and both readings are free.
FALL_BACKS = [pytest.param(AUTUMN, id="2027-10-31"), pytest.param(date(2026, 10, 25), id="2026-10-25")]


def _readings(day: date, clock: time = time(1, 30)) -> tuple[datetime, datetime]:
    first = datetime.combine(day, clock, tzinfo=LONDON)
    return first.astimezone(UTC), first.replace(fold=1).astimezone(UTC)


def _night(day: date):
    follow_up = FollowUpFactory()  # 30 minutes, no buffer
    return follow_up, PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(3))])


@pytest.mark.parametrize("day", FALL_BACKS)
def test_fall_back_both_readings_free_offered_once_and_each_bookable(day):
    bst, gmt = _readings(day)
    assert gmt - bst == timedelta(hours=1)
    with time_machine.travel(datetime.combine(day - timedelta(days=3), time(12), tzinfo=LONDON), tick=False):
        follow_up, physio = _night(day)
        offered = availability.free_slots(service=follow_up, date_from=day, date_to=day)
        # Offered once, as the earliest free reading (design.md): the patient sees one 01:30.
        assert bst in {s.start for s in offered} and gmt not in {s.start for s in offered}
        assert clocks_of(offered).count("01:30") == 1
        # Every free instant, for the desk and for "is this instant free?": both readings.
        every = {s.start for s in availability.free_slots(service=follow_up, date_from=day, date_to=day,
                                                          every_reading=True)}
        assert {bst, gmt} <= every
        assert len(every) == len(offered) + 4  # 01:00, 01:15, 01:30 and 01:45 GMT
        for start in (bst, gmt):
            assert availability.is_free(service=follow_up, practitioner=physio, start=start)
            assert availability.services_fitting(practitioner=physio, start=start)[0].fits

        # The second reading is bookable while the first is free (online and at the desk), and then the first.
        online = services.booking_hold(patient=UserFactory(), service=follow_up, start=gmt.astimezone(LONDON),
                                       practitioner=physio)
        desk_booked = services.booking_hold(patient=UserFactory(), service=follow_up, start=bst.astimezone(LONDON),
                                            practitioner=physio, source=Booking.Source.RECEPTION)
        assert (online.start, desk_booked.start) == (gmt, bst)
        assert online.blocks_until - online.start == timedelta(minutes=30)
        # Both taken: the next free readings are 01:00 BST ... and 02:00 GMT, never a third 01:30.
        left = availability.free_slots(service=follow_up, date_from=day, date_to=day, every_reading=True)
        assert not {bst, gmt} & {s.start for s in left}
        with pytest.raises(SlotTaken):
            services.booking_hold(patient=UserFactory(), service=follow_up, start=gmt.astimezone(LONDON),
                                  practitioner=physio, source=Booking.Source.RECEPTION)
        assert Booking.objects.count() == 2


@pytest.mark.parametrize("day", FALL_BACKS)
def test_fall_back_any_practitioner_is_assigned_at_the_second_reading(day):
    bst, gmt = _readings(day)
    with time_machine.travel(datetime.combine(day - timedelta(days=3), time(12), tzinfo=LONDON), tick=False):
        follow_up, physio = _night(day)
        booking = services.booking_hold(patient=UserFactory(), service=follow_up, start=gmt.astimezone(LONDON))
        assert (booking.practitioner, booking.start) == (physio, gmt)


# --- real elapsed minutes -----------------------------------------------------------------------


@time_machine.travel(datetime(2027, 10, 28, 12, tzinfo=LONDON), tick=False)
def test_service_started_before_fall_back_blocks_real_minutes():
    long_session = ServiceFactory(name="Long session", duration=60, buffer_after=15, is_first_session=False)
    physio = PractitionerFactory(services=[long_session], hours=[(6, time(0), time(4))])
    start = datetime(2027, 10, 31, 0, 45, tzinfo=LONDON)  # 00:45 BST = 23:45 UTC on the 30th
    booking = services.booking_hold(patient=UserFactory(), service=long_session, start=start, practitioner=physio,
                                    source=Booking.Source.RECEPTION)
    booking.refresh_from_db()
    assert booking.end - booking.start == timedelta(minutes=60)
    assert booking.blocks_until - booking.start == timedelta(minutes=75)
    assert booking.blocks_until == datetime(2027, 10, 31, 1, 0, tzinfo=UTC)


@time_machine.travel(datetime(2027, 3, 25, 12, tzinfo=LONDON), tick=False)
def test_service_across_spring_forward_is_booked_for_real_minutes():
    long_session = ServiceFactory(name="Long session", duration=60, buffer_after=15, is_first_session=False)
    physio = PractitionerFactory(services=[long_session], hours=[(6, time(0), time(4))])
    start = datetime(2027, 3, 28, 0, 45, tzinfo=LONDON)  # 00:45 GMT
    booking = services.booking_hold(patient=UserFactory(), service=long_session, start=start, practitioner=physio,
                                    source=Booking.Source.RECEPTION)
    assert booking.end == datetime(2027, 3, 28, 1, 45, tzinfo=UTC)  # 02:45 BST
    assert booking.blocks_until == datetime(2027, 3, 28, 2, 0, tzinfo=UTC)


@time_machine.travel(datetime(2027, 10, 28, 12, tzinfo=LONDON), tick=False)
def test_move_across_fall_back_blocks_real_minutes():
    long_session = ServiceFactory(name="Long session", duration=60, buffer_after=15, is_first_session=False)
    physio = PractitionerFactory(services=[long_session], hours=[(6, time(0), time(4)), (0, time(9), time(17))])
    booking = BookingFactory(practitioner=physio, service=long_session,
                             start=datetime(2027, 11, 1, 10, 0, tzinfo=UTC))
    moved = services.booking_reschedule(booking=booking, start=datetime(2027, 10, 31, 0, 45, tzinfo=LONDON),
                                        by_staff=True)
    moved.refresh_from_db()
    assert moved.blocks_until - moved.start == timedelta(minutes=75)
    assert moved.blocks_until == datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
