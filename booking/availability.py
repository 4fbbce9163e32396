"""Which slots are free? Pure reads: no writes, no HTTP, no request objects.

A slot is a start on the clinic's grid (London wall-clock time) where
[start, start + duration + buffer_after) lies inside the union of the
practitioner's working-hours rows that day (rows that touch or overlap are one
interval) and overlaps no time off and no active booking (with that
booking's own buffer). The cost is two queries whatever the date range or
the number of past bookings: working hours (with practitioners), then time off
and bookings together (UNION ALL; the bookings half an indexed range query).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from django.conf import settings
from django.db import connections
from django.db.models import BooleanField, FloatField, Func
from django.db.models.expressions import RawSQL
from django.utils import timezone

from common.clock import LONDON, local_day_bounds

from .models import Booking, Practitioner, Service, TimeOff, WorkingHours, hold_lapsed_q



@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    practitioner_id: int
    end: datetime

    def as_dict(self) -> dict:
        # astimezone, not timezone.localtime: same result for these aware
        # instants, and half the cost when an API answer holds 1,000+ slots.
        return {
            "start": self.start.astimezone(LONDON).isoformat(),
            "end": self.end.astimezone(LONDON).isoformat(),
            "practitioner": self.practitioner_id,
        }

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(LONDON)


def london_datetime(day: date, clock: time) -> datetime | None:
    """The instant a London wall-clock reading names, or None if it does not exist.

    Spring-forward: 01:30 on the last Sunday of March does not exist (None).
    Fall-back: 01:30 on the last Sunday of October happens twice; this is the
    first (fold=0, BST). `.replace(fold=1)` names the second (GMT).
    """
    naive = datetime.combine(day, clock)
    aware = naive.replace(tzinfo=LONDON, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
    if round_trip != naive:
        return None
    return aware


def _first_instant_after_gap(naive: datetime) -> datetime:
    """The first real instant after the spring-forward gap that swallows a local reading.

    zoneinfo reads a missing time with the offset before the change (fold=0,
    an instant after the change) or after it (fold=1, an instant before it):
    the change lies between the two, found by bisecting whole seconds.
    """
    low = int(naive.replace(tzinfo=LONDON, fold=1).timestamp())
    high = int(naive.replace(tzinfo=LONDON, fold=0).timestamp())
    after = datetime.fromtimestamp(high, LONDON).utcoffset()
    while low < high:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, LONDON).utcoffset() == after:
            high = middle
        else:
            low = middle + 1
    return datetime.fromtimestamp(high, UTC)


@lru_cache(maxsize=4096)
def hours_boundary(day: date, clock: time) -> datetime:
    """The instant (UTC) a working-hours boundary names on a London day.

    A reading inside the spring-forward gap means the first real instant after
    it (01:30 on 28 March 2027 is 02:00 BST); an ambiguous reading on the
    fall-back day means its first occurrence.
    """
    aware = london_datetime(day, clock)
    if aware is not None:
        return aware.astimezone(UTC)
    return _first_instant_after_gap(datetime.combine(day, clock))


def working_spans(day: date, rows) -> list[tuple[int, int]]:
    """The union of one day's working-hours rows as [start, end) POSIX seconds, sorted.

    Rows that touch or overlap make one span (09:00-13:00 and 13:00-17:00 are
    09:00-17:00): a slot may straddle the line between them. `rows` are the
    rows that apply on `day` (anything with start_time and end_time).
    """
    # Whole seconds inward: hours starting at 09:15:00.5 must not offer 09:15.
    pieces = sorted(
        (math.ceil(hours_boundary(day, row.start_time).timestamp()), math.floor(hours_boundary(day, row.end_time).timestamp()))
        for row in rows
    )
    spans: list[list[int]] = []
    for begin, finish in pieces:
        if finish <= begin:  # a row wholly inside the spring-forward gap
            continue
        if spans and begin <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], finish)
        else:
            spans.append([begin, finish])
    return [(begin, finish) for begin, finish in spans]


def _second_readings(day: date) -> tuple[int, int, int] | None:
    """On the fall-back day: (first, last + 1, shift) of the POSIX seconds that are a
    wall-clock reading's second occurrence, whose first occurrence is `shift` seconds
    earlier. None on every other day."""
    day_start, next_day = local_day_bounds(day)
    before, after = day_start.utcoffset(), next_day.utcoffset()
    assert before is not None and after is not None  # London-aware bounds always have an offset
    if before <= after:
        return None
    low, high = int(day_start.timestamp()), int(next_day.timestamp())
    while low < high:  # the instant the clocks go back
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, LONDON).utcoffset() == after:
            high = middle
        else:
            low = middle + 1
    shift = int((before - after).total_seconds())
    return high, high + shift, shift


@dataclass(frozen=True)
class _Clock:
    start_time: time
    end_time: time


@dataclass(frozen=True)
class _HoursRow:
    weekday: int
    start_time: time
    end_time: time
    valid_from: date | None
    valid_until: date | None

    def applies_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_until is None or day <= self.valid_until)


@dataclass
class _Calendar:
    # practitioner id -> weekday -> that weekday's working-hours rows
    hours: dict[int, dict[int, list[_HoursRow]]]
    # Busy intervals as POSIX seconds [start, end), sorted by start.
    busy: dict[int, list[tuple[float, float]]]


class _Epoch(Func):
    """A timestamptz as POSIX seconds, computed by PostgreSQL.

    Loading a thousand timestamptz values through Django's time-zone-aware
    loader costs ~10 ms of Python; floats load in C.
    """

    template = "EXTRACT(EPOCH FROM %(expressions)s)::float8"
    output_field = FloatField()


def _busy_rows(time_off, bookings):
    """(practitioner_id, start seconds, end seconds) of time off and bookings, in one UNION ALL query."""
    if connections[bookings.db].vendor == "postgresql":
        return time_off.annotate(_s=_Epoch("start"), _e=_Epoch("end")).values_list("practitioner_id", "_s", "_e").union(
            bookings.annotate(_s=_Epoch("start"), _e=_Epoch("blocks_until")).values_list("practitioner_id", "_s", "_e"),
            all=True,
        )
    rows = time_off.values_list("practitioner_id", "start", "end").union(
        bookings.values_list("practitioner_id", "start", "blocks_until"), all=True
    )
    return ((pid, begin.timestamp(), finish.timestamp()) for pid, begin, finish in rows)


def _active_status():
    """status IN ('held', 'confirmed', 'attended') with the values written into the SQL.

    SQLite uses a partial index (booking_active_until_idx) only when the
    query's WHERE implies the index's, which it cannot prove for bound
    parameters: with `status IN (?, ?, ?)` it scanned every past booking of
    the practitioners instead (3x slower at 100,000 past bookings). The values
    are the model's own constants, never input.
    """
    column = f'"{Booking._meta.db_table}"."status"'
    values = ", ".join(f"'{status}'" for status in Booking.CONSTRAINED_STATUSES)
    return RawSQL(f"{column} IN ({values})", [], output_field=BooleanField())


def _load(
    *,
    service: Service,
    practitioner_ids: list[int] | None,
    range_start: datetime,
    range_end: datetime,
    now: datetime,
    exclude_booking_id: int | None = None,
) -> _Calendar:
    # Plain tuples, not model instances: a clinic has ~100 rows and building
    # three model objects per row would be most of the cost of the read.
    hours_qs = WorkingHours.objects.filter(practitioner__active=True, practitioner__services=service).order_by()
    if practitioner_ids is not None:
        hours_qs = hours_qs.filter(practitioner_id__in=practitioner_ids)
    hours: dict[int, dict[int, list[_HoursRow]]] = defaultdict(lambda: defaultdict(list))
    for pid, weekday, start_time, end_time, valid_from, valid_until in hours_qs.values_list(
        "practitioner_id", "weekday", "start_time", "end_time", "valid_from", "valid_until"
    ):
        row = _HoursRow(weekday, start_time, end_time, valid_from, valid_until)
        hours[pid][row.weekday].append(row)
    busy: dict[int, list[tuple[float, float]]] = defaultdict(list)
    if not hours:
        return _Calendar(hours, busy)

    ids = list(hours)
    time_off = TimeOff.objects.filter(practitioner_id__in=ids, start__lt=range_end, end__gt=range_start).order_by()
    bookings = (
        Booking.objects.filter(
            _active_status(),
            practitioner_id__in=ids,
            blocks_until__gt=range_start,
            start__lt=range_end,
        )
        # A lapsed hold frees its slot at once, whether or not clean-up has run.
        .exclude(hold_lapsed_q(now))
        # No ORDER BY: the model's default (-start) would make the database sort
        # rows that are sorted here anyway.
        .order_by()
    )
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    for pid, start, end in _busy_rows(time_off, bookings):
        busy[pid].append((start, end))
    for intervals in busy.values():
        intervals.sort()
    return _Calendar(hours, busy)


def _grids(spans: list[tuple[int, int]], step: int, occupied: int) -> list[range]:
    """The grid starts inside each span whose [start, start + occupied) fits in it, as POSIX seconds.

    The clinic's grid is London wall-clock time on the hour and every `step`
    after it. London's offsets are whole hours and the step divides the hour
    (a system check insists), so the grid lines are the multiples of `step` in
    POSIX seconds on every day, clock changes included: real elapsed time, no
    wall-clock arithmetic, and the spring-forward gap has no instants to offer.
    """
    grids = []
    for begin, finish in spans:
        first = -(-begin // step) * step
        grid = range(first, finish - occupied + 1, step)
        if grid:
            grids.append(grid)
    return grids


def _free_on_grid(grid: range, busy_starts, ends, count: int, occupied: int, earliest: float, latest: float):
    """The starts of a regular grid whose [start, start + occupied) meets no busy interval.

    Walks the gaps between busy intervals instead of testing each start, so
    the cost follows the number of free slots, not of candidates.
    """
    step = grid.step
    origin = grid.start
    last = grid[-1]

    def starts_between(low: float, high: float) -> range:
        # Grid starts s with low <= s <= high (and inside notice and horizon).
        low = max(low, earliest, origin)
        high = min(high, latest, last)
        if low > high:
            return range(0)
        first = origin + -(-(int(low) - origin) // step) * step
        if first < low:  # low had a fraction of a second
            first += step
        return range(first, int(high) + 1, step)

    cursor = origin  # the earliest start not yet ruled out
    i = bisect.bisect_right(ends, origin)  # busy intervals that end after the first start
    while i < count and busy_starts[i] < last + occupied:
        # Starts that finish (with their buffer) by this interval's start are free.
        yield from starts_between(cursor, busy_starts[i] - occupied)
        if ends[i] > cursor:
            cursor = ends[i]
        i += 1
    yield from starts_between(cursor, last)


def free_slots(
    *,
    service: Service,
    date_from: date,
    date_to: date,
    practitioner_ids: list[int] | None = None,
    now: datetime | None = None,
    enforce_notice: bool = True,
    exclude_booking_id: int | None = None,
    every_reading: bool = False,
) -> list[Slot]:
    """Free slots for a service between two London dates (inclusive), by start then practitioner.

    On the fall-back night a wall-clock reading of 01:00-01:59 happens twice. What is offered
    (patients' pages and the API) has each reading once, as its earliest free one (design.md);
    `every_reading=True` keeps both when both are free: every free instant, for "is this instant
    free?" (is_free, booking_hold's candidates) and the desk, whose picker names both readings.
    """
    now = now or timezone.now()
    range_start, _ = local_day_bounds(date_from)
    _, range_end = local_day_bounds(date_to)
    earliest = now + timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES) if enforce_notice else now
    latest = now + timedelta(days=settings.BOOKING_HORIZON_DAYS) if enforce_notice else None

    if latest is not None and range_start > latest:
        return []
    calendar = _load(
        service=service,
        practitioner_ids=practitioner_ids,
        range_start=range_start,
        range_end=range_end,
        now=now,
        exclude_booking_id=exclude_booking_id,
    )
    # Integers (POSIX seconds) in the loop: 30 days x 8 practitioners is ~10,000
    # candidate starts, and datetime arithmetic would dominate the request.
    step = settings.BOOKING_SLOT_MINUTES * 60
    occupied = (service.duration + service.buffer_after) * 60
    earliest_ts = earliest.timestamp()
    latest_ts = latest.timestamp() if latest is not None else float("inf")
    days = []
    day = date_from
    while day <= date_to:
        days.append(day)
        day += timedelta(days=1)

    grids: dict[tuple, list[range]] = {}
    found: set[tuple[int, int]] = set()
    for pid, by_weekday in calendar.hours.items():
        busy = calendar.busy.get(pid, [])
        busy_starts = [start for start, _ in busy]
        # Running maximum of the ends: one bisect finds the first interval that
        # could still be going on at a given instant.
        ends = []
        running = float("-inf")
        for _, end in busy:
            running = end if end > running else running
            ends.append(running)
        count = len(busy)
        for day in days:
            rows = tuple(
                (row.start_time, row.end_time) for row in by_weekday.get(day.weekday(), ()) if row.applies_on(day)
            )
            if not rows:
                continue
            key = (day, rows)
            day_grids = grids.get(key)
            if day_grids is None:
                day_grids = grids[key] = _grids(
                    working_spans(day, [_Clock(*row) for row in rows]), step, occupied
                )
            for grid in day_grids:
                found.update(
                    (start, pid)
                    for start in _free_on_grid(grid, busy_starts, ends, count, occupied, earliest_ts, latest_ts)
                )
    # The fall-back day: an ambiguous reading is offered once, as its earliest
    # free reading. The second is dropped where the first is offered too.
    for day in days if not every_reading else ():
        readings = _second_readings(day)
        if readings is None:
            continue
        first, last, shift = readings
        found = {(start, pid) for start, pid in found if not (first <= start < last and (start - shift, pid) in found)}
    length = timedelta(minutes=service.duration)
    slots = []
    for start, pid in sorted(found):
        instant = datetime.fromtimestamp(start, UTC)
        slots.append(Slot(start=instant, practitioner_id=pid, end=instant + length))
    return slots


def practitioners_for(service: Service):
    return Practitioner.objects.offering(service).select_related("user")


def is_free(
    *,
    service: Service,
    practitioner: Practitioner,
    start: datetime,
    now: datetime | None = None,
    enforce_notice: bool = True,
    exclude_booking_id: int | None = None,
) -> bool:
    day = timezone.localtime(start, LONDON).date()
    return any(
        slot.start == start
        for slot in free_slots(
            service=service,
            date_from=day,
            date_to=day,
            practitioner_ids=[practitioner.pk],
            now=now,
            enforce_notice=enforce_notice,
            exclude_booking_id=exclude_booking_id,
            every_reading=True,  # the instant asked for, whichever reading of the fall-back night it is
        )
    )


@dataclass(frozen=True)
class Conflict:
    """Why a start is not free for a practitioner: the first thing in the way."""

    kind: str  # "booking", "time_off", "hours"
    start: datetime | None = None
    end: datetime | None = None
    booking: Booking | None = None
    time_off: TimeOff | None = None


def conflict_at(
    *, service: Service, practitioner: Practitioner, start: datetime, exclude_booking_id: int | None = None,
    now: datetime | None = None,
) -> Conflict | None:
    """What stops [start, start + duration + buffer) for this practitioner (for staff refusals), or None."""
    now = now or timezone.now()
    end = start + timedelta(minutes=service.blocked_minutes)
    bookings = Booking.objects.blocking(now).filter(practitioner=practitioner).overlapping(start, end)
    if exclude_booking_id is not None:
        bookings = bookings.exclude(pk=exclude_booking_id)
    clash = bookings.select_related("patient").order_by("start").first()
    if clash is not None:
        return Conflict("booking", clash.start, clash.blocks_until, booking=clash)
    off = TimeOff.objects.filter(practitioner=practitioner, start__lt=end, end__gt=start).order_by("start").first()
    if off is not None:
        return Conflict("time_off", off.start, off.end, time_off=off)
    day = timezone.localtime(start, LONDON).date()
    rows = [row for row in practitioner.working_hours.all() if row.applies_on(day)]
    spans = working_spans(day, rows)
    begin, finish = start.timestamp(), end.timestamp()
    if any(low <= begin and finish <= high for low, high in spans):
        return None
    around = next(((low, high) for low, high in spans if low <= begin < high), None)
    if around is None:
        return Conflict("hours")
    return Conflict("hours", datetime.fromtimestamp(around[0], UTC), datetime.fromtimestamp(around[1], UTC))


@dataclass(frozen=True)
class ServiceFit:
    service: Service
    fits: bool


def services_fitting(*, practitioner: Practitioner, start: datetime, now: datetime | None = None) -> list[ServiceFit]:
    """For reception's click on a free cell: which of the practitioner's services fit at `start`
    (working hours, time off, bookings, each service's own buffer; no online notice rule)."""
    day = timezone.localtime(start, LONDON).date()
    offered = list(practitioner.services.filter(active=True))
    result = []
    for service in offered:
        free = free_slots(service=service, date_from=day, date_to=day, practitioner_ids=[practitioner.pk], now=now,
                          enforce_notice=False, every_reading=True)
        result.append(ServiceFit(service=service, fits=any(slot.start == start for slot in free)))
    return result


def nearest_free(
    *,
    service: Service,
    start: datetime,
    practitioner: Practitioner | None = None,
    count: int = 3,
    now: datetime | None = None,
    enforce_notice: bool = True,
) -> list[Slot]:
    """The free slots closest in time to `start` (within a week either side), in start order."""
    day = timezone.localtime(start, LONDON).date()
    slots = free_slots(
        service=service,
        date_from=day - timedelta(days=7),
        date_to=day + timedelta(days=7),
        practitioner_ids=[practitioner.pk] if practitioner else None,
        now=now,
        enforce_notice=enforce_notice,
    )
    best: dict[datetime, Slot] = {}
    for slot in sorted(slots, key=lambda s: (abs(s.start - start), s.start, s.practitioner_id)):
        if slot.start != start and slot.start not in best:
            best[slot.start] = slot
        if len(best) == count:
            break
    return sorted(best.values())



def working_intervals(practitioner_hours: list[WorkingHours], day: date) -> list[tuple[datetime, datetime]]:
    """A practitioner's working time on one London day, as aware UTC instants (for calendars).

    The same union of rows the engine offers slots in: touching or overlapping
    rows are one interval.
    """
    rows = [row for row in practitioner_hours if row.applies_on(day)]
    return [
        (datetime.fromtimestamp(begin, UTC), datetime.fromtimestamp(finish, UTC))
        for begin, finish in working_spans(day, rows)
    ]
