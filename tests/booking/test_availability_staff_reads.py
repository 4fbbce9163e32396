"""The engine's reads for reception and the API, and a one-second edge of the grid walk.

Each test closes a hole found by mutation testing (`make mutation`, issue 19):
conflict_at, services_fitting and practitioners_for were only reached through
the staff pages, and no busy interval started between two seconds of a grid line.
A later run (the sampled booking.availability mutants, SQLite) found four more:
services_fitting's and nearest_free's London day under another active time zone,
_load reading bookings after the range, and free_slots working out the same day's
grid again for each practitioner with the same hours.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from booking import availability
from booking.availability import local_day_bounds
from tests.factories import BookingFactory, FollowUpFactory, PractitionerFactory, ServiceFactory, TimeOffFactory

from .test_availability import MONDAY, TUESDAY, at, clocks, frozen, local_clocks, slots_on

pytestmark = [pytest.mark.django_db, pytest.mark.booking]


@pytest.fixture
def follow_up():
    """30 minutes, no buffer."""
    return FollowUpFactory()


@pytest.fixture
def assessment():
    """45 minutes + 15 minutes' buffer."""
    return ServiceFactory()


# --- conflict_at: what stops a start, for staff refusals -----------------------------------


@frozen
def test_conflict_at_names_the_booking_in_the_way_unless_it_is_the_one_being_moved(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(12))])
    booking = BookingFactory(practitioner=physio, service=assessment, start=at(TUESDAY, "10:00"))
    conflict = availability.conflict_at(service=assessment, practitioner=physio, start=at(TUESDAY, "10:15"))
    assert (conflict.kind, conflict.booking, conflict.start, conflict.end) == (
        "booking", booking, at(TUESDAY, "10:00"), at(TUESDAY, "11:00"),
    )
    # 09:15-10:15 (with the buffer) runs into it too.
    assert availability.conflict_at(service=assessment, practitioner=physio, start=at(TUESDAY, "09:15")).booking == booking
    assert availability.conflict_at(
        service=assessment, practitioner=physio, start=at(TUESDAY, "10:15"), exclude_booking_id=booking.pk
    ) is None


@frozen
def test_conflict_at_names_time_off_in_the_way(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(12))])
    off = TimeOffFactory(practitioner=physio, start=at(TUESDAY, "10:30"), end=at(TUESDAY, "11:00"))
    conflict = availability.conflict_at(service=assessment, practitioner=physio, start=at(TUESDAY, "10:00"))
    assert (conflict.kind, conflict.time_off, conflict.start, conflict.end) == (
        "time_off", off, at(TUESDAY, "10:30"), at(TUESDAY, "11:00"),
    )
    assert availability.conflict_at(service=assessment, practitioner=physio, start=at(TUESDAY, "09:00")) is None


@frozen
def test_conflict_at_names_the_working_hours_a_start_runs_out_of(assessment):
    physio = PractitionerFactory(services=[assessment], hours=[(TUESDAY.weekday(), time(9), time(12))])
    late = availability.conflict_at(service=assessment, practitioner=physio, start=at(TUESDAY, "11:30"))
    assert (late.kind, late.start, late.end) == ("hours", at(TUESDAY, "09:00"), at(TUESDAY, "12:00"))
    early = availability.conflict_at(service=assessment, practitioner=physio, start=at(TUESDAY, "08:00"))
    assert (early.kind, early.start, early.end) == ("hours", None, None)
    assert availability.conflict_at(service=assessment, practitioner=physio, start=at(TUESDAY, "11:00")) is None


# --- services_fitting: reception's click on a free cell -------------------------------------


@frozen
def test_services_fitting_says_which_active_services_fit_at_a_start_without_the_online_notice(assessment, follow_up):
    retired = FollowUpFactory(name="Retired", active=False)
    physio = PractitionerFactory(services=[assessment, follow_up, retired], hours=[(MONDAY.weekday(), time(9), time(12))])
    BookingFactory(practitioner=physio, service=assessment, start=at(MONDAY, "10:00"))
    # 09:30 is inside the two hours' notice (it is 08:00): reception may still book it.
    fits = availability.services_fitting(practitioner=physio, start=at(MONDAY, "09:30"))
    assert {fit.service: fit.fits for fit in fits} == {assessment: False, follow_up: True}
    fits = availability.services_fitting(practitioner=physio, start=at(MONDAY, "11:00"))
    assert {fit.service: fit.fits for fit in fits} == {assessment: True, follow_up: True}


@frozen
def test_services_fitting_asks_about_the_clicked_practitioner_not_a_colleague_free_at_that_time(follow_up):
    hours = [(MONDAY.weekday(), time(9), time(12))]
    physio = PractitionerFactory(services=[follow_up], hours=hours)
    PractitionerFactory(services=[follow_up], hours=hours)  # a colleague, free all morning
    BookingFactory(practitioner=physio, service=follow_up, start=at(MONDAY, "10:00"))
    fits = availability.services_fitting(practitioner=physio, start=at(MONDAY, "10:00"))
    assert {fit.service: fit.fits for fit in fits} == {follow_up: False}


@frozen
def test_is_free_reads_the_start_on_the_london_day_whatever_time_zone_is_active(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    with timezone.override("Pacific/Kiritimati"):  # UTC+14: 11:00 in London is already the next day there
        assert availability.is_free(service=follow_up, practitioner=physio, start=at(MONDAY, "11:00"), enforce_notice=False)


@frozen
def test_services_fitting_reads_the_start_on_the_london_day_whatever_time_zone_is_active(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(MONDAY.weekday(), time(9), time(12))])
    with timezone.override("Pacific/Kiritimati"):  # UTC+14: 11:00 on Monday in London is Tuesday there
        fits = availability.services_fitting(practitioner=physio, start=at(MONDAY, "11:00"))
    assert {fit.service: fit.fits for fit in fits} == {follow_up: True}


@frozen
def test_nearest_free_looks_a_week_either_side_of_the_london_day_whatever_time_zone_is_active(follow_up):
    """The Tuesday a week after TUESDAY is off. Asked for its 10:00, the nearest start is TUESDAY's last
    (11:30, 6 days 22.5 hours before), not the next Tuesday's first (09:00, 6 days 23 hours after).
    10:00 in London is already Wednesday on Kiritimati (UTC+14): read on that day, the week either
    side would start a day late and miss TUESDAY."""
    physio = PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(12))])
    asked = TUESDAY + timedelta(days=7)
    TimeOffFactory(practitioner=physio, start=at(asked, "09:00"), end=at(asked, "12:00"))
    with timezone.override("Pacific/Kiritimati"):
        nearest = availability.nearest_free(service=follow_up, start=at(asked, "10:00"), count=1)
    assert [slot.start for slot in nearest] == [at(TUESDAY, "11:30")]


# --- what the engine reads ------------------------------------------------------------------


@frozen
def test_the_engine_reads_only_the_busy_time_that_overlaps_the_days_asked_about(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(12))])
    before = BookingFactory(practitioner=physio, service=follow_up, start=at(MONDAY, "09:00"))
    during = BookingFactory(practitioner=physio, service=follow_up, start=at(TUESDAY, "10:00"))
    after = BookingFactory(practitioner=physio, service=follow_up, start=at(TUESDAY + timedelta(days=1), "09:00"))
    start, end = local_day_bounds(TUESDAY)
    calendar = availability._load(service=follow_up, practitioner_ids=None, range_start=start, range_end=end,
                                  now=timezone.now())
    read = [(datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC)) for s, e in calendar.busy[physio.pk]]
    assert read == [(during.start, during.blocks_until)]
    assert before.start < start and after.start >= end


@frozen
def test_practitioners_with_the_same_hours_share_one_working_out_of_the_days_grid(follow_up, monkeypatch):
    """free_slots lays each distinct day of hours on the grid once, not once per practitioner."""
    hours = [(TUESDAY.weekday(), time(9), time(12))]
    for _ in range(3):
        PractitionerFactory(services=[follow_up], hours=hours)
    PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(13), time(17))])
    calls = []
    grids = availability._grids
    monkeypatch.setattr(availability, "_grids", lambda *args: calls.append(args) or grids(*args))
    slots = slots_on(follow_up, TUESDAY)
    assert len(calls) == 2  # 09:00-12:00 once for three practitioners, 13:00-17:00 once
    assert len(slots) == 3 * len(clocks("09:00", "11:30")) + len(clocks("13:00", "16:30"))


# --- practitioners_for -----------------------------------------------------------------------


def test_practitioners_for_a_service_are_its_active_practitioners_with_their_names_in_one_query(
    follow_up, django_assert_num_queries
):
    first = PractitionerFactory(services=[follow_up])
    second = PractitionerFactory(services=[follow_up])
    PractitionerFactory(services=[follow_up], active=False)
    PractitionerFactory(services=[ServiceFactory()])
    with django_assert_num_queries(1):
        names = sorted(p.user.last_name for p in availability.practitioners_for(follow_up))
    assert names == sorted([first.user.last_name, second.user.last_name])


# --- busy time starting between grid seconds -----------------------------------------------


@frozen
def test_time_off_starting_a_second_before_a_grid_line_blocks_the_start_that_would_run_into_it(follow_up):
    physio = PractitionerFactory(services=[follow_up], hours=[(TUESDAY.weekday(), time(9), time(12))])
    TimeOffFactory(practitioner=physio, start=at(TUESDAY, "11:00") - timedelta(seconds=1), end=at(TUESDAY, "12:00"))
    # 10:30-11:00 would overlap the time off by one second: 10:15 is the last start.
    assert local_clocks(slots_on(follow_up, TUESDAY)) == clocks("09:00", "10:15")
