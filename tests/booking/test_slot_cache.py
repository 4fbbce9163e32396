"""The availability cache never shows what the database would not: writes and the clock invalidate it."""

from datetime import date, datetime, time

import pytest
import time_machine

from booking import services, slot_cache
from booking.availability import LONDON
from tests.factories import PractitionerFactory, ServiceFactory, TimeOffFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

MONDAY = date(2027, 1, 11)
TUESDAY = date(2027, 1, 12)
INTAKE = {"pain_areas": ["buttock"], "side": "left", "duration_weeks": 3}


@pytest.fixture(autouse=True, params=["slots", "dicts"])
def read(request):
    """Both cached forms: Slot objects (pages) and formatted rows (API)."""
    return request.param


@pytest.fixture(autouse=True)
def slot_cache_on(settings):
    settings.SLOT_CACHE = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "slots"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def clinic():
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service], hours=[(1, time(9), time(12))])
    return service, physio


@pytest.fixture
def starts(read):
    def starts(service, day=TUESDAY):
        if read == "slots":
            return [s.start for s in slot_cache.free_slots(service=service, date_from=day, date_to=day)]
        rows = slot_cache.free_slot_dicts(service=service, date_from=day, date_to=day)
        return [datetime.fromisoformat(row["start"]) for row in rows]

    return starts


def at(hour, minute=0, day=TUESDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
def test_a_repeated_question_is_answered_without_the_database(starts, clinic, django_assert_num_queries):
    service, _ = clinic
    first = starts(service)
    assert at(10) in first
    with django_assert_num_queries(0):
        assert starts(service) == first


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
def test_a_new_booking_or_time_off_is_seen_at_once(starts, clinic, django_capture_on_commit_callbacks):
    service, physio = clinic
    assert at(10) in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_hold(patient=UserFactory(), service=service, start=at(10), intake=INTAKE)
    assert at(10) not in starts(service)
    assert at(11) in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        TimeOffFactory(practitioner=physio, start=at(11), end=at(12))
    assert at(11) not in starts(service)


def test_a_lapsing_hold_frees_its_slot_at_once_with_no_write(starts, clinic, django_capture_on_commit_callbacks):
    service, _ = clinic
    with time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            services.booking_hold(patient=UserFactory(), service=service, start=at(10), intake=INTAKE)
    with time_machine.travel(datetime(2027, 1, 11, 8, 29, 30, tzinfo=LONDON), tick=False):
        assert at(10) not in starts(service)
    # At 08:30 the hold lapses; nothing was written, and the answer cached 30 s ago must not survive it.
    with time_machine.travel(datetime(2027, 1, 11, 8, 30, tzinfo=LONDON), tick=False):
        assert at(10) in starts(service)


def test_a_slot_inside_the_minimum_notice_is_never_served_from_cache(starts, clinic):
    service, _ = clinic
    with time_machine.travel(datetime(2027, 1, 12, 6, 59, 30, tzinfo=LONDON), tick=False):
        assert starts(service)[0] == at(9)
    # At 07:00:01 a 09:00 start is less than two hours away.
    with time_machine.travel(datetime(2027, 1, 12, 7, 0, 1, tzinfo=LONDON), tick=False):
        assert starts(service)[0] == at(9, 15)


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
def test_changed_working_hours_are_seen_at_once(starts, clinic, django_capture_on_commit_callbacks):
    service, physio = clinic
    assert at(14) not in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        physio.working_hours.update_or_create(weekday=1, defaults={"start_time": time(9), "end_time": time(16)})
    assert at(14) in starts(service)
