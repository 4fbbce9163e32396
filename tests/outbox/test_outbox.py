"""The outbox: intents written with the change, run on commit, once, and swept up when anything failed."""

from datetime import datetime, timedelta
from functools import partial

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from booking import services as booking_services
from booking.availability import LONDON
from booking.models import Booking
from offers.services import offer_code_claim
from outbox.models import OutboxTask
from outbox.services import outbox_enqueue, outbox_run, outbox_sweep
from tests.factories import BookingFactory, OfferFactory, ServiceFactory
from tests.races import race, split
from tests.shared import closed_port

from . import helpers

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def _clean_helpers():
    helpers.CALLS.clear()
    helpers.FAIL_TIMES["n"] = 0


@pytest.mark.django_db
def test_confirmation_is_recorded_with_the_change_and_emailed_once_on_commit(django_capture_on_commit_callbacks):
    booking = BookingFactory(status=Booking.Status.HELD, hold_expires_at=timezone.now() + timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_confirm(booking=booking)
    row = OutboxTask.objects.get(key=f"booking_confirmed:{booking.pk}")
    assert row.status == OutboxTask.Status.DONE and row.attempts == 1
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["Booking confirmed"]
    # Run again (a duplicate hand-off, a sweep): done rows never run twice.
    assert outbox_run(task_id=row.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_intent_and_sends_nothing(django_capture_on_commit_callbacks):
    booking = BookingFactory(status=Booking.Status.HELD, hold_expires_at=timezone.now() + timedelta(minutes=20))
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            booking_services.booking_confirm(booking=booking)
            raise RuntimeError("something later in the same transaction failed")
    assert not OutboxTask.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_enqueueing_the_same_key_twice_is_a_no_op(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = outbox_enqueue(task=helpers.record, kwargs={"n": 1}, key="same")
        second = outbox_enqueue(task=helpers.record, kwargs={"n": 2}, key="same")
    assert first.pk == second.pk and len(callbacks) == 1
    assert helpers.CALLS == [{"n": 1}]


@pytest.mark.django_db
def test_datetimes_in_kwargs_reach_the_function_as_aware_datetimes(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        outbox_enqueue(task=helpers.record, kwargs={"old_start": NOW, "ids": [1, 2]})
    assert helpers.CALLS == [{"old_start": NOW, "ids": [1, 2]}]


@pytest.mark.django_db
def test_offer_code_email_goes_through_the_outbox(django_capture_on_commit_callbacks):
    OfferFactory(percent_off=20, validity_hours=24, services=[ServiceFactory()])
    with django_capture_on_commit_callbacks(execute=True):
        claim = offer_code_claim(email="new@example.com")
    assert OutboxTask.objects.get(key=f"offer_code:{claim.code.pk}").status == OutboxTask.Status.DONE
    assert [m.to for m in mail.outbox] == [["new@example.com"]]


@pytest.mark.django_db
def test_a_failing_send_is_retried_by_the_sweep_with_backoff_then_done(django_capture_on_commit_callbacks, settings):
    settings.OUTBOX_RETRY_SECONDS = 30
    helpers.FAIL_TIMES["n"] = 2
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            row = outbox_enqueue(task=helpers.flaky, kwargs={"n": 1}, key="flaky")
        row.refresh_from_db()
        assert (row.status, row.attempts) == (OutboxTask.Status.PENDING, 1)
        assert "SMTP server not answering" in row.last_error
        assert row.next_attempt_at == NOW + timedelta(seconds=30)
        assert outbox_sweep() == 0  # not due yet
    with time_machine.travel(NOW + timedelta(seconds=31), tick=False):
        assert outbox_sweep() == 1  # second failure: backs off 60 s
        row.refresh_from_db()
        assert row.attempts == 2 and row.next_attempt_at == NOW + timedelta(seconds=91)
    with time_machine.travel(NOW + timedelta(seconds=92), tick=False):
        assert outbox_sweep() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxTask.Status.DONE, 3)
    assert helpers.CALLS == [{"n": 1}]


@pytest.mark.django_db
def test_after_max_attempts_a_task_is_marked_failed_and_no_longer_swept(django_capture_on_commit_callbacks, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    helpers.FAIL_TIMES["n"] = 5
    with django_capture_on_commit_callbacks(execute=True):
        row = outbox_enqueue(task=helpers.flaky, key="hopeless")
    row.refresh_from_db()
    assert row.status == OutboxTask.Status.FAILED
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert outbox_sweep() == 0


@pytest.mark.django_db
def test_a_task_whose_worker_died_is_run_again_once_its_lease_ends(settings):
    settings.OUTBOX_LEASE_SECONDS = 120
    with time_machine.travel(NOW, tick=False):
        row = outbox_enqueue(task=helpers.record, kwargs={"n": 1}, key="orphan")
        # A worker claimed it and was killed (SIGKILL) before finishing.
        OutboxTask.objects.filter(pk=row.pk).update(locked_until=NOW + timedelta(seconds=120), attempts=1)
    with time_machine.travel(NOW + timedelta(seconds=60), tick=False):
        assert outbox_sweep() == 0 and outbox_run(task_id=row.pk) is False
    with time_machine.travel(NOW + timedelta(seconds=121), tick=False):
        assert outbox_sweep() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboxTask.Status.DONE, 2)
    assert helpers.CALLS == [{"n": 1}]


@pytest.mark.django_db
def test_with_the_broker_down_the_intent_waits_and_the_sweep_delivers_it(
    django_capture_on_commit_callbacks, settings, caplog, monkeypatch
):
    """Broker at a closed port: the request still commits; the row stays pending for the sweep."""
    from config.celery import app

    settings.OUTBOX_INLINE = False
    monkeypatch.setattr("outbox.services._broker_down_until", 0.0)
    old_url, old_eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.task_always_eager = False  # eager without a broker (no REDIS_URL): publish for real here
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    app.__dict__.pop("pool", None)
    app._pool = None
    app.amqp._producer_pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            row = outbox_enqueue(task=helpers.record, kwargs={"n": 1}, key="waits")
    finally:
        app.conf.broker_url, app.conf.task_always_eager = old_url, old_eager
        app._pool = None
        app.amqp._producer_pool = None
    assert "not queued (broker unavailable" in caplog.text
    row.refresh_from_db()
    assert row.status == OutboxTask.Status.PENDING and helpers.CALLS == []
    settings.OUTBOX_INLINE = True  # the broker is back (here: in process)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.OUTBOX_RETRY_SECONDS + 1)):
        assert outbox_sweep() == 1
    row.refresh_from_db()
    assert row.status == OutboxTask.Status.DONE and helpers.CALLS == [{"n": 1}]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_task_run_it_once():
    row = OutboxTask.objects.create(name="tests.outbox.helpers.slow_record", kwargs={"n": 1}, key="race",
                                    next_attempt_at=timezone.now())
    results, _ = split(race(*[partial(outbox_run, task_id=row.pk)] * 4))
    assert sorted(results) == [False, False, False, True]
    assert helpers.CALLS == [{"n": 1}]
    assert OutboxTask.objects.get().status == OutboxTask.Status.DONE


@pytest.mark.django_db
def test_the_outbox_sweep_command_sends_what_waited_for_cron_setups(settings):
    from io import StringIO

    from django.core.management import call_command

    with time_machine.travel(NOW, tick=False):
        outbox_enqueue(task=helpers.record, kwargs={"n": 3}, key="cron")  # never handed over (no commit hook ran)
    out = StringIO()
    with time_machine.travel(NOW + timedelta(seconds=settings.OUTBOX_RETRY_SECONDS + 1), tick=False):
        call_command("outbox_sweep", stdout=out)
    assert out.getvalue().strip() == "1 outbox task(s) queued"
    assert helpers.CALLS == [{"n": 3}]
    assert OutboxTask.objects.get(key="cron").status == OutboxTask.Status.DONE
