"""The owner's figures for a period, computed in the database. Reads only.

Each figure costs a fixed number of queries (aggregates grouped by a handful
of keys), whatever the number of bookings: the bookings are counted and summed
by the database, never loaded. The period is a range of London days,
[date_from 00:00, date_to + 1 day 00:00) London time; bookings count by their
start, payments by when they were taken, refunds by when they were made,
offer codes by when they were issued.

"Bookings made" everywhere means every booking except holds that were never
paid (held, expired): confirmed, attended, no-show and cancelled ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, DurationField, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from booking.availability import local_day_bounds, working_intervals
from booking.models import Booking, BookingEvent, Practitioner, TimeOff
from offers.models import OfferCode
from payments.models import Payment

from . import ledger

MADE = (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW, Booking.Status.CANCELLED)
# Time a practitioner spent booked: the patient came, or the slot was kept for them.
OCCUPIED = (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
WAITLIST_SOURCE = "waitlist"  # a later issue's source; counted when it exists, 0 until then


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date
    # Figures several reports share, read once per Period object (one request's page): see booking_tallies.
    _memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def start(self) -> datetime:
        return local_day_bounds(self.date_from)[0]

    @property
    def end(self) -> datetime:
        return local_day_bounds(self.date_to)[1]

    def days(self):
        day = self.date_from
        while day <= self.date_to:
            yield day
            day += timedelta(days=1)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class BookingTally:
    practitioner_id: int
    source: str
    status: str
    count: int
    minutes: int


def booking_tallies(period: Period) -> list[BookingTally]:
    """Bookings starting in the period, counted and their minutes summed per (practitioner, source, status).

    One scan of the period's bookings feeds utilisation, sources and attendance
    (at most practitioners x sources x statuses rows, whatever the number of
    bookings); the page's reports share it through the Period object.
    """
    if "tallies" not in period._memo:
        rows = (
            Booking.objects.filter(start__gte=period.start, start__lt=period.end)
            .values("practitioner_id", "source", "status")
            .annotate(n=Count("id"), total=Sum(F("end") - F("start"), output_field=DurationField()))
            .order_by()
        )
        period._memo["tallies"] = [
            BookingTally(r["practitioner_id"], r["source"], r["status"], r["n"], _minutes(r["total"])) for r in rows
        ]
    return period._memo["tallies"]


# --- Utilisation -------------------------------------------------------------------------


@dataclass(frozen=True)
class Utilisation:
    practitioner: str
    booked_minutes: int
    working_minutes: int

    @property
    def rate(self) -> float | None:
        return _ratio(self.booked_minutes, self.working_minutes)


def _minutes(delta: timedelta | None) -> int:
    return int(delta.total_seconds() // 60) if delta else 0


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
    return _minutes(total)


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


def utilisation(period: Period) -> list[Utilisation]:
    """Booked minutes / working minutes (weekly hours less time off), per practitioner.
    Four queries (practitioners, their hours, time off, and booking_tallies unless already read)."""
    tallies = booking_tallies(period)
    practitioners = list(
        Practitioner.objects.filter(Q(active=True) | Q(pk__in={t.practitioner_id for t in tallies}))
        .select_related("user")
        .prefetch_related("working_hours")
        .order_by("position", "id")
    )
    time_off = defaultdict(list)
    for row in TimeOff.objects.filter(start__lt=period.end, end__gt=period.start).values("practitioner_id", "start", "end"):
        time_off[row["practitioner_id"]].append((row["start"], row["end"]))
    booked = defaultdict(int)
    for t in tallies:
        if t.status in OCCUPIED:
            booked[t.practitioner_id] += t.minutes
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
        rows.append(Utilisation(practitioner.name, booked[practitioner.pk], working))
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
    (Booking.Source.ONLINE, "Online"),
    (Booking.Source.RECEPTION, "Phone or desk (reception)"),
    (WAITLIST_SOURCE, "Waitlist"),
]


def bookings_by_source(period: Period) -> list[Tally]:
    counts = defaultdict(int)
    for t in booking_tallies(period):
        if t.status in MADE:
            counts[t.source] += t.count
    rows = [Tally(label, counts.pop(value, 0)) for value, label in SOURCE_LABELS]
    rows += [Tally(value, n) for value, n in sorted(counts.items())]  # a source added later, shown as is
    return rows


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


def attendance(period: Period) -> Attendance:
    """One query (and booking_tallies unless already read). A late cancellation is one made inside
    the free-cancellation window (BOOKING_FREE_CANCEL_HOURS before the start), whoever made it."""
    by_status = defaultdict(int)
    for t in booking_tallies(period):
        by_status[t.status] += t.count
    figures = {
        "bookings": sum(by_status[s] for s in MADE),
        "attended": by_status[Booking.Status.ATTENDED],
        "no_shows": by_status[Booking.Status.NO_SHOW],
        "cancellations": by_status[Booking.Status.CANCELLED],
    }
    # From the cancellation events' side: a join over the few cancelled bookings,
    # not a subquery per booking in the period.
    window = timedelta(hours=settings.BOOKING_FREE_CANCEL_HOURS)
    figures["late_cancellations"] = (
        BookingEvent.objects.filter(
            action=BookingEvent.Action.CANCELLED,
            booking__status=Booking.Status.CANCELLED,
            booking__start__gte=period.start,
            booking__start__lt=period.end,
            at__gt=F("booking__start") - window,
        )
        .values("booking")
        .distinct()
        .count()
    )
    return Attendance(**figures)


# --- Revenue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revenue:
    method: str
    taken_pence: int
    refunded_pence: int

    @property
    def net_pence(self) -> int:
        return self.taken_pence - self.refunded_pence


def revenue(period: Period) -> list[Revenue]:
    """By payment method, net of refunds, from the ledger. Two queries."""
    taken = ledger.taken_by_method(start=period.start, end=period.end)
    refunded = ledger.refunded_by_method(start=period.start, end=period.end)
    return [
        Revenue(label, taken.get(value, 0), refunded.get(value, 0))
        for value, label in Payment.Method.choices
        if value in taken or value in refunded or value != Payment.Method.LOCAL_TEST
    ]


def revenue_total(rows: list[Revenue]) -> Revenue:
    return Revenue("All methods", sum(r.taken_pence for r in rows), sum(r.refunded_pence for r in rows))


# --- The first-session offer funnel ---------------------------------------------------------


def offer_funnel(period: Period) -> list[Tally]:
    """Codes issued in the period, and how far each got. One query.

    claimed -> used in a hold (any booking ever carried the code) -> paid (a
    paid booking redeemed it) -> came back (that patient has a later
    confirmed or attended booking: a follow-up).
    """
    held = Booking.objects.filter(offer_code=OuterRef("pk"))
    came_back = Booking.objects.filter(
        patient=OuterRef("redeemed_by__patient"),
        start__gt=OuterRef("redeemed_by__start"),
        status__in=(Booking.Status.CONFIRMED, Booking.Status.ATTENDED),
    )
    figures = (
        OfferCode.objects.filter(issued_at__gte=period.start, issued_at__lt=period.end)
        .annotate(was_held=Exists(held), came_back=Exists(came_back))
        .aggregate(
            claimed=Count("id"),
            held=Count("id", filter=Q(was_held=True)),
            paid=Count("id", filter=Q(redeemed_by__isnull=False)),
            returned=Count("id", filter=Q(redeemed_by__isnull=False, came_back=True)),
        )
    )
    return [
        Tally("Codes claimed", figures["claimed"]),
        Tally("Used in a booking hold", figures["held"]),
        Tally("Paid", figures["paid"]),
        Tally("Came back for a follow-up", figures["returned"]),
    ]
