"""The reports' totals computed straight from the bookings, payments and codes of the period.

The reference the per-day summary (reports/summary.py) is tested against: both return the same
totals, and reports/figures.py turns either into the reports. A handful of aggregate queries
whatever the number of bookings, but each scans the whole period's rows (tens of milliseconds
for a year of a busy clinic), which is why the page reads the summary instead.

The definitions the two share (which bookings count as made, what a late cancellation is, which
payments and refunds count) are the querysets of reports/definitions.py.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, DurationField, F, Sum

from booking.models import Booking, Practitioner, TimeOff, WorkingHours

from . import definitions, ledger
from .totals import BookingTotals, FunnelTotals, HoursRow, MoneyTotals, Period, StaffMember, StaffTime, minutes


def booking_totals(period: Period) -> dict[int, BookingTotals]:
    """Per practitioner: one aggregate of the period's bookings per (practitioner, source, status),
    and one of their late cancellations."""
    rows = (
        Booking.objects.filter(start__gte=period.start, start__lt=period.end)
        .values("practitioner_id", "source", "status")
        .annotate(n=Count("id"), total=Sum(F("end") - F("start"), output_field=DurationField()))
        .order_by()
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        c = counts[r["practitioner_id"]]
        c["bookings"] += r["n"]
        if r["status"] in definitions.MADE:
            c[definitions.SOURCE_FIELDS[r["source"]]] += r["n"]
        if r["status"] in definitions.STATUS_FIELDS:
            c[definitions.STATUS_FIELDS[r["status"]]] += r["n"]
        if r["status"] in definitions.OCCUPIED:
            c["occupied_minutes"] += minutes(r["total"])
    late = (
        definitions.late_cancellations([(period.start, period.end)])
        .values("booking__practitioner_id")
        .annotate(n=Count("booking", distinct=True))
        .order_by()
    )
    for r in late:
        counts[r["booking__practitioner_id"]]["late_cancellations"] += r["n"]
    return {pid: BookingTotals(**c) for pid, c in counts.items()}


def money_totals(period: Period) -> MoneyTotals:
    """By payment method, from the ledger. Two queries."""
    return MoneyTotals(taken=ledger.taken_by_method(start=period.start, end=period.end),
                       refunded=ledger.refunded_by_method(start=period.start, end=period.end))


def funnel_totals(period: Period) -> FunnelTotals:
    """Codes issued in the period, and how far each got. One query."""
    figures = definitions.funnel_codes([(period.start, period.end)]).aggregate(**definitions.FUNNEL_COUNTS)
    return FunnelTotals(**figures)


def staff_time(period: Period) -> StaffTime:
    """Three queries: practitioners (with their names), hours, time off overlapping the period."""
    practitioners = [StaffMember(p.pk, p.name, p.position, p.active) for p in Practitioner.objects.select_related("user")]
    hours: dict[int, list[HoursRow]] = defaultdict(list)
    for practitioner_id, *row in WorkingHours.objects.values_list("practitioner_id", "pk", "weekday", "start_time",
                                                                 "end_time", "valid_from", "valid_until"):
        hours[practitioner_id].append(HoursRow(*row))
    time_off: dict[int, list] = defaultdict(list)
    for row in TimeOff.objects.filter(start__lt=period.end, end__gt=period.start).values("practitioner_id", "start", "end"):
        time_off[row["practitioner_id"]].append((row["start"], row["end"]))
    return StaffTime(practitioners, dict(hours), dict(time_off))
