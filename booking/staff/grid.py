"""Lay calendar practitioner-days out on a 15-minute grid for the templates.

Presentation only: positions are in grid rows from the top of the visible
window, so the CSS places each block with two numbers (--s start row,
--l length in rows) and a lane for the rare overlap (a no-show and the
booking that took its time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings

from booking.availability import LONDON
from booking.calendar import CalendarBooking, CalendarTimeOff, PractitionerDay

DEFAULT_FIRST_HOUR = 8
DEFAULT_LAST_HOUR = 19


def _minute(dt: datetime, day: date) -> int:
    if dt.date() < day:
        return 0
    if dt.date() > day:
        return 24 * 60
    return dt.hour * 60 + dt.minute


@dataclass
class Block:
    start_row: int
    rows: int
    lane: int = 0
    lanes: int = 1


@dataclass
class BookingBlock(Block):
    booking: CalendarBooking | None = None
    compact: bool = False
    # A live booking outside the practitioner's working hours (hours changed after it was made).
    outside_hours: bool = False
    # A live booking inside time off added after it was made: the time off's id.
    time_off_id: int | None = None
    href: str = ""
    time_label: str = ""
    cell_id: str = ""


@dataclass
class OffBlock(Block):
    off: CalendarTimeOff | None = None
    # Live bookings inside it (added after they were booked): reception asks them to move.
    clashes: int = 0
    cell_id: str = ""


@dataclass
class FreeSlot:
    start_row: int
    start: datetime  # London local
    label: str
    href: str
    cell_id: str = ""


@dataclass
class Column:
    pday: PractitionerDay
    heading: str
    subheading: str
    working: list[Block] = field(default_factory=list)
    time_off: list[OffBlock] = field(default_factory=list)
    bookings: list[BookingBlock] = field(default_factory=list)
    free: list[FreeSlot] = field(default_factory=list)
    is_today: bool = False
    can_book: bool = False
    index: int = 1  # 1-based: the grid's aria-colindex (the CSS column is one more: the times come first)

    @property
    def header_id(self) -> str:
        return f"g{self.index}-h"

    @property
    def idle_id(self) -> str:
        """The "Not working" cell of a column with no hours."""
        return f"g{self.index}-idle"


@dataclass
class Grid:
    first_minute: int
    total_rows: int
    hour_marks: list[tuple[int, str]]
    columns: list[Column]
    step: int

    @property
    def aria_rows(self) -> list[tuple[int, str]]:
        """The ARIA grid's rows in time order: (row, the ids of the cells starting on it, left to right).

        The cells sit in their practitioner's column (that is how they are laid out); each
        row element owns its cells by aria-owns, so a screen reader reads rows and columns
        as they look.
        """
        rows: dict[int, list[tuple[int, str]]] = {}
        for column in self.columns:
            cells = [(b.start_row, b.cell_id) for b in column.bookings] + [(f.start_row, f.cell_id) for f in column.free]
            cells += [(o.start_row, o.cell_id) for o in column.time_off]
            if not column.working:
                cells.append((0, column.idle_id))
            for row, cell_id in cells:
                rows.setdefault(row, []).append((column.index, cell_id))
        return [(row, " ".join(cell_id for _, cell_id in sorted(rows[row]))) for row in sorted(rows)]

    @property
    def header_owns(self) -> str:
        return " ".join(column.header_id for column in self.columns)


def _assign_lanes(blocks: list[BookingBlock]) -> None:
    """Overlapping bookings share the column side by side."""
    cluster: list[BookingBlock] = []
    cluster_end = -1
    lane_ends: list[int] = []

    def close():
        for b in cluster:
            b.lanes = len(lane_ends) or 1

    for block in sorted(blocks, key=lambda b: (b.start_row, -b.rows)):
        if cluster and block.start_row >= cluster_end:
            close()
            cluster, lane_ends, cluster_end = [], [], -1
        for lane, end in enumerate(lane_ends):
            if end <= block.start_row:
                block.lane = lane
                lane_ends[lane] = block.start_row + block.rows
                break
        else:
            block.lane = len(lane_ends)
            lane_ends.append(block.start_row + block.rows)
        cluster.append(block)
        cluster_end = max(cluster_end, block.start_row + block.rows)
    close()


def _free_minutes(working: list[tuple[int, int]], busy: list[tuple[int, int]], step: int):
    """The starts (minutes of the day) of the step-long cells inside a working span that no busy span touches.

    Cells are counted from each working span's start. One walk over the busy
    spans, merged and sorted, not every span for every cell.
    """
    merged: list[list[int]] = []
    for start, end in sorted(busy):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for work_start, work_end in working:
        i, minute = 0, work_start
        while minute + step <= work_end:
            while i < len(merged) and merged[i][1] <= minute:
                i += 1
            if i == len(merged) or merged[i][0] >= minute + step:
                yield minute
            minute += step


def build_grid(
    pdays: list[PractitionerDay], *, by: str, now: datetime, offer_slots: bool, book_url: str = "",
    booking_url: str = "{}",
) -> Grid:
    """by="practitioner" (day view: heading is the name) or "day" (week view: heading is the date).

    offer_slots: every free 15-minute cell in working hours becomes a link to
    book_url for that practitioner and time. booking_url is the booking
    page's path with "{}" for the id. The hrefs are built here, not with
    {% url %} per block: a busy day has hundreds of cells and blocks. Each
    booking's minutes are worked out once (a busy day has hundreds).
    """
    step = settings.BOOKING_SLOT_MINUTES
    first, last = DEFAULT_FIRST_HOUR * 60, DEFAULT_LAST_HOUR * 60
    # Per practitioner-day: (start, end) minutes of its working spans, time off and bookings.
    minutes = []
    for pday in pdays:
        day = pday.day
        working = [(_minute(s, day), _minute(e, day)) for s, e in pday.working]
        off = [(_minute(o.start, day), _minute(o.end, day)) for o in pday.time_off]
        booked = [(_minute(b.start, day), _minute(b.end, day)) for b in pday.bookings]
        minutes.append((working, off, booked))
        for start, end in working + booked:
            first = min(first, start // 60 * 60)
            last = max(last, -(-end // 60) * 60)
    first, last = max(first, 0), min(last, 24 * 60)

    def row(minute: int) -> int:
        return (min(max(minute, first), last) - first) // step

    def span(start: int, end: int) -> tuple[int, int]:
        start_row = row(start)
        end_row = max(row(-(-end // step) * step), start_row + 1)
        return start_row, end_row - start_row

    now_local = now.astimezone(LONDON)
    columns = []
    for pday, (working, off_minutes, booked) in zip(pdays, minutes):
        if by == "practitioner":
            heading, subheading = pday.name, pday.title
        else:
            heading, subheading = f"{pday.day:%a} {pday.day.day}", f"{pday.day:%b}"
        column = Column(pday=pday, heading=heading, subheading=subheading, is_today=pday.day == now_local.date(),
                        can_book=offer_slots, index=len(columns) + 1)
        prefix = f"g{column.index}-"
        column.working = [Block(*span(start, end)) for start, end in working]
        column.time_off = [OffBlock(*span(start, end), off=off, cell_id=f"{prefix}o{n}")
                           for n, (off, (start, end)) in enumerate(zip(pday.time_off, off_minutes))]
        for booking, (start, end) in zip(pday.bookings, booked):
            start_row, rows = span(start, end)
            outside, in_time_off = False, None
            if booking.status in ("held", "confirmed"):
                outside = not any(ws <= booking.start and booking.end <= we for ws, we in pday.working)
                in_time_off = next((o for o in pday.time_off if o.start < booking.end and booking.start < o.end), None)
            column.bookings.append(BookingBlock(
                start_row, rows, booking=booking, compact=rows < 2, outside_hours=outside,
                time_off_id=in_time_off.id if in_time_off else None,
                href=booking_url.format(booking.id), time_label=f"{booking.start.hour:02d}:{booking.start.minute:02d}",
                cell_id=f"{prefix}b{booking.id}",
            ))
        for block in column.time_off:
            block.clashes = sum(1 for b in column.bookings if b.time_off_id == block.off.id)
        _assign_lanes(column.bookings)
        if offer_slots:
            base = f"{book_url}?practitioner={pday.practitioner_id}&start="
            for minute in _free_minutes(working, booked + off_minutes, step):
                clock = time(minute // 60, minute % 60)
                start = datetime.combine(pday.day, clock, tzinfo=LONDON)
                if start > now_local:
                    # urlencode's quoting of an ISO instant, without urlencode per cell.
                    query = start.isoformat().replace(":", "%3A").replace("+", "%2B")
                    column.free.append(FreeSlot(row(minute), start, f"{clock:%H:%M}", base + query, f"{prefix}f{minute}"))
        columns.append(column)

    marks = [(row(m), f"{m // 60:02d}:00") for m in range(first, last, 60)]
    return Grid(first_minute=first, total_rows=(last - first) // step, hour_marks=marks, columns=columns, step=step)
