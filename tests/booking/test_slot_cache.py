"""The availability cache never shows what the database would not: writes and the clock invalidate it."""

from datetime import date, datetime, time, timedelta

import pytest
import time_machine

from booking import availability, services, signals, slot_cache
from booking.availability import LONDON
from booking.models import Booking
from booking.staff import services as desk
from payments.services import booking_cancel
from tests.factories import PractitionerFactory, ReceptionistFactory, ServiceFactory, TimeOffFactory, UserFactory

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

# Every service that writes the calendar clears the cache itself, on commit. The model signals
# (booking.signals) are only a safety net for admin edits: no_safety_net switches them off, so each
# writer must say so itself. Bulk writes send no signals at all: the desk's working-hours change (a
# bulk_create) left patients seeing a day with no slots while the database had them free.

MONDAY_8 = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)


@pytest.fixture
def no_safety_net(monkeypatch):
    """The model signals clear nothing: only what the services do themselves counts."""
    monkeypatch.setattr(signals, "calendar_changed_on_commit", lambda: None)


def fresh(service):
    """The same question asked of the engine, never cached."""
    return [s.start for s in availability.free_slots(service=service, date_from=TUESDAY, date_to=TUESDAY)]


@time_machine.travel(MONDAY_8, tick=False)
def test_desk_hours_bulk_create_is_seen_at_once(starts, django_capture_on_commit_callbacks):
    """The found bug, with the signals on as in production: a practitioner with no hours yet."""
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service], hours=[])
    assert starts(service) == []
    with django_capture_on_commit_callbacks(execute=True):
        desk.working_hours_replace(practitioner=physio, rows=[desk.HoursRow(1, time(9), time(17))],
                                   effective_from=TUESDAY)
    shown, free = starts(service), fresh(service)
    assert shown == free, f"{len(shown)} slots shown, {len(free)} free"
    assert len(free) > 0


@time_machine.travel(MONDAY_8, tick=False)
def test_desk_hours_replacing_old_rows_are_seen_at_once(starts, clinic, no_safety_net, django_capture_on_commit_callbacks):
    service, physio = clinic
    assert at(14) not in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        desk.working_hours_replace(practitioner=physio, rows=[desk.HoursRow(1, time(9), time(16))],
                                   effective_from=TUESDAY)
    assert at(14) in starts(service)
    assert starts(service) == fresh(service)


@time_machine.travel(MONDAY_8, tick=False)
def test_time_off_added_and_removed_at_the_desk_is_seen_at_once(starts, clinic, no_safety_net, django_capture_on_commit_callbacks):
    service, physio = clinic
    assert at(10) in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        time_off = desk.time_off_create(practitioner=physio, start=at(10), end=at(11), reason="training")
    assert at(10) not in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        desk.time_off_delete(time_off=time_off)
    assert at(10) in starts(service)
    assert starts(service) == fresh(service)


@time_machine.travel(MONDAY_8, tick=False)
def test_a_hold_then_a_cancel_are_seen_at_once(starts, clinic, no_safety_net, django_capture_on_commit_callbacks):
    service, _ = clinic
    assert at(10) in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.booking_hold(patient=UserFactory(), service=service, start=at(10), intake=INTAKE)
    assert at(10) not in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, actor=booking.patient)
    assert at(10) in starts(service)


@time_machine.travel(MONDAY_8, tick=False)
def test_a_move_is_seen_at_once(starts, clinic, no_safety_net, django_capture_on_commit_callbacks):
    service, _ = clinic
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.booking_hold(patient=UserFactory(), service=service, start=at(10), intake=INTAKE)
    assert at(10) not in starts(service) and at(11) in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        services.booking_reschedule(booking=booking, start=at(11), actor=booking.patient)
    assert at(10) in starts(service) and at(11) not in starts(service)


@time_machine.travel(MONDAY_8, tick=False)
def test_a_hold_released_before_its_time_is_seen_at_once(starts, clinic, no_safety_net, django_capture_on_commit_callbacks):
    service, _ = clinic
    with django_capture_on_commit_callbacks(execute=True):
        booking = services.booking_hold(patient=UserFactory(), service=service, start=at(10), intake=INTAKE)
    assert at(10) not in starts(service)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.booking_release_hold(booking=booking, reason="Checkout abandoned.")
    assert at(10) in starts(service)


def test_a_payment_landing_after_the_hold_lapsed_is_seen_at_once(starts, clinic, no_safety_net,
                                                                 django_capture_on_commit_callbacks):
    service, _ = clinic
    with time_machine.travel(MONDAY_8, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            booking = services.booking_hold(patient=UserFactory(), service=service, start=at(10), intake=INTAKE)
    with time_machine.travel(booking.hold_expires_at + timedelta(seconds=5), tick=False):
        assert at(10) in starts(service)  # the lapsed hold frees it, and that answer is cached
        with django_capture_on_commit_callbacks(execute=True):
            services.booking_confirm(booking=booking)
        assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
        assert at(10) not in starts(service)


def test_marks_and_intake_answers_move_the_calendar_version(clinic, no_safety_net, django_capture_on_commit_callbacks):
    """The desk's day view is cached under the same version: arrival, marks and flags must show at once."""
    service, _ = clinic
    with time_machine.travel(MONDAY_8, tick=False):
        booking = services.booking_hold(patient=UserFactory(), service=service, start=at(10),
                                        source=Booking.Source.RECEPTION)
        services.booking_confirm(booking=booking)
    with time_machine.travel(at(10), tick=False):
        for action in ("arrived", "attended"):
            before = slot_cache.calendar_version()
            with django_capture_on_commit_callbacks(execute=True):
                services.booking_mark(booking=booking, action=action, actor=ReceptionistFactory())
            assert slot_cache.calendar_version() > before, action
        before = slot_cache.calendar_version()
        with django_capture_on_commit_callbacks(execute=True):
            services.booking_intake_answer(booking=booking, data=INTAKE)
        assert slot_cache.calendar_version() > before
