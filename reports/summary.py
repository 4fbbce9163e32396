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
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DurationField, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from booking.models import Booking
from common.clock import LONDON, local_day_bounds

from . import definitions, ledger
from .models import BookingDay, ComputedDay, FunnelDay, MethodDay, StaleDay
from .totals import BookingTotals, FunnelTotals, MoneyTotals, Period

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
    """The period's days to recompute, and the ids of the markers read. Two queries when none is
    missing (the usual case), three otherwise."""
    in_period = Q(day__gte=period.date_from, day__lte=period.date_to)
    markers = list(StaleDay.objects.filter(in_period).values_list("id", "day"))
    computed = ComputedDay.objects.filter(in_period, cancel_window_hours=settings.BOOKING_FREE_CANCEL_HOURS)
    days = {day for _, day in markers}
    if computed.count() < (period.date_to - period.date_from).days + 1:
        days |= set(period.days()) - set(computed.values_list("day", flat=True))
    return days, [pk for pk, _ in markers]


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


def recompute_stale(period: Period) -> None:
    """Once per Period object (one request's page): bring the period's days up to date."""
    if "fresh" not in period._memo:
        days, marker_ids = stale_days(period)
        if days:
            recompute(days, marker_ids)
        period._memo["fresh"] = True


# --- Readers: the same totals as reports/direct.py --------------------------------------------


def _period_rows(model, period: Period):
    recompute_stale(period)
    return model.objects.filter(day__gte=period.date_from, day__lte=period.date_to)


def booking_totals(period: Period) -> dict[int, BookingTotals]:
    """Per practitioner with a booking in the period. One query (after recompute_stale)."""
    sums = {name: Sum(name) for name in [*BOOKING_FIELDS, "occupied_seconds"]}
    rows = _period_rows(BookingDay, period).values("practitioner_id").annotate(**sums).order_by()
    return {
        r["practitioner_id"]: BookingTotals(**{name: r[name] for name in BOOKING_FIELDS},
                                            occupied_minutes=r["occupied_seconds"] // 60)
        for r in rows
    }


def money_totals(period: Period) -> MoneyTotals:
    """One query (after recompute_stale). A method is listed when a payment (refund) of it counts, as in direct."""
    rows = _period_rows(MethodDay, period).values("method").annotate(
        payments=Sum("payments"), taken=Sum("taken_pence"), refunds=Sum("refunds"), refunded=Sum("refunded_pence")
    ).order_by()
    return MoneyTotals(taken={r["method"]: r["taken"] for r in rows if r["payments"]},
                       refunded={r["method"]: r["refunded"] for r in rows if r["refunds"]})


def funnel_totals(period: Period) -> FunnelTotals:
    """One query (after recompute_stale)."""
    sums = _period_rows(FunnelDay, period).aggregate(claimed=Sum("claimed"), held=Sum("held"), paid=Sum("paid"),
                                                     came_back=Sum("came_back"))
    return FunnelTotals(**{name: value or 0 for name, value in sums.items()})
