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
from datetime import date, datetime, time, timedelta
from types import ModuleType

from django.utils import timezone

from booking.availability import working_intervals
from common.clock import LONDON
from payments.models import Payment

from . import direct, summary
from .totals import BookingTotals, FunnelTotals, MoneyTotals, Period, StaffTime, minutes

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
    and any other with a booking in the period, in their order on the site."""
    totals = booking_totals(period, source)
    staff: StaffTime = _memo(period, source, "staff_time")
    practitioners = sorted((p for p in staff.practitioners if p.active or p.pk in totals), key=lambda p: (p.position, p.pk))
    hours, time_off = staff.hours, staff.time_off
    special = _clock_change_days(period)
    weekdays = _weekday_counts(period)
    result = []
    for practitioner in practitioners:
        blocks = time_off.get(practitioner.pk, [])
        blocked = {day for day in special | _days_touched(blocks) if period.date_from <= day <= period.date_to}
        rows_of = hours.get(practitioner.pk, [])
        if any(r.valid_from is not None or r.valid_until is not None for r in rows_of):
            working = _dated_working_minutes(period, rows_of, blocks, blocked)
        else:
            working = _weekly_working_minutes(rows_of, blocks, blocked, weekdays)
        booked = totals.get(practitioner.pk, BookingTotals()).occupied_minutes
        result.append(Utilisation(practitioner.name, booked, working))
    return result


def _wall_clock_minutes(rows) -> int:
    """The rows' merged length in wall-clock time (a day without time off or a clock change)."""
    day = date(2000, 1, 3)  # any: only the times of day count
    return _merged_minutes([(datetime.combine(day, r.start_time), datetime.combine(day, r.end_time)) for r in rows])


def _real_minutes(rows, day: date, blocks) -> int:
    """The rows' length on `day` in real instants, less time off (a day with time off, or the clocks changing)."""
    intervals = working_intervals(rows, day)
    return _merged_minutes(_subtract(intervals, blocks) if blocks else intervals)


def _weekly_working_minutes(hours, blocks, blocked: set[date], weekdays: list[int]) -> int:
    """Hours without validity dates apply on every day of their weekday: each weekday's wall-clock
    minutes times how often it falls in the period, then the blocked days put right one by one."""
    by_weekday = defaultdict(list)
    for row in hours:
        by_weekday[row.weekday].append(row)
    plain = {weekday: _wall_clock_minutes(rows) for weekday, rows in by_weekday.items()}
    working = sum(weekdays[weekday] * minutes for weekday, minutes in plain.items())
    for day in blocked:
        if day.weekday() in plain:
            working += _real_minutes(by_weekday[day.weekday()], day, blocks) - plain[day.weekday()]
    return working


def _dated_working_minutes(period: Period, hours, blocks, blocked: set[date]) -> int:
    """Hours that change during the period: day by day, wall-clock minutes cached by the set of rows that apply."""
    plain: dict[tuple, int] = {}
    working = 0
    for day in period.days():
        applying = [r for r in hours if r.applies_on(day)]
        if not applying:
            continue
        if day in blocked:
            working += _real_minutes(applying, day, blocks)
        else:
            key = tuple(r.pk for r in applying)
            if key not in plain:
                plain[key] = _wall_clock_minutes(applying)
            working += plain[key]
    return working


def _weekday_counts(period: Period) -> list[int]:
    """How many Mondays, ..., Sundays the period has."""
    length, first = (period.date_to - period.date_from).days + 1, period.date_from.weekday()
    counts = [0] * 7
    for offset in range(7):
        counts[(first + offset) % 7] = max(0, (length - offset + 6) // 7)
    return counts


def _midnight_offset(day: date) -> timedelta | None:
    return datetime.combine(day, time.min, tzinfo=LONDON).utcoffset()


def _clock_change_days(period: Period) -> set[date]:
    """Days that are not 24 hours long. London changes its clocks at most once a month: a month
    whose first and next month's first midnights have the same offset has none (13 checks a year)."""
    days = set()
    first = period.date_from
    while first <= period.date_to:
        next_month = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        last = min(next_month - timedelta(days=1), period.date_to)
        if _midnight_offset(first) != _midnight_offset(last + timedelta(days=1)):
            day = first
            while day <= last:
                if _midnight_offset(day) != _midnight_offset(day + timedelta(days=1)):
                    days.add(day)
                day += timedelta(days=1)
        first = last + timedelta(days=1)
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
