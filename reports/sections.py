"""Each report as a section: a chart, the same figures as a table, and the CSV rows.

The page and the CSV download both build from here, so they can never differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import figures
from .charts import BarChart, bar_chart


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    note: str
    columns: list[str]
    rows: list[list[str]]  # as shown in the table
    csv_columns: list[str]
    csv_rows: list[list]  # raw figures: integers, pence, ratios to 4 places
    chart: BarChart


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _raw_rate(rate: float | None):
    return "" if rate is None else round(rate, 4)


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) / 100:,.2f}"


def _hours(minutes: int) -> str:
    return f"{minutes / 60:,.1f} h"


def utilisation(period: figures.Period) -> Section:
    rows = figures.utilisation(period)
    return Section(
        slug="utilisation",
        title="Utilisation per practitioner",
        note="Booked hours (confirmed, attended or no-show) over working hours less time off.",
        columns=["Practitioner", "Booked", "Working", "Utilisation"],
        rows=[[r.practitioner, _hours(r.booked_minutes), _hours(r.working_minutes), _pct(r.rate)] for r in rows],
        csv_columns=["practitioner", "booked_minutes", "working_minutes", "utilisation"],
        csv_rows=[[r.practitioner, r.booked_minutes, r.working_minutes, _raw_rate(r.rate)] for r in rows],
        chart=bar_chart(
            title="Utilisation per practitioner",
            description="Share of working hours booked, per practitioner, out of 100%.",
            rows=[(r.practitioner, r.rate or 0, _pct(r.rate)) for r in rows],
            scale_max=1,
        ),
    )


def _tally(*, slug: str, title: str, note: str, rows: list[figures.Tally], whole: int, columns: list[str],
           csv_columns: list[str], chart_description: str) -> Section:
    """A count per label, with each count's share of `whole`: bookings by source, the offer funnel."""
    return Section(
        slug=slug,
        title=title,
        note=note,
        columns=columns,
        rows=[[r.label, f"{r.count:,}", _pct(r.count / whole if whole else None)] for r in rows],
        csv_columns=csv_columns,
        csv_rows=[[r.label, r.count] for r in rows],
        chart=bar_chart(title=title, description=chart_description,
                        rows=[(r.label, r.count, f"{r.count:,}") for r in rows]),
    )


def sources(period: figures.Period) -> Section:
    rows = figures.bookings_by_source(period)
    return _tally(slug="sources", title="Bookings by source", rows=rows, whole=sum(r.count for r in rows),
                  note="Bookings made (not unpaid holds), by how they were made.",
                  columns=["Source", "Bookings", "Share"], csv_columns=["source", "bookings"],
                  chart_description="Number of bookings made, by source.")


def attendance(period: figures.Period) -> Section:
    a = figures.attendance(period)
    return Section(
        slug="attendance",
        title="No-shows and late cancellations",
        note=f"Out of {a.bookings:,} bookings made. Late: cancelled inside the free-cancellation window.",
        columns=["Figure", "Bookings", "Rate"],
        rows=[
            ["No-shows", f"{a.no_shows:,}", _pct(a.no_show_rate)],
            ["Late cancellations", f"{a.late_cancellations:,}", _pct(a.late_cancel_rate)],
            ["All cancellations", f"{a.cancellations:,}", _pct(a.cancellations / a.bookings if a.bookings else None)],
            ["Attended", f"{a.attended:,}", _pct(a.attended / a.bookings if a.bookings else None)],
        ],
        csv_columns=["figure", "bookings", "rate"],
        csv_rows=[
            ["bookings_made", a.bookings, ""],
            ["no_shows", a.no_shows, _raw_rate(a.no_show_rate)],
            ["late_cancellations", a.late_cancellations, _raw_rate(a.late_cancel_rate)],
            ["cancellations", a.cancellations, _raw_rate(a.cancellations / a.bookings if a.bookings else None)],
            ["attended", a.attended, _raw_rate(a.attended / a.bookings if a.bookings else None)],
        ],
        chart=bar_chart(
            title="No-show and late-cancellation rates",
            description="Share of bookings made that were no-shows or late cancellations.",
            rows=[("No-shows", a.no_show_rate or 0, _pct(a.no_show_rate)),
                  ("Late cancellations", a.late_cancel_rate or 0, _pct(a.late_cancel_rate))],
            scale_max=max(a.no_show_rate or 0, a.late_cancel_rate or 0, 0.1),
        ),
    )


def revenue(period: figures.Period) -> Section:
    rows = figures.revenue(period)
    total = figures.revenue_total(rows)
    return Section(
        slug="revenue",
        title="Revenue by payment method",
        note="Taken in the period, less refunds made in the period (the payments ledger).",
        columns=["Method", "Taken", "Refunded", "Net"],
        rows=[[r.method, _pounds(r.taken_pence), _pounds(r.refunded_pence), _pounds(r.net_pence)] for r in [*rows, total]],
        csv_columns=["method", "taken_pence", "refunded_pence", "net_pence"],
        csv_rows=[[r.method, r.taken_pence, r.refunded_pence, r.net_pence] for r in [*rows, total]],
        chart=bar_chart(title="Net revenue by payment method", description="Money taken less refunds, by method.",
                        rows=[(r.method, r.net_pence, _pounds(r.net_pence)) for r in rows]),
    )


def funnel(period: figures.Period) -> Section:
    rows = figures.offer_funnel(period)
    return _tally(slug="funnel", title="First-session offer funnel", rows=rows, whole=rows[0].count,
                  note="Codes issued in the period, and how far each went.",
                  columns=["Step", "Codes", "Of claimed"], csv_columns=["step", "codes"],
                  chart_description="Codes at each step, from claimed to follow-up.")


SECTIONS: dict[str, Callable[[figures.Period], Section]] = {
    "utilisation": utilisation,
    "sources": sources,
    "attendance": attendance,
    "revenue": revenue,
    "funnel": funnel,
}
