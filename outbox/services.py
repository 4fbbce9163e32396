"""The outbox: work that must happen after a commit, at least once, and never twice by intent.

    outbox_enqueue(task=notifications.send_booking_confirmed, kwargs={"booking_id": b.pk},
                   key=f"booking_confirmed:{b.pk}")

inside the caller's transaction writes a row; on commit the row's id goes to
a Celery worker (or, with no broker, runs in process). Whoever runs it first
claims it with a conditional UPDATE (a lease), calls the function and marks
it done; a done row never runs again and a second enqueue of the same key is
a no-op. outbox_sweep() (Celery beat every 30 s, or cron) queues every row
that is due and not done: the broker was down, a worker was killed, the
function raised (retried with backoff, then given up after OUTBOX_MAX_ATTEMPTS).

What "once" means: the row is marked done right after the function returns.
A worker killed between the two (an email handed to SMTP, the process gone
before the UPDATE) runs it again after the lease: at least once, and at most
once more in that rare case. Stripe calls pass idempotency keys of their own.
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.module_loading import import_string

from common.request_id import current_request_id, request_id_bound

from .models import Heartbeat, OutboxTask

log = logging.getLogger(__name__)
Status = OutboxTask.Status
# The key of the row being run, for whoever wants to tag its output (an email's header, a log line).
_current_key: contextvars.ContextVar[str] = contextvars.ContextVar("outbox_key", default="")


def current_task_key() -> str:
    return _current_key.get()


def _encode(value):
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"__datetime__"}:
            return parse_datetime(value["__datetime__"])
        if set(value) == {"__date__"}:
            return parse_date(value["__date__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def task_name(func: Callable) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def outbox_enqueue(*, task: Callable, kwargs: dict | None = None, key: str | None = None,
                   now: datetime | None = None) -> OutboxTask:
    """Record the intent in the current transaction; it is queued when (and only if) that commits.

    `key` names the intent (e.g. "booking_confirmed:42"): a row with the same key
    already there (queued or done) makes this a no-op. No key = always a new row.
    """
    now = now or timezone.now()
    row, created = OutboxTask.objects.get_or_create(
        key=key or f"{task_name(task)}:{uuid.uuid4().hex}",
        defaults={
            "name": task_name(task),
            "kwargs": _encode(kwargs or {}),
            "next_attempt_at": now + timedelta(seconds=settings.OUTBOX_RETRY_SECONDS),
            "request_id": current_request_id(),
        },
    )
    if created:
        transaction.on_commit(lambda: _dispatch(row.pk))
    return row


# After a failed publish, this process does not try the broker again for a while: a publish
# to a broker that is down costs ~2 s (kombu's connection attempts), and the request that
# committed should not pay it every time. The rows wait for the sweep meanwhile.
_broker_down_until = 0.0


def _dispatch(task_id: int) -> None:
    """Hand one row to a worker; if the broker does not answer, the row waits for the sweep."""
    global _broker_down_until
    if settings.OUTBOX_INLINE:
        outbox_run(task_id=task_id)
        return
    if time.monotonic() < _broker_down_until:
        return
    from .tasks import run_outbox_task

    try:
        run_outbox_task.apply_async((task_id,), retry=False)
    except Exception as exc:  # broker down: nothing is lost, the sweep queues it later
        _broker_down_until = time.monotonic() + settings.OUTBOX_BROKER_BACKOFF_SECONDS
        log.warning("outbox task %s not queued (broker unavailable: %s); the sweep will retry it", task_id, exc)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.OUTBOX_RETRY_SECONDS * 2 ** max(attempts - 1, 0), 3600))


def outbox_run(*, task_id: int, now: datetime | None = None) -> bool:
    """Claim and run one row. False when it is done already, held by another worker, or failed."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    claimed = (
        OutboxTask.objects.filter(pk=task_id, status=Status.PENDING)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=lease, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    row = OutboxTask.objects.get(pk=task_id)
    try:
        func = import_string(row.name)
        token = _current_key.set(row.key)
        try:
            with request_id_bound(row.request_id):
                func(**_decode(row.kwargs))
        finally:
            _current_key.reset(token)
    except Exception as exc:
        gave_up = row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
        OutboxTask.objects.filter(pk=task_id, locked_until=lease).update(
            status=Status.FAILED if gave_up else Status.PENDING,
            locked_until=None,
            next_attempt_at=timezone.now() + _backoff(row.attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        log.exception("outbox task %s (%s) failed on attempt %s%s", task_id, row.name, row.attempts,
                      "; giving up" if gave_up else "; it will be retried")
        return False
    OutboxTask.objects.filter(pk=task_id).update(status=Status.DONE, done_at=timezone.now(), locked_until=None)
    return True


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue every pending row that is due and not held by a live worker. Returns how many."""
    now = now or timezone.now()
    due = list(
        OutboxTask.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for task_id in due:
        # Not again before the retry interval, even if this hand-off sits in the queue for a while.
        OutboxTask.objects.filter(pk=task_id, status=Status.PENDING).update(
            next_attempt_at=now + timedelta(seconds=settings.OUTBOX_RETRY_SECONDS)
        )
        _dispatch(task_id)
    OutboxTask.objects.filter(status=Status.DONE, done_at__lt=now - timedelta(days=settings.OUTBOX_KEEP_DAYS)).delete()
    return len(due)


def heartbeat_beat(*, name: str = "worker", hostname: str = "", now: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": now or timezone.now(), "hostname": hostname})
