"""A shared cache in front of availability.free_slots, for the read paths only.

Why: 30 days for 8 practitioners is ~1,200 slots and ~10 ms of Python, and
patients paging through days ask the same question again and again.

Why it cannot show a stale calendar:
- every write to a calendar bumps a version, at once and after commit: the
  services that write bookings, time off and hours call
  calendar_changed_on_commit() themselves (bulk writes included); model
  signals (booking.signals) catch the rest (admin edits of practitioners,
  services, hours); answers are stored under the version they were computed at;
- an answer is kept only until the first moment time alone could change it:
  the earliest hold in the range lapsing, the first slot falling inside the
  minimum notice, or MAX_AGE seconds (new days reaching the horizon).
booking_hold and booking_reschedule never read it: writes check the database
under the practitioner lock.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from config.cache import CacheUnavailable

from . import availability
from .models import Booking, Service

VERSION_KEY = "slots:version"
MAX_AGE = timedelta(seconds=60)


def calendar_version() -> int:
    return cache.get_or_set(VERSION_KEY, 0, timeout=None) or 0


def calendar_changed() -> None:
    """Every cached answer is stale from now on (atomic on Redis)."""
    if not settings.SLOT_CACHE:
        return
    cache.add(VERSION_KEY, 0, timeout=None)
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # evicted between add and incr
        cache.set(VERSION_KEY, 1, timeout=None)
    except CacheUnavailable:  # Redis down: nothing is served from it; answers stored before expire in MAX_AGE
        pass


def calendar_changed_on_commit() -> None:
    """Called by every service that writes the calendar (bookings, time off, hours).

    Now, so this transaction's own later reads (and a test's, which never
    commits) see no answer cached before the write; and again after commit,
    so a reader cannot keep the old state cached under the new version.
    """
    calendar_changed()
    transaction.on_commit(calendar_changed)


def _next_hold_lapse(*, service: Service, practitioner_ids, range_start, range_end, now) -> datetime | None:
    holds = Booking.objects.awaiting_payment(now).filter(start__lt=range_end, blocks_until__gt=range_start)
    if practitioner_ids is None:
        holds = holds.filter(practitioner__services=service)
    else:
        holds = holds.filter(practitioner_id__in=practitioner_ids)
    return holds.aggregate(first=Min("hold_expires_at"))["first"]


def _cached(kind: str, transform, *, service: Service, date_from: date, date_to: date, practitioner_ids):
    """The transformed free slots, from the cache while still true, else computed and stored."""
    if not settings.SLOT_CACHE:
        return transform(
            availability.free_slots(service=service, date_from=date_from, date_to=date_to,
                                    practitioner_ids=practitioner_ids)
        )
    now = timezone.now()
    who = "any" if practitioner_ids is None else ",".join(map(str, sorted(practitioner_ids)))
    key = f"slots:{calendar_version()}:{kind}:{service.pk}:{date_from}:{date_to}:{who}"
    cached = cache.get(key)
    if cached is not None:
        valid_until, value = cached
        if now < valid_until:
            return value
    slots = availability.free_slots(
        service=service, date_from=date_from, date_to=date_to, practitioner_ids=practitioner_ids, now=now
    )
    limits = [now + MAX_AGE]
    if slots:
        limits.append(slots[0].start - timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES))
    range_start, _ = availability.local_day_bounds(date_from)
    _, range_end = availability.local_day_bounds(date_to)
    lapse = _next_hold_lapse(
        service=service, practitioner_ids=practitioner_ids, range_start=range_start, range_end=range_end, now=now
    )
    if lapse is not None:
        limits.append(lapse)
    value = transform(slots)
    cache.set(key, (min(limits), value), timeout=int(MAX_AGE.total_seconds()))
    return value


def free_slots(
    *, service: Service, date_from: date, date_to: date, practitioner_ids: list[int] | None = None
) -> list[availability.Slot]:
    """availability.free_slots for patients' reads (minimum notice and horizon applied), cached."""
    return _cached("slots", list, service=service, date_from=date_from, date_to=date_to,
                   practitioner_ids=practitioner_ids)


def free_slot_dicts(
    *, service: Service, date_from: date, date_to: date, practitioner_ids: list[int] | None = None
) -> list[dict]:
    """The same as Slot.as_dict() rows (the API's shape), cached already formatted:
    formatting 1,200 London times costs more than computing the slots from cache."""
    return _cached("dicts", lambda slots: [slot.as_dict() for slot in slots], service=service,
                   date_from=date_from, date_to=date_to, practitioner_ids=practitioner_ids)
