"""The day view's rendered calendar, cached while nothing can have changed it.

Reception reloads the day view all day; rendering 240 bookings and 400 free
cells is most of the request. The fragment (everything inside the page's
main block, no CSRF token, no messages) is kept under the calendar version
(booking.slot_cache: bumped after every write to bookings, time off, hours,
practitioners, services, payments and patients' names) and only until the
first moment time alone could change it: a hold lapsing, a free cell of today
passing, midnight, or MAX_AGE. Off (computed every time) with SLOT_CACHE=0.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.cache import cache

from common.clock import london_date
from booking.availability import local_day_bounds
from booking.calendar import PractitionerDay
from booking.slot_cache import MAX_AGE, calendar_version


def key(*, day: date, practitioner_ids: list[int] | None, reception: bool) -> str:
    who = "all" if practitioner_ids is None else ",".join(map(str, sorted(practitioner_ids)))
    version = calendar_version() if settings.SLOT_CACHE else 0  # off: no read of the version (a query without Redis)
    return f"dayview:{version}:{day.isoformat()}:{who}:{int(reception)}"


def get(cache_key: str, now: datetime) -> str | None:
    if not settings.SLOT_CACHE:
        return None
    cached = cache.get(cache_key)
    if cached is not None and now < cached[0]:
        return cached[1]
    return None


def valid_until(pdays: list[PractitionerDay], now: datetime) -> datetime:
    """The first instant time alone changes what the page shows."""
    limits = [now + MAX_AGE, local_day_bounds(london_date(now))[1]]
    for pday in pdays:
        limits += [b.hold_expires_at for b in pday.bookings if b.status == "held" and b.hold_expires_at]
    step = timedelta(minutes=settings.BOOKING_SLOT_MINUTES).total_seconds()
    # A free cell is offered only while its start is in the future: the next grid line.
    next_line = (int(now.timestamp() // step) + 1) * step
    limits.append(datetime.fromtimestamp(next_line, now.tzinfo))
    return min(limit for limit in limits if limit > now)


def put(cache_key: str, html: str, *, until: datetime) -> None:
    if settings.SLOT_CACHE:
        cache.set(cache_key, (until, html), timeout=int(MAX_AGE.total_seconds()))
