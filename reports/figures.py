"""The owner's figures for a period, from totals computed in the database. Reads only.

The totals come from the per-day summary (reports/summary.py: a year is a few thousand small
rows, kept true as bookings and payments change) or, given source=direct, straight from the
bookings, payments and codes (reports/direct.py, the reference the summary is tested against).
Either way each report costs a fixed number of queries whatever the number of bookings. The
definitions (bookings made, late cancellations, which payments count) are in
reports/definitions.py; the period is a range of London days (totals.Period).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import ModuleType

from django.db.models import Q
from django.utils import timezone

from booking.availability import local_day_bounds, working_intervals
from booking.models import Practitioner, TimeOff
from payments.models import Payment

from . import direct, summary
from .totals import BookingTotals, FunnelTotals, MoneyTotals, Period, minutes

__all__ = ["Period", "direct", "summary"]


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _memo(period: Period, source: ModuleType, name: str):
    """source.<name>(period), read once per Period object and source: the page's reports share it."""
    key = (source.__name__, name)
    if key not in period._memo:
        period._memo[key] = getattr(source, name)(period)
    return period._memo[key]


def booking_totals(period: Period, source: ModuleType = summary) -> dict[int, BookingTotals]:
    return _memo(period, source, "booking_totals")


# --- Utilisation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Utilisation:
    practitioner: str
    booked_minutes: int
    working_minutes: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.booked_minutes, self.working_minutes)


def _merged_minutes(intervals: list[tuple[datetime, datetime]]) -> int:
    total, current_start, current_end = timedelta(0), None, None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return minutes(total)


def _subtract(intervals, blocks):
    """Working intervals less time off (both lists of aware (start, end))."""
    result = []
    for start, end in intervals:
        pieces = [(start, end)]
        for b_start, b_end in blocks:
            next_pieces = []
            for p_start, p_end in pieces:
                if b_end <= p_start or b_start >= p_end:
                    next_pieces.append((p_start, p_end))
                    continue
                if p_start < b_start:
                    next_pieces.append((p_start, b_start))
                if b_end < p_end:
                    next_pieces.append((b_end, p_end))
            pieces = next_pieces
        result += pieces
    return result


def utilisation(period: Period, source: ModuleType = summary) -> list[Utilisation]:
    """Booked minutes / working minutes (weekly hours less time off), per practitioner: active ones,
    and any other with a booking in the period. Three queries, and the booking totals unless already read."""
    totals = booking_totals(period, source)
    practitioners = list(
        Practitioner.objects.filter(Q(active=True) | Q(pk__in=list(totals)))
        .select_related("user")
        .prefetch_related("working_hours")
        .order_by("position", "id")
    )
    time_off = defaultdict(list)
    for row in TimeOff.objects.filter(start__lt=period.end, end__gt=period.start).values("practitioner_id", "start", "end"):
        time_off[row["practitioner_id"]].append((row["start"], row["end"]))
    calendar = [(day, day.weekday()) for day in period.days()]  # once, not once per practitioner
    special = _clock_change_days(period)
    rows = []
    for practitioner in practitioners:
        hours = list(practitioner.working_hours.all())
        by_weekday = defaultdict(list)
        for row in hours:
            by_weekday[row.weekday].append(row)
        # Rows without validity dates apply on every day of their weekday: no per-day check.
        dated = any(r.valid_from is not None or r.valid_until is not None for r in hours)
        blocks = time_off[practitioner.pk]
        blocked_days = special | _days_touched(blocks)
        plain = {}  # wall-clock minutes by the set of rows that apply: most days repeat a few sets
        working = 0
        for day, weekday in calendar:
            applying = by_weekday.get(weekday)
            if applying and dated:
                applying = [r for r in applying if r.applies_on(day)]
            if not applying:
                continue
            if day in blocked_days:
                # Time off that day, or the clocks change: real instants.
                intervals = working_intervals(applying, day)
                working += _merged_minutes(_subtract(intervals, blocks) if blocks else intervals)
            else:
                key = tuple(r.pk for r in applying) if dated else weekday
                if key not in plain:
                    plain[key] = _merged_minutes(
                        [(datetime.combine(day, r.start_time), datetime.combine(day, r.end_time)) for r in applying]
                    )
                working += plain[key]
        booked = totals.get(practitioner.pk, BookingTotals()).occupied_minutes
        rows.append(Utilisation(practitioner.name, booked, working))
    return rows


def _clock_change_days(period: Period) -> set[date]:
    days = set()
    for day in period.days():
        start, end = (moment.astimezone(UTC) for moment in local_day_bounds(day))
        if end - start != timedelta(days=1):
            days.add(day)
    return days


def _days_touched(blocks) -> set[date]:
    days = set()
    for start, end in blocks:
        day, last = timezone.localtime(start).date(), timezone.localtime(end).date()
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return days


# --- Sources, no-shows, late cancellations -------------------------------------------------


@dataclass(frozen=True)
class Tally:
    label: str
    count: int


SOURCE_LABELS = [
    ("made_online", "Online"),
    ("made_reception", "Phone or desk (reception)"),
    ("made_waitlist", "Waitlist"),
]


def bookings_by_source(period: Period, source: ModuleType = summary) -> list[Tally]:
    totals = booking_totals(period, source).values()
    return [Tally(label, sum(getattr(t, name) for t in totals)) for name, label in SOURCE_LABELS]


@dataclass(frozen=True)
class Attendance:
    bookings: int
    attended: int
    no_shows: int
    late_cancellations: int
    cancellations: int

    @property
    def no_show_rate(self) -> float | None:
        return _ratio(self.no_shows, self.bookings)

    @property
    def late_cancel_rate(self) -> float | None:
        return _ratio(self.late_cancellations, self.bookings)


def attendance(period: Period, source: ModuleType = summary) -> Attendance:
    """From the booking totals. A late cancellation is one made inside the free-cancellation
    window (BOOKING_FREE_CANCEL_HOURS before the start), whoever made it."""
    totals = booking_totals(period, source).values()
    return Attendance(
        bookings=sum(t.made for t in totals),
        attended=sum(t.attended for t in totals),
        no_shows=sum(t.no_shows for t in totals),
        late_cancellations=sum(t.late_cancellations for t in totals),
        cancellations=sum(t.cancelled for t in totals),
    )


# --- Revenue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revenue:
    method: str
    taken_pence: int
    refunded_pence: int

    @property
    def net_pence(self) -> int:
        return self.taken_pence - self.refunded_pence


def revenue(period: Period, source: ModuleType = summary) -> list[Revenue]:
    """By payment method, net of refunds (the payments ledger)."""
    money: MoneyTotals = _memo(period, source, "money_totals")
    taken, refunded = money.taken, money.refunded
    return [
        Revenue(label, taken.get(value, 0), refunded.get(value, 0))
        for value, label in Payment.Method.choices
        if value in taken or value in refunded or value != Payment.Method.LOCAL_TEST
    ]


def revenue_total(rows: list[Revenue]) -> Revenue:
    return Revenue("All methods", sum(r.taken_pence for r in rows), sum(r.refunded_pence for r in rows))


# --- The first-session offer funnel ---------------------------------------------------------


def offer_funnel(period: Period, source: ModuleType = summary) -> list[Tally]:
    """Codes issued in the period, and how far each got (definitions.funnel_codes)."""
    f: FunnelTotals = _memo(period, source, "funnel_totals")
    return [
        Tally("Codes claimed", f.claimed),
        Tally("Used in a booking hold", f.held),
        Tally("Paid", f.paid),
        Tally("Came back for a follow-up", f.came_back),
    ]
