"""Each report section as HTML: its SVG bar chart beside the same figures as a table, and the
link to its CSV.

Written with f-strings and escape() rather than a template: the page's five charts and tables are a few
hundred small pieces, which Django's template engine took ~3-8 ms to put together (more than
reading the figures); this takes a tenth of that. Every value shown (all text: Section and BarChart hold strings) goes through escape().
Colours and fonts come from static/css/reports.css through class names (no inline style).
"""

from __future__ import annotations

from html import escape  # Django's escape() is this behind a lazy-string check (~0.5 ms over the page's ~180 calls)

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from .charts import BarChart
from .sections import Section
from .totals import Period

LABEL_CHARS = 20  # a bar's label is cut to this, with an ellipsis (the table has it whole)


def _label(text: str) -> str:
    return escape(text if len(text) <= LABEL_CHARS else Truncator(text).chars(LABEL_CHARS))


def _chart(chart: BarChart, slug: str) -> str:
    x = chart.bar_x
    bars = "\n".join(
        f'<text class="bar-label" x="{x - 8}" y="{bar.label_y}" text-anchor="end">{_label(bar.label)}</text>\n'
        f'<rect class="bar bar-{"a" if i % 2 == 0 else "b"}" x="{x}" y="{bar.y}" width="{bar.width}" '
        f'height="{chart.bar_height}" rx="3"></rect>\n'
        f'<text class="bar-value" x="{bar.text_x}" y="{bar.label_y}">{escape(bar.text)}</text>'
        for i, bar in enumerate(chart.bars)
    )
    return (
        f'<figure class="chart">\n<svg viewBox="0 0 {chart.width} {chart.height}" role="img" '
        f'aria-labelledby="chart-{slug}-title chart-{slug}-desc" class="bar-chart">\n'
        f'<title id="chart-{slug}-title">{escape(chart.title)}</title>\n'
        f'<desc id="chart-{slug}-desc">{escape(chart.description)} The table beside the chart gives the figures.</desc>\n'
        f'<line class="axis" x1="{x}" y1="0" x2="{x}" y2="{chart.height}"></line>\n{bars}\n</svg>\n</figure>'
    )


def _row(row: list[str]) -> str:
    first, *rest = row
    return f'<tr><th scope="row">{escape(first)}</th>' + "".join(f'<td class="num">{escape(c)}</td>' for c in rest) + "</tr>"


def _table(section: Section) -> str:
    title = escape(section.title)
    first, *rest = section.columns
    head = f'<th scope="col">{escape(first)}</th>' + "".join(f'<th scope="col" class="num">{escape(c)}</th>' for c in rest)
    return (
        f'<div class="table-wrap" tabindex="0" role="region" aria-label="{title}: table">\n'
        f'<table class="data-table">\n<caption class="visually-hidden">{title}</caption>\n'
        f'<thead><tr>{head}</tr></thead>\n<tbody>{"".join(_row(r) for r in section.rows)}</tbody>\n</table>\n</div>'
    )


def section_html(section: Section, period: Period) -> str:
    slug, title = escape(section.slug), escape(section.title)
    csv = escape(f"{reverse('reports:csv', args=[section.slug])}?date_from={period.date_from:%Y-%m-%d}"
                 f"&date_to={period.date_to:%Y-%m-%d}")
    return (
        f'<section class="card report" aria-labelledby="h-{slug}">\n'
        f'<div class="report-head">\n<h2 id="h-{slug}">{title}</h2>\n'
        f'<a class="button" href="{csv}" download>Download CSV<span class="visually-hidden">: {title}</span></a>\n'
        f'</div>\n<p class="muted">{escape(section.note)}</p>\n<div class="report-body">\n'
        f"{_chart(section.chart, slug)}\n{_table(section)}\n</div>\n</section>"
    )


def sections_html(sections: list[Section], period: Period) -> SafeString:
    """Every value is escaped above (django.utils.html.escape), so the whole is safe to show."""
    return mark_safe("\n".join(section_html(section, period) for section in sections))  # noqa: S308
