"""The calendar grid (booking/staff/grid.py's Grid) as HTML, written in Python.

A busy day is a few hundred cells (240 bookings, the free times, time off, an
ARIA row each): as template loops, with a variable lookup, a filter or a
{% url %} per attribute, they were most of the uncached day view. Here each
cell is one f-string; every URL is reversed once per page with a placeholder,
and every value that comes from people (names, services, notes, labels) goes
through escape(). The page around the grid stays in the templates
(staff/_day_body.html, staff/week.html, staff/_grid_help.html).

What the markup must keep (tests/staff/test_grid_markup.py and the browser
tests check it): the ARIA grid pattern (a role=grid whose rows own the cells by
id, aria-colindex on every cell and column header), the data-row/data-col/
data-booking/data-movable hooks static/js/calendar.js moves bookings with, and
the classes the CSS places and colours blocks with (s-, l-, c-, pc-, lane-,
st-).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape  # Django's escape() is this behind a lazy-string check: hundreds of calls per page

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from booking.calendar import CalendarBooking
from booking.templatetags.clinic import pounds

from .grid import BookingBlock, Column, Grid, OffBlock

_ID = 987654321  # a placeholder id in reversed URLs
_DAY = "2000-01-01"  # a placeholder date in reversed URLs


@dataclass(frozen=True)
class _Urls:
    move: str
    day: str
    week_of: str
    time_off_new: str
    time_off_detail: str
    time_off_delete: str

    @classmethod
    def reverse(cls) -> _Urls:
        """Every link the grid makes, as a str.format pattern: reversed once per page (the script prefix may vary)."""
        return cls(
            move=reverse("staff:move", args=[_ID]),
            day=reverse("staff:day", args=[_DAY]).replace(_DAY, "{}"),
            week_of=reverse("staff:week_of", args=[_ID, _DAY]).replace(str(_ID), "{}").replace(_DAY, "{}"),
            time_off_new=reverse("staff:time_off_new") + "?practitioner={}&amp;date={}",
            time_off_detail=reverse("staff:time_off_detail", args=[_ID]).replace(str(_ID), "{}"),
            time_off_delete=reverse("staff:time_off_delete", args=[_ID]).replace(str(_ID), "{}"),
        )


class _Escaped(dict):
    """escape() remembered for one page: a day repeats the same few services, statuses, names and amounts."""

    def __missing__(self, text: str) -> str:
        self[text] = escaped = escape(text)
        return escaped


class _Pounds(dict):
    def __missing__(self, pence: int) -> str:
        self[pence] = text = pounds(pence)
        return text


def _short_date(day: date) -> str:
    """3 Dec (the template filter date:"j M")."""
    return f"{day.day} {day:%b}"


def grid_html(grid: Grid, *, label: str, week: bool, can_book: bool) -> SafeString:
    """The scrolling calendar: the ARIA grid's rows, column headers, hour marks, then each column's cells.

    label: the grid's accessible name. week: columns are days (headings link
    to the day), else practitioners (headings link to their week).
    """
    urls = _Urls.reverse()
    label = escape(label)
    count = len(grid.columns)
    move = f' data-move-url="{urls.move}"' if can_book else ""
    parts = [
        f'<div class="cal-scroll" role="region" aria-label="{label}" tabindex="0">\n'
        f'<div class="cal rows-{grid.total_rows} cols-{count}"{move}>\n'
        # The ARIA grid: its rows own the cells by id; the cells stay where the layout puts them, in columns.
        f'<div class="cal-aria" role="grid" aria-label="{label}" aria-colcount="{count}" aria-describedby="grid-help">\n'
        f'<div role="row" aria-owns="{grid.header_owns}"></div>\n',
        "".join(f'<div role="row" aria-owns="{owns}"></div>' for _, owns in grid.aria_rows),
        '\n</div>\n<div class="cal-corner" aria-hidden="true"></div>\n',
    ]
    parts += [_header_html(column, urls, week=week, can_book=can_book) for column in grid.columns]
    parts.append('<div class="cal-times" aria-hidden="true">')
    parts += [f'<span class="s-{row}">{mark}</span>' for row, mark in grid.hour_marks]
    parts.append("</div>\n")
    text, money = _Escaped(), _Pounds()
    parts += [_column_html(column, urls, text, money, can_book=can_book) for column in grid.columns]
    parts.append("</div>\n</div>\n")
    return mark_safe("".join(parts))  # every value from the database is escaped above and below


def _header_html(column: Column, urls: _Urls, *, week: bool, can_book: bool) -> str:
    pday, index = column.pday, column.index
    day = pday.day.isoformat()
    heading = escape(column.heading)
    if week:
        today = " is-today" if column.is_today else ""
        title = f'<h2><a href="{urls.day.format(day)}">{heading} <span class="sub">{escape(column.subheading)}</span></a></h2>'
    else:
        today = ""
        title = f'<h2><a href="{urls.week_of.format(pday.practitioner_id, day)}" title="Week view">{heading}</a></h2>'
    time_off = ""
    if can_book:
        time_off = (f' · <a href="{urls.time_off_new.format(pday.practitioner_id, day)}">Time off<span class="visually-hidden">'
                    f' for {escape(pday.name)} on {_short_date(pday.day)}</span></a>')
    return (
        f'<div class="cal-head c-{index + 1} pc-{pday.practitioner_id}{today}" role="columnheader" id="{column.header_id}"'
        f' aria-colindex="{index}" data-col="{index}" data-row="-1">\n{title}\n'
        f'<p class="head-meta">{len(pday.bookings)} booked{time_off}</p>\n</div>\n'
    )


def _cell(column: Column, cell_id: str, row: int) -> str:
    """A gridcell's attributes: the ARIA grid's rows own their cells by id (the cells are laid out in columns)."""
    return f'role="gridcell" id="{cell_id}" aria-colindex="{column.index}" data-row="{row}" data-col="{column.index}"'


def _column_html(column: Column, urls: _Urls, text: _Escaped, money: _Pounds, *, can_book: bool) -> str:
    pday = column.pday
    parts = [f'<div class="cal-col c-{column.index + 1} pc-{pday.practitioner_id}" data-practitioner="{pday.practitioner_id}"'
             f' data-day="{pday.day.isoformat()}">\n']
    parts += [f'<div class="work s-{block.start_row} l-{block.rows}"></div>' for block in column.working]
    if not column.working:
        parts.append(f'<p class="not-working" {_cell(column, column.idle_id, 0)}>Not working</p>')
    if column.free:
        who, when = escape(pday.name), _short_date(pday.day)
        parts += [
            f'<div class="cell" {_cell(column, slot.cell_id, slot.start_row)}><a class="free s-{slot.start_row}"'
            f' href="{escape(slot.href)}"><span class="visually-hidden">Book {who} on {when} at </span>{slot.label}</a></div>'
            for slot in column.free
        ]
    parts += [_time_off_html(column, block, urls, can_book=can_book) for block in column.time_off]
    parts += [
        f'<div class="cell" {_cell(column, block.cell_id, block.start_row)}>{_booking_html(block, can_book, text, money)}</div>'
        for block in column.bookings
    ]
    parts.append("\n</div>\n")
    return "".join(parts)


def _time_off_html(column: Column, block: OffBlock, urls: _Urls, *, can_book: bool) -> str:
    off = block.off
    assert off is not None
    reason = escape(off.reason_label)
    note = f": {escape(off.note)}" if off.note else ""
    links = ""
    if can_book:
        if block.clashes:
            links += (f'\n<a class="off-clashes" href="{urls.time_off_detail.format(off.id)}">{block.clashes} booked: ask to move'
                      f'<span class="visually-hidden"> ({reason} time off)</span></a>')
        links += (f'\n<a class="off-remove" href="{urls.time_off_delete.format(off.id)}" title="Remove this time off">'
                  f'×<span class="visually-hidden"> Remove {reason} time off</span></a>')
    return (
        f'\n<div class="off s-{block.start_row} l-{block.rows}" {_cell(column, block.cell_id, block.start_row)}>\n'
        f'<span class="off-reason">{reason}{note}</span>\n'
        f'<span class="visually-hidden">{off.start:%H:%M} to {off.end:%H:%M}</span>{links}\n</div>\n'
    )


def _booking_html(block: BookingBlock, can_book: bool, text: _Escaped, money: _Pounds) -> str:
    b = block.booking
    assert b is not None
    classes = f"bk st-{b.status} s-{block.start_row} l-{block.rows} lane-{block.lane} lanes-{block.lanes}"
    if block.compact:
        classes += " compact"
    if block.outside_hours or block.time_off_id:
        classes += " outside"
    if b.arrived:
        classes += " arrived"
    movable = ' data-movable="1" aria-describedby="move-help"' if can_book and b.status in ("confirmed", "held") else ""
    flag = ""
    if b.is_flagged:
        labels = text[", ".join(b.flag_labels)]
        flag = (f' <span class="flag" title="{labels}">⚑<span class="visually-hidden"> Clinical flag: {labels}'
                '</span></span>')
    intake = ' <span class="bk-intake">Intake pending</span>' if b.intake_pending else ""
    meta = ""
    if block.outside_hours:
        meta = '<span class="bk-warn">Outside hours</span> · '
    elif block.time_off_id:
        meta = '<span class="bk-warn">In time off</span> · '
    if b.status != "confirmed":
        meta += f'<span class="bk-status">{text[b.short_status]}</span> · '
    elif b.arrived:
        meta += '<span class="bk-status">Arrived</span> · '
    meta += text[b.service_name]
    if b.due_pence:
        meta += f' · <span class="bk-due">{money[b.due_pence]} due</span>'
    return (
        f'<a class="{classes}" href="{escape(block.href)}" data-booking="{b.id}" data-status="{b.status}"{movable}>'
        f'<span class="bk-line"><span class="bk-time">{block.time_label}</span> '
        f'<strong class="bk-name">{text[b.patient_name]}</strong>{flag}{intake}</span>'
        f'<span class="bk-line bk-meta">{meta}</span></a>'
    )


def cancelled_html(bookings: list[CalendarBooking]) -> SafeString:
    """The day's cancelled and lapsed bookings as list items (a link each to the booking)."""
    url = reverse("staff:booking", args=[_ID]).replace(str(_ID), "{}")
    return mark_safe("".join(  # escaped
        f'<li><a href="{url.format(b.id)}" data-booking="{b.id}" data-status="{b.status}">{b.start:%H:%M}'
        f' {escape(b.patient_name)}, {escape(b.service_name)}</a>: {escape(b.status_label)}</li>'
        for b in bookings
    ))
