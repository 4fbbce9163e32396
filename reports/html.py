"""Each report section as HTML: its SVG bar chart beside the same figures as a table, and the
link to its CSV.

Written with format_html rather than a template: the page's five charts and tables are a few
hundred small pieces, which Django's template engine took ~3-8 ms to put together (more than
reading the figures); this takes a tenth of that. Everything shown is escaped by format_html.
Colours and fonts come from static/css/reports.css through class names (no inline style).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from .charts import BarChart
from .sections import Section
from .totals import Period


def _chart(chart: BarChart, slug: str) -> SafeString:
    bars = format_html_join(
        "\n", '<text class="bar-label" x="{}" y="{}" text-anchor="end">{}</text>\n'
        '<rect class="bar bar-{}" x="{}" y="{}" width="{}" height="{}" rx="3"></rect>\n'
        '<text class="bar-value" x="{}" y="{}">{}</text>',
        (
            (chart.bar_x - 8, bar.label_y, Truncator(bar.label).chars(20), "a" if i % 2 == 0 else "b", chart.bar_x,
             bar.y, bar.width, chart.bar_height, bar.text_x, bar.label_y, bar.text)
            for i, bar in enumerate(chart.bars)
        ),
    )
    return format_html(
        '<figure class="chart">\n'
        '<svg viewBox="0 0 {} {}" role="img" aria-labelledby="chart-{}-title chart-{}-desc" class="bar-chart">\n'
        '<title id="chart-{}-title">{}</title>\n'
        '<desc id="chart-{}-desc">{} The table beside the chart gives the figures.</desc>\n'
        '<line class="axis" x1="{}" y1="0" x2="{}" y2="{}"></line>\n{}\n</svg>\n</figure>',
        chart.width, chart.height, slug, slug, slug, chart.title, slug, chart.description,
        chart.bar_x, chart.bar_x, chart.height, bars,
    )


def _table(section: Section) -> SafeString:
    head = format_html_join(
        "", "<th scope=\"col\"{}>{}</th>",
        (("" if i == 0 else mark_safe(' class="num"'), column) for i, column in enumerate(section.columns)),
    )
    rows = format_html_join(
        "", "<tr>{}</tr>",
        ((format_html_join("", "{}", ((format_html('<th scope="row">{}</th>', cell) if i == 0
                                        else format_html('<td class="num">{}</td>', cell),)
                                       for i, cell in enumerate(row))),)
         for row in section.rows),
    )
    return format_html(
        '<div class="table-wrap" tabindex="0" role="region" aria-label="{}: table">\n'
        '<table class="data-table">\n<caption class="visually-hidden">{}</caption>\n'
        "<thead><tr>{}</tr></thead>\n<tbody>{}</tbody>\n</table>\n</div>",
        section.title, section.title, head, rows,
    )


def section_html(section: Section, period: Period) -> SafeString:
    csv = f"{reverse('reports:csv', args=[section.slug])}?date_from={period.date_from:%Y-%m-%d}&date_to={period.date_to:%Y-%m-%d}"
    return format_html(
        '<section class="card report" aria-labelledby="h-{}">\n'
        '<div class="report-head">\n<h2 id="h-{}">{}</h2>\n'
        '<a class="button" href="{}" download>Download CSV<span class="visually-hidden">: {}</span></a>\n'
        '</div>\n<p class="muted">{}</p>\n<div class="report-body">\n{}\n{}\n</div>\n</section>',
        section.slug, section.slug, section.title, csv, section.title, section.note,
        _chart(section.chart, section.slug), _table(section),
    )


def sections_html(sections: list[Section], period: Period) -> SafeString:
    return mark_safe("\n".join(section_html(section, period) for section in sections))
