"""Availability where a whole-second clock, one practitioner or an unused option hid a bug.

Each test closes a hole found by mutation testing (`make mutation`): the
suite passed with the grid step flipped, the practitioner filter of is_free
dropped, or nearest_free's window, ordering and options changed. Helpers and
the frozen Monday come from test_availability.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from booking import availability, services
from booking.exceptions import InvalidSlot
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    PractitionerFactory,
    ServiceFactory,
    TimeOffFactory,
    UserFactory,
)

from .test_availability import (
    MONDAY,
    NOW,
    TUESDAY,
    at,
    clocks,
    frozen,
    local_clocks,
    slots_on,
)

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

WEDNESDAY = TUESDAY + timedelta(days=1)


@pytest.fixture
def follow_up():
    """30 minutes, no buffer."""
    return FollowUpFactory()


@pytest.fixture
def assessment():
    """45 minutes + 15 minutes' buffer."""
    return ServiceFactory()


# --- sub-second clocks ----------------------------------------------------------------


def test_notice_with_a_fraction_of_a_second_on_the_clock_skips_the_grid_line_inside_it(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    # 08:00:00.25: 10:00 is a quarter of a second inside the two hours' notice.
    with time_machine.travel(NOW + timedelta(microseconds=250_000), tick=False):
        assert local_clocks(slots_on(follow_up, MONDAY)) == clocks("10:15", "11:30")


def test_notice_with_a_fraction_of_a_second_on_the_clock_when_a_booking_ends_before_it(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    # A booking 09:00-09:30 today: the free run after it starts inside the notice.
    BookingFactory(practitioner=physio, service=follow_up, start=at(MONDAY, "09:00"))
    with time_machine.travel(NOW + timedelta(microseconds=250_000), tick=False):
        assert local_clocks(slots_on(follow_up, MONDAY)) == clocks("10:15", "11:30")
    with time_machine.travel(NOW, tick=False):
        assert local_clocks(slots_on(follow_up, MONDAY)) == clocks("10:00", "11:30")


def test_a_hold_inside_the_notice_by_a_fraction_of_a_second_is_refused(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    patient = UserFactory()
    with time_machine.travel(NOW + timedelta(microseconds=250_000), tick=False):
        assert not availability.is_free(service=follow_up, practitioner=physio, start=at(MONDAY, "10:00"))
        with pytest.raises(InvalidSlot):
            services.booking_hold(patient=patient, service=follow_up, start=at(MONDAY, "10:00"), practitioner=physio)


# --- is_free: the practitioner, `now`, `enforce_notice` and a move's own booking -----------


@frozen
def test_is_free_asks_about_that_practitioner_only(follow_up):
    hours = [(TUESDAY.weekday(), time(9), time(12))]
    busy = PractitionerFactory(services=[follow_up], hours=hours)
    free = PractitionerFactory(services=[follow_up], hours=hours)
    BookingFactory(practitioner=busy, service=follow_up, start=at(TUESDAY, "10:00"))
    assert not availability.is_free(service=follow_up, practitioner=busy, start=at(TUESDAY, "10:00"))
    assert availability.is_free(service=follow_up, practitioner=free, start=at(TUESDAY, "10:00"))


@frozen
def test_is_free_judges_notice_at_the_now_it_is_given(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    assert not availability.is_free(service=follow_up, practitioner=physio, start=at(MONDAY, "09:00"))
    earlier = at(MONDAY, "07:00")
    assert availability.is_free(service=follow_up, practitioner=physio, start=at(MONDAY, "09:00"), now=earlier)


@frozen
def test_is_free_without_notice_for_staff(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    assert not availability.is_free(service=follow_up, practitioner=physio, start=at(MONDAY, "09:00"))
    assert availability.is_free(service=follow_up, practitioner=physio, start=at(MONDAY, "09:00"), enforce_notice=False)


@frozen
def test_is_free_for_a_move_ignores_the_booking_being_moved(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(12))])
    booking = BookingFactory(practitioner=physio, service=assessment, start=at(TUESDAY, "10:00"))
    # 10:15 overlaps the booking's own hour: free only for that booking's move.
    assert not availability.is_free(service=assessment, practitioner=physio, start=at(TUESDAY, "10:15"))
    assert availability.is_free(
        service=assessment, practitioner=physio, start=at(TUESDAY, "10:15"), exclude_booking_id=booking.pk
    )


@frozen
def test_a_booking_moves_a_quarter_of_an_hour_into_its_own_time(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(12))])
    booking = BookingFactory(practitioner=physio, service=assessment, start=at(TUESDAY, "10:00"))
    moved = services.booking_reschedule(booking=booking, start=at(TUESDAY, "10:15"), actor=booking.patient)
    assert moved.start == at(TUESDAY, "10:15")


# --- nearest_free -----------------------------------------------------------------------


@frozen
def test_nearest_free_picks_the_closest_starts_and_lists_them_in_time_order(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(17))])
    # Free: 09:00-10:00 (starts 09:00..09:30) and 13:00 onwards.
    BookingFactory(practitioner=physio, service=ServiceFactory(name="Long", duration=180, buffer_after=0),
                   start=at(TUESDAY, "10:00"))
    nearest = availability.nearest_free(service=follow_up, start=at(TUESDAY, "11:30"), count=3)
    # From 11:30: 13:00 is 90 minutes away, 13:15 105, 09:30 120 (09:15 135): listed in time order.
    assert [f"{s.local_start:%H:%M}" for s in nearest] == ["09:30", "13:00", "13:15"]
    assert nearest == sorted(nearest)


@frozen
def test_nearest_free_prefers_the_earlier_of_two_equally_close_starts(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(12))])
    BookingFactory(practitioner=physio, service=follow_up, start=at(TUESDAY, "10:00"))
    BookingFactory(practitioner=physio, service=follow_up, start=at(TUESDAY, "10:30"))
    # 10:00-11:00 is taken; 09:30 and 11:00 are both 45 minutes from 10:15.
    nearest = availability.nearest_free(service=follow_up, start=at(TUESDAY, "10:15"), count=1)
    assert [f"{s.local_start:%H:%M}" for s in nearest] == ["09:30"]


@frozen
def test_nearest_free_never_suggests_the_requested_start_or_one_start_twice(follow_up):
    hours = [(TUESDAY.weekday(), time(9), time(10))]
    PractitionerFactory(services=[follow_up], hours=hours)
    PractitionerFactory(services=[follow_up], hours=hours)
    # Both are free at every start, including the one asked about: 09:00 and 09:30 are
    # each 15 minutes away, for two practitioners each.
    nearest = availability.nearest_free(service=follow_up, start=at(TUESDAY, "09:15"), count=2)
    assert [s.start for s in nearest] == [at(TUESDAY, "09:00"), at(TUESDAY, "09:30")]


@frozen
def test_nearest_free_looks_a_week_either_side_and_no_further(follow_up):
    # Tuesdays only, one 30-minute slot at 09:00: 12, 19, 26 January, 2 February.
    PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(9, 30))])

    def days(start):
        return [s.local_start.date() for s in availability.nearest_free(service=follow_up, start=start, count=9)]

    # From Tuesday 19th: exactly 7 days either side, not the 19th itself.
    assert days(at(date(2027, 1, 19), "09:00")) == [date(2027, 1, 12), date(2027, 1, 26)]
    # From Wednesday 20th: the 12th is 8 days before, out of the window.
    assert days(at(date(2027, 1, 20), "09:00")) == [date(2027, 1, 19), date(2027, 1, 26)]
    # From Monday 25th: 2 February is 8 days after, out of the window.
    assert days(at(date(2027, 1, 25), "09:00")) == [date(2027, 1, 19), date(2027, 1, 26)]


@frozen
def test_nearest_free_for_a_named_practitioner_suggests_only_their_times(follow_up):
    hours = [(TUESDAY.weekday(), time(9), time(12))]
    mine = PractitionerFactory(services=[follow_up], hours=hours)
    other = PractitionerFactory(services=[follow_up], hours=hours)
    BookingFactory(practitioner=mine, service=follow_up, start=at(TUESDAY, "09:30"))
    BookingFactory(practitioner=mine, service=follow_up, start=at(TUESDAY, "10:00"))
    nearest = availability.nearest_free(service=follow_up, start=at(TUESDAY, "10:00"), practitioner=mine, count=2)
    # Mine is busy 09:30-10:30: 10:30 and 10:45 are theirs (the other is free at 09:45 and 10:15).
    assert [(f"{s.local_start:%H:%M}", s.practitioner_id) for s in nearest] == [("10:30", mine.pk), ("10:45", mine.pk)]
    anyone = availability.nearest_free(service=follow_up, start=at(TUESDAY, "10:00"), count=2)
    assert {s.practitioner_id for s in anyone} == {other.pk}


@frozen
def test_nearest_free_for_staff_offers_times_inside_the_notice(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    online = availability.nearest_free(service=follow_up, start=at(MONDAY, "09:00"), count=2)
    assert [f"{s.local_start:%H:%M}" for s in online] == ["10:00", "10:15"]
    desk = availability.nearest_free(service=follow_up, start=at(MONDAY, "09:00"), count=2, enforce_notice=False)
    assert [f"{s.local_start:%H:%M}" for s in desk] == ["09:15", "09:30"]


@frozen
def test_nearest_free_judges_notice_at_the_now_it_is_given(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    earlier = at(MONDAY, "06:00")
    nearest = availability.nearest_free(service=follow_up, start=at(MONDAY, "09:00"), count=1, now=earlier)
    assert [f"{s.local_start:%H:%M}" for s in nearest] == ["09:15"]


@frozen
def test_a_taken_slot_suggests_the_nearest_free_times(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(11))])
    BookingFactory(practitioner=physio, service=follow_up, start=at(TUESDAY, "10:00"))
    from booking.exceptions import SlotTaken

    with pytest.raises(SlotTaken) as taken:
        services.booking_hold(patient=UserFactory(), service=follow_up, start=at(TUESDAY, "10:00"), practitioner=physio)
    # 09:30 and 10:30 are 30 minutes away, 09:15 45 (09:00 60): in time order.
    assert [f"{s.local_start:%H:%M}" for s in taken.value.alternatives] == ["09:15", "09:30", "10:30"]


# --- edges never executed before ----------------------------------------------------------


@frozen
def test_a_service_nobody_offers_has_no_slots_and_costs_one_query(django_assert_num_queries):
    unoffered = ServiceFactory(name="Hydrotherapy")
    PractitionerFactory(services=[], hours=[(TUESDAY.weekday(), time(9), time(12))])
    with django_assert_num_queries(1):
        assert availability.free_slots(service=unoffered, date_from=TUESDAY, date_to=TUESDAY + timedelta(days=6)) == []


@frozen
@pytest.mark.parametrize(
    ("start", "first"),
    [
        (time(9, 15, 30), "09:30"),  # seconds past a grid line: the next line
        (time(9, 15, 0, 500_000), "09:30"),  # half a second past: the next line
        (time(9, 14, 30), "09:15"),
        (time(9, 15), "09:15"),
    ],
)
def test_working_hours_with_seconds_start_on_the_next_grid_line(follow_up, start, first):
    PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), start, time(10, 30))])
    assert local_clocks(slots_on(follow_up, TUESDAY)) == clocks(first, "10:00")


@frozen
def test_working_hours_ending_with_seconds_keep_the_last_slot_that_fits(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(10, 0, 30))])
    assert local_clocks(slots_on(follow_up, TUESDAY)) == clocks("09:00", "09:30")


@frozen
def test_working_hours_in_the_last_quarter_hour_before_midnight_offer_nothing(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(23, 46), time(23, 59, 59))])
    assert slots_on(follow_up, TUESDAY) == []


SPRING = date(2027, 3, 28)  # Sunday: the clocks go forward at 01:00 GMT


def test_the_60_day_horizon_on_the_spring_forward_day_is_60_real_days(follow_up):
    """Now is 08:00 GMT on 27 January; 60 days of real time later is 09:00 BST on 28 March."""
    physio = PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(12))])
    with time_machine.travel(datetime(2027, 1, 27, 8, 0, tzinfo=UTC), tick=False):
        slots = slots_on(follow_up, SPRING)
        local = local_clocks(slots)
        assert local[-1] == "09:00"
        assert local == ["00:00", "00:15", "00:30", "00:45"] + clocks("02:00", "09:00")
        assert slots[-1].start == datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
        # The booking rules agree with the engine at the boundary.
        nine = datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
        booking = services.booking_hold(patient=UserFactory(), service=follow_up, start=nine, practitioner=physio)
        assert booking.start == nine
        with pytest.raises(InvalidSlot, match="60 days ahead"):
            services.booking_hold(
                patient=UserFactory(), service=follow_up, start=nine + timedelta(minutes=15), practitioner=physio
            )


@frozen
def test_time_off_and_bookings_together_block_on_the_clock_change_day(follow_up):
    """The irregular-grid path (a clock change inside the hours) honours busy time and the notice."""
    physio = PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(3))])
    TimeOffFactory(practitioner=physio, start=datetime(2027, 3, 28, 0, 0, tzinfo=UTC),
                   end=datetime(2027, 3, 28, 0, 30, tzinfo=UTC))
    BookingFactory(practitioner=physio, service=follow_up, start=datetime(2027, 3, 28, 1, 0, tzinfo=UTC))
    # Time off 00:00-00:30 GMT; the booking 01:00-01:30 UTC (02:00-02:30 BST) also blocks 00:45 GMT,
    # whose 30 minutes run into it.
    with time_machine.travel(datetime(2027, 3, 25, 12, tzinfo=UTC), tick=False):
        assert local_clocks(slots_on(follow_up, SPRING)) == ["00:30", "02:30"]
    # The notice on that path: at 22:30 GMT on Saturday, 00:30 is exactly two hours away and offered ...
    with time_machine.travel(datetime(2027, 3, 27, 22, 30, tzinfo=UTC), tick=False):
        assert local_clocks(slots_on(follow_up, SPRING)) == ["00:30", "02:30"]
    # ... and a quarter of a second later it is not.
    with time_machine.travel(datetime(2027, 3, 27, 22, 30, 0, 250_000, tzinfo=UTC), tick=False):
        assert local_clocks(slots_on(follow_up, SPRING)) == ["02:30"]


@frozen
def test_a_slot_as_json_is_london_start_and_end_and_the_practitioner(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(9, 30))])
    [slot] = slots_on(follow_up, TUESDAY)
    assert slot.as_dict() == {
        "start": "2027-01-12T09:00:00+00:00",
        "end": "2027-01-12T09:30:00+00:00",
        "practitioner": physio.pk,
    }


@frozen
def test_staff_see_free_times_beyond_the_60_day_horizon(follow_up):
    PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(10))])
    far = TUESDAY + timedelta(days=70)
    assert slots_on(follow_up, far) == []
    assert local_clocks(slots_on(follow_up, far, enforce_notice=False)) == clocks("09:00", "09:30")
