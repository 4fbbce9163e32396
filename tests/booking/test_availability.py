"""The availability rules, checked in London wall-clock time.

Every test freezes the clock (time_machine, tick=False) so notice and horizon
are exact, and names slots by their local reading: `at(day, "09:15")`.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from booking import availability
from booking.models import Booking, WorkingHours
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    PractitionerFactory,
    ServiceFactory,
    TimeOffFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

LONDON = availability.LONDON
MONDAY = date(2027, 1, 11)
TUESDAY = date(2027, 1, 12)
# Monday 08:00 London (GMT): two hours' notice means nothing before 10:00 today.
NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)
frozen = time_machine.travel(NOW, tick=False)


def at(day: date, clock: str, fold: int = 0) -> datetime:
    hour, minute = map(int, clock.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON).replace(fold=fold)


def local_clocks(slots, day: date | None = None) -> list[str]:
    return [
        f"{s.local_start:%H:%M}"
        for s in slots
        if day is None or s.local_start.date() == day
    ]


def clocks(first: str, last: str, step: int = 15) -> list[str]:
    """Every local reading from first to last inclusive, `step` minutes apart."""
    current = datetime.combine(MONDAY, time(*map(int, first.split(":"))))
    end = datetime.combine(MONDAY, time(*map(int, last.split(":"))))
    out = []
    while current <= end:
        out.append(f"{current:%H:%M}")
        current += timedelta(minutes=step)
    return out


def slots_on(service, day, **kwargs):
    return availability.free_slots(service=service, date_from=day, date_to=day, **kwargs)


@pytest.fixture
def assessment():
    """45 minutes with the patient + 15 minutes' buffer: occupies an hour."""
    return ServiceFactory()


@pytest.fixture
def follow_up():
    """30 minutes, no buffer."""
    return FollowUpFactory()


# --- working hours ---------------------------------------------------------


@frozen
def test_slots_fill_working_hours_on_the_grid(assessment):
    PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(12))])
    slots = slots_on(assessment, TUESDAY)
    # The last start whose hour (45 + 15 buffer) still ends by 12:00 is 11:00.
    assert local_clocks(slots) == clocks("09:00", "11:00")
    assert all(s.end - s.start == timedelta(minutes=45) for s in slots)
    # Not a working day: nothing.
    assert slots_on(assessment, TUESDAY + timedelta(days=1)) == []


@frozen
def test_several_intervals_a_day(assessment):
    weekday = TUESDAY.weekday()
    PractitionerFactory(
        services=[assessment], hours=[(weekday, time(9), time(12)), (weekday, time(13), time(17, 30))]
    )
    assert local_clocks(slots_on(assessment, TUESDAY)) == clocks("09:00", "11:00") + clocks("13:00", "16:30")


@frozen
def test_overlapping_hours_rows_offer_each_start_once(follow_up):
    weekday = TUESDAY.weekday()
    PractitionerFactory(services=[follow_up], hours=[(weekday, time(9), time(11)), (weekday, time(10), time(12))])
    assert local_clocks(slots_on(follow_up, TUESDAY)) == clocks("09:00", "11:30")


@frozen
def test_valid_from_and_valid_until(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[])
    weekday = TUESDAY.weekday()
    # Mornings up to and including 19 January, afternoons from 26 January.
    WorkingHours.objects.create(
        practitioner=physio, weekday=weekday, start_time=time(9), end_time=time(10), valid_until=date(2027, 1, 19)
    )
    WorkingHours.objects.create(
        practitioner=physio, weekday=weekday, start_time=time(14), end_time=time(15), valid_from=date(2027, 1, 26)
    )
    slots = availability.free_slots(service=follow_up, date_from=TUESDAY, date_to=date(2027, 2, 2))
    by_day = {}
    for slot in slots:
        by_day.setdefault(slot.local_start.date(), []).append(f"{slot.local_start:%H:%M}")
    assert by_day == {
        date(2027, 1, 12): ["09:00", "09:15", "09:30"],
        date(2027, 1, 19): ["09:00", "09:15", "09:30"],
        date(2027, 1, 26): ["14:00", "14:15", "14:30"],
        date(2027, 2, 2): ["14:00", "14:15", "14:30"],
    }


# --- buffers -----------------------------------------------------------------


@frozen
def test_candidates_own_buffer_must_fit_in_working_hours(assessment):
    no_buffer = ServiceFactory(name="Assessment without buffer", buffer_after=0)
    PractitionerFactory(services=[assessment, no_buffer], hours=[(TUESDAY.weekday(), time(9), time(10))])
    assert local_clocks(slots_on(assessment, TUESDAY)) == ["09:00"]
    assert local_clocks(slots_on(no_buffer, TUESDAY)) == ["09:00", "09:15"]


@frozen
def test_candidates_own_buffer_must_not_run_into_a_booking(assessment, follow_up):
    physio = PractitionerFactory(services=[assessment, follow_up], hours=[(TUESDAY.weekday(), time(9), time(13))])
    BookingFactory(practitioner=physio, service=follow_up, start=at(TUESDAY, "11:00"))  # 11:00-11:30, no buffer
    # 10:00 + 45 + 15 buffer = 11:00 fits; 10:15 would need 10:15-11:15.
    free = local_clocks(slots_on(assessment, TUESDAY))
    assert "10:00" in free
    assert "10:15" not in free
    assert "11:30" in free


@frozen
def test_existing_bookings_buffer_blocks_the_time_after_it(assessment, follow_up):
    physio = PractitionerFactory(services=[assessment, follow_up], hours=[(TUESDAY.weekday(), time(9), time(13))])
    booking = BookingFactory(practitioner=physio, service=assessment, start=at(TUESDAY, "10:00"))
    assert booking.blocks_until == at(TUESDAY, "11:00")
    free = local_clocks(slots_on(follow_up, TUESDAY))
    assert free == clocks("09:00", "09:30") + clocks("11:00", "12:30")


# --- time off ----------------------------------------------------------------


@frozen
def test_time_off_blocks_overlapping_slots(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(17))])
    TimeOffFactory(practitioner=physio, start=at(TUESDAY, "12:00"), end=at(TUESDAY, "14:00"))
    free = local_clocks(slots_on(assessment, TUESDAY))
    assert free == clocks("09:00", "11:00") + clocks("14:00", "16:00")


@frozen
def test_time_off_off_the_grid_blocks_by_the_second(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(13))])
    start = at(TUESDAY, "11:00") - timedelta(seconds=30)  # 10:59:30
    TimeOffFactory(practitioner=physio, start=start, end=start + timedelta(hours=1))
    # 10:00 would run (with its buffer) to 11:00, 30 seconds into the time off.
    assert local_clocks(slots_on(assessment, TUESDAY)) == clocks("09:00", "09:45") + ["12:00"]


@frozen
def test_working_hours_off_the_grid_start_on_the_next_grid_line(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9, 10), time(10, 40))])
    # Slots stay on the clinic's grid (booking_hold refuses anything else).
    assert local_clocks(slots_on(follow_up, TUESDAY)) == ["09:15", "09:30", "09:45", "10:00"]


@frozen
def test_time_off_over_several_days_blocks_them_all(follow_up):
    physio = PractitionerFactory(services=[follow_up])  # Monday to Saturday 09:00-17:00
    TimeOffFactory(practitioner=physio, start=at(TUESDAY, "00:00"), end=at(date(2027, 1, 15), "00:00"))
    slots = availability.free_slots(service=follow_up, date_from=TUESDAY, date_to=date(2027, 1, 15))
    assert {s.local_start.date() for s in slots} == {date(2027, 1, 15)}


# --- existing bookings ------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "hold_minutes", "blocks"),
    [
        (Booking.Status.CONFIRMED, None, True),
        (Booking.Status.ATTENDED, None, True),
        (Booking.Status.HELD, 10, True),  # hold still running
        (Booking.Status.HELD, 0, False),  # hold lapsed this instant, clean-up not yet run
        (Booking.Status.HELD, -30, False),  # hold lapsed long ago, clean-up not yet run
        (Booking.Status.CANCELLED, None, False),
        (Booking.Status.EXPIRED, None, False),
        (Booking.Status.NO_SHOW, None, False),
    ],
)
@frozen
def test_which_bookings_block(assessment, status, hold_minutes, blocks):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(12))])
    BookingFactory(
        practitioner=physio,
        service=assessment,
        start=at(TUESDAY, "10:00"),
        status=status,
        hold_expires_at=NOW + timedelta(minutes=hold_minutes) if hold_minutes is not None else None,
    )
    free = local_clocks(slots_on(assessment, TUESDAY))
    if blocks:
        # 10:00-11:00 taken (with its buffer): the only hours left are 09:00 and 11:00.
        assert free == ["09:00", "11:00"]
    else:
        assert free == clocks("09:00", "11:00")


@frozen
def test_another_practitioners_booking_does_not_block(assessment):
    weekday = TUESDAY.weekday()
    mine = PractitionerFactory(services=[assessment], hours=[(weekday, time(9), time(10))])
    other = PractitionerFactory(services=[assessment], hours=[(weekday, time(9), time(10))])
    BookingFactory(practitioner=other, service=assessment, start=at(TUESDAY, "09:00"))
    slots = slots_on(assessment, TUESDAY)
    assert [(s.local_start.strftime("%H:%M"), s.practitioner_id) for s in slots] == [("09:00", mine.pk)]


@frozen
def test_exclude_booking_id_frees_its_own_time(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(10))])
    booking = BookingFactory(practitioner=physio, service=assessment, start=at(TUESDAY, "09:00"))
    assert slots_on(assessment, TUESDAY) == []
    assert local_clocks(slots_on(assessment, TUESDAY, exclude_booking_id=booking.pk)) == ["09:00"]


# --- notice and horizon -----------------------------------------------------


@frozen
def test_minimum_notice_is_two_hours(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    # Now is 08:00: 10:00 is exactly two hours away and is the first slot offered.
    assert local_clocks(slots_on(follow_up, MONDAY)) == clocks("10:00", "11:30")
    # Reception (no notice rule) may book 09:00, but never the past.
    assert local_clocks(slots_on(follow_up, MONDAY, enforce_notice=False)) == clocks("09:00", "11:30")


@frozen
def test_minimum_notice_between_grid_lines(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    with time_machine.travel(at(MONDAY, "08:01"), tick=False):
        assert local_clocks(slots_on(follow_up, MONDAY)) == clocks("10:15", "11:30")


@frozen
def test_horizon_is_sixty_days(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(day, time(8), time(9)) for day in range(7)])
    last_day = MONDAY + timedelta(days=60)  # 12 March 2027; now + 60 days is 08:00 that day
    slots = availability.free_slots(service=follow_up, date_from=last_day - timedelta(days=1), date_to=last_day + timedelta(days=3))
    assert local_clocks(slots, last_day - timedelta(days=1)) == ["08:00", "08:15", "08:30"]
    # 08:00 is exactly 60 days ahead and still offered; later starts are not.
    assert local_clocks(slots, last_day) == ["08:00"]
    assert local_clocks(slots, last_day + timedelta(days=1)) == []
    # A range entirely beyond the horizon costs nothing.
    assert availability.free_slots(service=follow_up, date_from=last_day + timedelta(days=5), date_to=last_day + timedelta(days=9)) == []


# --- any practitioner ------------------------------------------------------


@frozen
def test_any_practitioner_merges_and_orders_by_start_then_practitioner(follow_up):
    weekday = TUESDAY.weekday()
    late = PractitionerFactory(services=[follow_up], hours=[(weekday, time(9, 30), time(10, 30))])
    early = PractitionerFactory(services=[follow_up], hours=[(weekday, time(9), time(10))])
    PractitionerFactory(services=[], hours=[(weekday, time(9), time(10))])  # does not offer it
    PractitionerFactory(services=[follow_up], hours=[(weekday, time(9), time(10))], active=False)
    slots = slots_on(follow_up, TUESDAY)
    assert [(f"{s.local_start:%H:%M}", s.practitioner_id) for s in slots] == [
        ("09:00", early.pk),
        ("09:15", early.pk),
        ("09:30", late.pk),
        ("09:30", early.pk),
        ("09:45", late.pk),
        ("10:00", late.pk),
    ]
    assert late.pk < early.pk  # so the tie at 09:30 is ordered by practitioner id, not by creation
    assert slots == sorted(slots, key=lambda s: (s.start, s.practitioner_id))
    only_late = slots_on(follow_up, TUESDAY, practitioner_ids=[late.pk])
    assert {s.practitioner_id for s in only_late} == {late.pk}
    assert local_clocks(only_late) == ["09:30", "09:45", "10:00"]


@frozen
def test_is_free_and_nearest_free(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(12))])
    BookingFactory(practitioner=physio, service=assessment, start=at(TUESDAY, "10:00"))
    assert availability.is_free(service=assessment, practitioner=physio, start=at(TUESDAY, "09:00"))
    assert not availability.is_free(service=assessment, practitioner=physio, start=at(TUESDAY, "10:30"))
    nearest = availability.nearest_free(service=assessment, start=at(TUESDAY, "10:30"), count=2)
    assert [s.local_start for s in nearest] == [at(TUESDAY, "09:00"), at(TUESDAY, "11:00")]


# --- daylight saving: London's clock changes in 2027 -----------------------

SPRING = date(2027, 3, 28)  # Sunday: 01:00 GMT -> 02:00 BST, 01:00-01:59 local never happens
AUTUMN = date(2027, 10, 31)  # Sunday: 02:00 BST -> 01:00 GMT, 01:00-01:59 local happens twice


@pytest.mark.parametrize(("day", "utc_hour"), [(SPRING, 8), (AUTUMN, 9)])
def test_dst_days_keep_working_hours_in_local_time(follow_up, day, utc_hour):
    PractitionerFactory(services=[follow_up], hours=[(6, time(9), time(12))])
    with time_machine.travel(datetime.combine(day - timedelta(days=3), time(12), tzinfo=LONDON), tick=False):
        slots = slots_on(follow_up, day)
    assert local_clocks(slots) == clocks("09:00", "11:30")
    assert slots[0].start == datetime.combine(day, time(utc_hour), tzinfo=UTC)
    assert slots[-1].end == datetime.combine(day, time(utc_hour + 3), tzinfo=UTC)
    # Every slot lasts 30 real minutes and the grid steps 15 real minutes.
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)
    assert all(b.start - a.start == timedelta(minutes=15) for a, b in zip(slots, slots[1:]))


@pytest.mark.parametrize(("day", "utc_hour"), [(SPRING, 8), (AUTUMN, 9)])
def test_dst_days_sunday_hours_do_not_leak_into_saturday(follow_up, day, utc_hour):
    PractitionerFactory(services=[follow_up], hours=[(6, time(9), time(12))])
    with time_machine.travel(datetime.combine(day - timedelta(days=3), time(12), tzinfo=LONDON), tick=False):
        slots = availability.free_slots(service=follow_up, date_from=day - timedelta(days=1), date_to=day + timedelta(days=1))
    assert {s.local_start.date() for s in slots} == {day}


def test_spring_forward_never_offers_the_missing_hour(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(3))])
    with time_machine.travel(datetime(2027, 3, 25, 12, tzinfo=LONDON), tick=False):
        slots = slots_on(follow_up, SPRING)
    local = local_clocks(slots)
    assert not {"01:00", "01:15", "01:30", "01:45"} & set(local)
    # 00:00-03:00 on the wall is two real hours (00:00-02:00 UTC): the 30-minute
    # slots that fit start 00:00..00:45 GMT and 02:00..02:30 BST.
    assert local == ["00:00", "00:15", "00:30", "00:45", "02:00", "02:15", "02:30"]
    assert [s.start.astimezone(UTC).strftime("%H:%M") for s in slots] == [
        "00:00", "00:15", "00:30", "00:45", "01:00", "01:15", "01:30"
    ]
    assert all(s.end - s.start == timedelta(minutes=30) for s in slots)
    assert all(s.end <= datetime(2027, 3, 28, 2, tzinfo=UTC) for s in slots)
    # 00:45 GMT + 30 real minutes ends at 02:15 BST: it does not collide with 02:00's slot twice.
    assert len(set(s.start for s in slots)) == len(slots)


def test_fall_back_offers_the_ambiguous_hour_once(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(3))])
    with time_machine.travel(datetime(2027, 10, 28, 12, tzinfo=LONDON), tick=False):
        slots = slots_on(follow_up, AUTUMN)
    local = local_clocks(slots)
    for clock in ("01:00", "01:15", "01:30", "01:45"):
        assert local.count(clock) == 1, clock
    assert local == clocks("00:00", "02:30")
    # Each start is a distinct instant; the ambiguous readings are the first (BST) ones.
    assert len({s.start for s in slots}) == len(slots)
    one_am = next(s for s in slots if f"{s.local_start:%H:%M}" == "01:00")
    assert one_am.start == datetime(2027, 10, 31, 0, 0, tzinfo=UTC)
    assert one_am.local_start.utcoffset() == timedelta(hours=1)
    two_am = next(s for s in slots if f"{s.local_start:%H:%M}" == "02:00")
    assert two_am.start == datetime(2027, 10, 31, 2, 0, tzinfo=UTC)
    assert slots[0].start == datetime(2027, 10, 30, 23, 0, tzinfo=UTC)
    assert slots == sorted(slots)


def test_fall_back_booking_in_the_ambiguous_hour_blocks_the_right_instant(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(3))])
    # Reception booked 01:00 GMT (the second 01:00 of the night), 01:00-01:30 UTC.
    BookingFactory(practitioner=physio, service=follow_up, start=datetime(2027, 10, 31, 1, 0, tzinfo=UTC))
    with time_machine.travel(datetime(2027, 10, 28, 12, tzinfo=LONDON), tick=False):
        slots = slots_on(follow_up, AUTUMN)
    starts_utc = {s.start.astimezone(UTC) for s in slots}
    # 01:30 BST (00:30-01:00 UTC) ends as the booking starts: free.
    assert datetime(2027, 10, 31, 0, 30, tzinfo=UTC) in starts_utc
    # 01:45 BST (00:45-01:15 UTC) runs into it: not offered.
    assert datetime(2027, 10, 31, 0, 45, tzinfo=UTC) not in starts_utc
    # 02:00 GMT (02:00 UTC) after it: free.
    assert datetime(2027, 10, 31, 2, 0, tzinfo=UTC) in starts_utc
    # 01:45's first reading is busy, its second (01:45 GMT, 01:45-02:15 UTC) is
    # free and inside hours: that one is offered, once.
    assert datetime(2027, 10, 31, 1, 45, tzinfo=UTC) in starts_utc
    assert local_clocks(slots) == clocks("00:00", "02:30")
