"""The reports' totals from the per-day summary (reports/models.py), kept true as things change.

Writers: every write that changes a figure calls mark_stale() with the London day(s) it touches,
in its own transaction (reports/signals.py hooks the models' save and delete). Readers: the
totals functions first recompute the period's stale days (recompute_stale), then add up the
summary rows: a few thousand small rows for a year, whatever the number of bookings.

A day is stale when it has a StaleDay marker, or no ComputedDay row for the current
cancellation window (never computed: the first report after deploy builds it). Recomputing runs
the same definitions as reports/direct.py (reports/definitions.py), grouped by London day, over
the stale days only; it deletes only the markers it read, so a write that lands meanwhile leaves
its marker for the next report. Two reports recomputing at once take turns (an advisory lock on
PostgreSQL; SQLite has one writer at a time anyway).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache, partial
from types import SimpleNamespace
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DurationField, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from booking.models import Booking, Practitioner, TimeOff, WorkingHours
from common.clock import LONDON, local_day_bounds

from . import definitions, ledger
from .models import BookingDay, ComputedDay, FunnelDay, MethodDay, StaleDay
from .totals import BookingTotals, FunnelTotals, HoursRow, MoneyTotals, Period, StaffMember, StaffTime

LOCK_KEY = 18_000_018  # pg_advisory_xact_lock: one recompute at a time
BOOKING_FIELDS = ["bookings", "made_online", "made_reception", "made_waitlist", "confirmed", "attended", "no_shows",
                  "cancelled", "late_cancellations"]


# --- Writers ------------------------------------------------------------------------------


def london_day(moment: datetime) -> date:
    return timezone.localtime(moment, LONDON).date()


def mark_stale(days: Iterable[date | None]) -> None:
    """The figures of these London days changed: one INSERT, in the caller's transaction."""
    fresh = sorted({day for day in days if day is not None})
    if fresh:
        StaleDay.objects.bulk_create([StaleDay(day=day) for day in fresh])


# --- Recomputing ----------------------------------------------------------------------------


def _day_spans(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days joined: [(first, last), ...]."""
    spans: list[tuple[date, date]] = []
    for day in sorted(days):
        if spans and spans[-1][1] + timedelta(days=1) == day:
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def stale_days(period: Period) -> tuple[set[date], list[int]]:
    """The period's days to recompute, and the ids of the markers read."""
    read = _read(period)
    return read.stale, read.marker_ids


def recompute(days: set[date], marker_ids: list[int]) -> None:
    """Rebuild the summary rows of `days` from the source tables, and drop the markers read."""
    spans = _day_spans(days)
    ranges = [(local_day_bounds(first)[0], local_day_bounds(last)[1]) for first, last in spans]
    on_days = Q()
    for first, last in spans:
        on_days |= Q(day__gte=first, day__lte=last)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        booking_days = _booking_days(ranges)
        method_days = _method_days(ranges)
        funnel_days = _funnel_days(ranges)
        for model, rows in ((BookingDay, booking_days), (MethodDay, method_days), (FunnelDay, funnel_days)):
            model.objects.filter(on_days).delete()
            model.objects.bulk_create(rows, batch_size=2000)
        ComputedDay.objects.filter(on_days).delete()
        now, window = timezone.now(), settings.BOOKING_FREE_CANCEL_HOURS
        ComputedDay.objects.bulk_create(
            [ComputedDay(day=day, cancel_window_hours=window, computed_at=now) for day in days], batch_size=2000
        )
        StaleDay.objects.filter(pk__in=marker_ids).delete()


def _by_day(queryset, field: str):
    return queryset.annotate(day=TruncDate(field, tzinfo=LONDON))


def _booking_days(ranges) -> list[BookingDay]:
    rows: dict[tuple[date, int], BookingDay] = {}

    def row(day, practitioner_id) -> BookingDay:
        key = (day, practitioner_id)
        if key not in rows:
            rows[key] = BookingDay(day=day, practitioner_id=practitioner_id)
        return rows[key]

    tallies = (
        _by_day(Booking.objects.filter(definitions.in_ranges("start", ranges)), "start")
        .values("day", "practitioner_id", "source", "status")
        .annotate(n=Count("id"), total=Sum(F("end") - F("start"), output_field=DurationField()))
        .order_by()
    )
    for t in tallies:
        r = row(t["day"], t["practitioner_id"])
        r.bookings += t["n"]
        if t["status"] in definitions.MADE:
            name = definitions.SOURCE_FIELDS[t["source"]]
            setattr(r, name, getattr(r, name) + t["n"])
        if t["status"] in definitions.STATUS_FIELDS:
            name = definitions.STATUS_FIELDS[t["status"]]
            setattr(r, name, getattr(r, name) + t["n"])
        if t["status"] in definitions.OCCUPIED and t["total"]:
            r.occupied_seconds += int(t["total"].total_seconds())
    late = (
        _by_day(definitions.late_cancellations(ranges), "booking__start")
        .values("day", "booking__practitioner_id")
        .annotate(n=Count("booking", distinct=True))
        .order_by()
    )
    for t in late:
        row(t["day"], t["booking__practitioner_id"]).late_cancellations += t["n"]
    return list(rows.values())


def _method_days(ranges) -> list[MethodDay]:
    rows: dict[tuple[date, str], MethodDay] = defaultdict(MethodDay)
    taken = (
        _by_day(ledger.payments_taken(ranges), "taken_at")
        .values("day", "method")
        .annotate(n=Count("id"), total=Sum("amount_pence"))
        .order_by()
    )
    for t in taken:
        r = rows[(t["day"], t["method"])]
        r.payments, r.taken_pence = t["n"], t["total"] or 0
    refunded = (
        _by_day(ledger.refunds_made(ranges), "created_at")
        .values("day", "payment__method")
        .annotate(n=Count("id"), total=Sum("amount_pence"))
        .order_by()
    )
    for t in refunded:
        r = rows[(t["day"], t["payment__method"])]
        r.refunds, r.refunded_pence = t["n"], t["total"] or 0
    for (day, method), r in rows.items():
        r.day, r.method = day, method
    return list(rows.values())


def _funnel_days(ranges) -> list[FunnelDay]:
    rows = _by_day(definitions.funnel_codes(ranges), "issued_at").values("day").annotate(**definitions.FUNNEL_COUNTS)
    return [FunnelDay(**r) for r in rows.order_by()]


# --- Readers: the same totals as reports/direct.py --------------------------------------------

TEXTS, VALUES = 4, 10  # text and integer columns of the statement below, after the kind and the key
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _nulls(texts: int, values: int) -> list[str]:
    return ["CAST(NULL AS TEXT)"] * texts + ["CAST(NULL AS BIGINT)"] * values


def _row(kind: str, key: str, texts: list[str], values: list[str]) -> str:
    return ", ".join([f"'{kind}'", key, *texts, *_nulls(TEXTS - len(texts), 0), *values,
                      *_nulls(0, VALUES - len(values))])


def _sums(names: list[str]) -> list[str]:
    return [f"CAST(SUM({name}) AS BIGINT)" for name in names]


def _microseconds(column: str, vendor: str) -> str:
    """An aware datetime column as microseconds since 1970 (UTC), exactly, on either database."""
    if vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    # SQLite keeps UTC text, 'YYYY-MM-DD HH:MM:SS[.ffffff]'; '%%' is a literal % in a statement with parameters.
    return f"CAST(strftime('%%s', {column}) AS INTEGER) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER)"


@cache
def _statement(vendor: str) -> str:
    """Everything a report page reads, in one statement (one round trip, no ORM to compile):
    the summary's markers, days computed and sums for the period, and the staff's names, weekly
    hours and time off for utilisation. Rows: (kind, key, 4 texts, 10 integers):
    ('stale', day, -, marker id), ('computed', -, -, days computed), ('booking', practitioner, -,
    sums), ('money', method, -, sums), ('funnel', -, -, sums), ('practitioner', id, names, position,
    active), ('hours', practitioner, times and dates, id, weekday), ('timeoff', practitioner, -,
    start, end). Plain SQL that PostgreSQL and SQLite share, but for _microseconds."""
    q = connection.ops.quote_name
    table = {model: q(model._meta.db_table) for model in (StaleDay, ComputedDay, BookingDay, MethodDay, FunnelDay)}
    staff, user = q(Practitioner._meta.db_table), q(Practitioner._meta.get_field("user").related_model._meta.db_table)
    hours, time_off = q(WorkingHours._meta.db_table), q(TimeOff._meta.db_table)
    period = "day >= %s AND day <= %s"
    position = f"CAST(p.{q('position')} AS BIGINT)"

    def text(column: str) -> str:
        return f"CAST({column} AS TEXT)"

    return " UNION ALL ".join([
        f"SELECT {_row('stale', text('day'), [], ['id'])} FROM {table[StaleDay]} WHERE {period}",
        f"SELECT {_row('computed', 'CAST(NULL AS TEXT)', [], ['COUNT(*)'])} FROM {table[ComputedDay]}"
        f" WHERE {period} AND cancel_window_hours = %s",
        f"SELECT {_row('booking', text('practitioner_id'), [], _sums([*BOOKING_FIELDS, 'occupied_seconds']))}"
        f" FROM {table[BookingDay]} WHERE {period} GROUP BY practitioner_id",
        f"SELECT {_row('money', 'method', [], _sums(['payments', 'taken_pence', 'refunds', 'refunded_pence']))}"
        f" FROM {table[MethodDay]} WHERE {period} GROUP BY method",
        f"SELECT {_row('funnel', 'CAST(NULL AS TEXT)', [], _sums(['claimed', 'held', 'paid', 'came_back']))}"
        f" FROM {table[FunnelDay]} WHERE {period}",
        f"SELECT {_row('practitioner', text('p.id'), ['u.first_name', 'u.last_name', 'u.email'], [position, 'CASE WHEN p.active THEN 1 ELSE 0 END'])}"
        f" FROM {staff} p INNER JOIN {user} u ON u.id = p.user_id",
        f"SELECT {_row('hours', text('practitioner_id'), [text('start_time'), text('end_time'), text('valid_from'), text('valid_until')], ['id', 'CAST(weekday AS BIGINT)'])}"
        f" FROM {hours}",
        f"SELECT {_row('timeoff', text('practitioner_id'), [], [_microseconds(q('start'), vendor), _microseconds(q('end'), vendor)])}"
        f" FROM {time_off} WHERE {q('start')} < %s AND {q('end')} > %s",
    ])


@dataclass
class _Read:
    stale: set[date] = field(default_factory=set)
    marker_ids: list[int] = field(default_factory=list)
    bookings: dict[int, BookingTotals] = field(default_factory=dict)
    money: MoneyTotals = field(default_factory=lambda: MoneyTotals({}, {}))
    funnel: FunnelTotals = field(default_factory=FunnelTotals)
    staff: StaffTime = field(default_factory=lambda: StaffTime([], {}, {}))


def _practitioner_name(user_model, first_name: str, last_name: str, email: str) -> str:
    """By the models' own rules (Practitioner.name, User.get_full_name), on plain values: model
    instances would cost more than the rest of the read."""
    user = SimpleNamespace(first_name=first_name, last_name=last_name, email=email)
    user.get_full_name = partial(user_model.get_full_name, user)
    return Practitioner.name.fget(SimpleNamespace(user=user))


def _optional(text: str | None, parse):
    return None if text is None else parse(text)


def _read(period: Period) -> _Read:
    """One query; one more when days are missing (to know which)."""
    ops = connection.ops
    dates = [ops.adapt_datefield_value(d) for d in (period.date_from, period.date_to)]
    params = [*dates * 2, settings.BOOKING_FREE_CANCEL_HOURS, *dates * 3,
              ops.adapt_datetimefield_value(period.end), ops.adapt_datetimefield_value(period.start)]
    with connection.cursor() as cursor:
        cursor.execute(_statement(connection.vendor), params)
        rows = cursor.fetchall()
    read, taken, refunded, computed = _Read(), {}, {}, 0
    User = Practitioner._meta.get_field("user").related_model
    hours: dict[int, list[HoursRow]] = defaultdict(list)
    time_off: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for kind, key, *rest in rows:
        t, v = rest[:TEXTS], rest[TEXTS:]
        if kind == "stale":
            read.stale.add(date.fromisoformat(key))
            read.marker_ids.append(v[0])
        elif kind == "computed":
            computed = v[0]
        elif kind == "booking":
            read.bookings[int(key)] = BookingTotals(*v[: len(BOOKING_FIELDS)],
                                                    occupied_minutes=v[len(BOOKING_FIELDS)] // 60)
        elif kind == "money":
            payments, taken_pence, refunds, refunded_pence = v[:4]
            if payments:  # a method is listed when a payment (refund) of it counts, as in direct
                taken[key] = taken_pence
            if refunds:
                refunded[key] = refunded_pence
        elif kind == "funnel":
            read.funnel = FunnelTotals(*(n or 0 for n in v[:4]))
        elif kind == "practitioner":
            name = _practitioner_name(User, *t[:3])
            read.staff.practitioners.append(StaffMember(int(key), name, v[0], bool(v[1])))
        elif kind == "hours":
            hours[int(key)].append(HoursRow(v[0], v[1], time.fromisoformat(t[0]), time.fromisoformat(t[1]),
                                            _optional(t[2], date.fromisoformat), _optional(t[3], date.fromisoformat)))
        elif kind == "timeoff":
            time_off[int(key)].append((EPOCH + timedelta(microseconds=v[0]), EPOCH + timedelta(microseconds=v[1])))
    read.money = MoneyTotals(taken=taken, refunded=refunded)
    read.staff = StaffTime(read.staff.practitioners, dict(hours), dict(time_off))
    if computed < (period.date_to - period.date_from).days + 1:
        done = ComputedDay.objects.filter(day__gte=period.date_from, day__lte=period.date_to,
                                          cancel_window_hours=settings.BOOKING_FREE_CANCEL_HOURS)
        read.stale |= set(period.days()) - set(done.values_list("day", flat=True))
    return read


def summary_totals(period: Period) -> _Read:
    """The period's totals, its stale days recomputed first; once per Period object (one request's page)."""
    if "summary" not in period._memo:
        read = _read(period)
        if read.stale:
            recompute(read.stale, read.marker_ids)
            read = _read(period)
        period._memo["summary"] = read
    return period._memo["summary"]


def recompute_stale(period: Period) -> None:
    summary_totals(period)


def booking_totals(period: Period) -> dict[int, BookingTotals]:
    """Per practitioner with a booking in the period."""
    return summary_totals(period).bookings


def money_totals(period: Period) -> MoneyTotals:
    return summary_totals(period).money


def funnel_totals(period: Period) -> FunnelTotals:
    return summary_totals(period).funnel


def staff_time(period: Period) -> StaffTime:
    return summary_totals(period).staff
