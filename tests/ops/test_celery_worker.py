"""The production path: a real Celery worker process takes the outbox's work from Redis."""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from booking import services as booking_services
from booking.models import Booking
from outbox.models import OutboxTask
from tests.factories import BookingFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path, settings):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        if os.environ.get("CI") or os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("needs Redis (REDIS_URL) as the broker")
        pytest.skip("needs Redis (REDIS_URL) as the broker")
    s = connection.settings_dict
    mailbox = tmp_path / "mail.jsonl"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "CELERY_BROKER_URL": redis_url, "OUTBOX_INLINE": "0", "PYTHONPATH": str(ROOT),
        "EMAIL_BACKEND": "scripts.loadtest.mailbox.EmailBackend", "LOADTEST_MAILBOX": str(mailbox),
    }
    env.pop("TEST_DATABASE_NAME", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "config", "worker", "--pool", "solo", "--without-gossip",
         "--without-mingle", "--loglevel", "WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    # The broker is REDIS_URL's database, this checkout's own (make test: TEST_REDIS_URL).
    settings.OUTBOX_INLINE = False
    try:
        yield mailbox
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _wait_done(key: str, timeout: float = 60) -> OutboxTask:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = OutboxTask.objects.get(key=key)
        if row.status == OutboxTask.Status.DONE:
            return row
        time.sleep(0.2)
    raise AssertionError(f"{key} not done by a worker within {timeout}s: {row.status}, {row.last_error!r}")


def test_a_confirmation_is_emailed_by_a_celery_worker_once_with_the_request_id(worker):
    from config.observability import request_id_bound

    booking = BookingFactory(status=Booking.Status.HELD, hold_expires_at=timezone.now() + timedelta(minutes=20))
    with request_id_bound("req-1234"):
        booking_services.booking_confirm(booking=booking)  # autocommit: on_commit publishes at once
    row = _wait_done(f"booking_confirmed:{booking.pk}")
    assert row.attempts == 1 and row.request_id == "req-1234"
    [line] = worker.read_text().splitlines()
    sent = json.loads(line)
    assert sent["key"] == f"booking_confirmed:{booking.pk}" and sent["to"] == [booking.patient.email]
    assert sent["subject"].startswith("Booking confirmed")
