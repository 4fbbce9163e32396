"""The day view's grid, written in Python (booking/staff/grid_html.py), read back as a tree.

What the browser tests and static/js/calendar.js rely on, checked cell by cell
against the bookings, hours and time off on a seeded day: the ARIA grid (rows
own every cell by id, once, in time order; aria-colindex and data-col agree),
each booking's cell (row, link, status, move hook, warnings), the free cells'
booking links, time off, and patients' text escaped.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from booking.availability import LONDON
from booking.models import Booking
from tests.factories import BookingFactory, TimeOffFactory
from tests.staff.seed import make_clinic, make_patients

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

DAY = date(2027, 1, 12)  # a Tuesday
NOW = datetime(2027, 1, 12, 7, 0, tzinfo=LONDON)
TRICKY = "<b>\"Tom\" & 'Jerry'</b>"

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None]):
        self.tag, self.attrs, self.children, self.parts = tag, attrs, [], []

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, **attrs) -> list[Node]:
        return [n for n in self.walk() if all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())


class Tree(HTMLParser):
    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("root", {})
        self.stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack[-1].tag != tag:
            self.stack.pop()
        self.stack.pop()

    def handle_data(self, data):
        for node in self.stack:  # every open element's text includes its descendants'
            node.parts.append(data)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def day(reception_client):
    _, follow_up, (first, second, third) = make_clinic(3)  # 08-13 and 14-19; 09-17; 09-17
    tom, ann = make_patients(2)
    tom.first_name, tom.last_name = TRICKY, ""
    tom.save()
    bookings = {
        "flagged": BookingFactory(practitioner=first, service=follow_up, patient=tom, start=at(10), flags=["cancer_history"]),
        "attended": BookingFactory(practitioner=first, service=follow_up, patient=ann, start=at(11),
                                   status=Booking.Status.ATTENDED),
        "held": BookingFactory(practitioner=second, service=follow_up, patient=ann, start=at(9),
                               status=Booking.Status.HELD, hold_expires_at=NOW + timedelta(minutes=10)),
        "outside": BookingFactory(practitioner=second, service=follow_up, patient=ann, start=at(7)),
        "in_time_off": BookingFactory(practitioner=third, service=follow_up, patient=ann, start=at(12, 30)),
        "cancelled": BookingFactory(practitioner=third, service=follow_up, patient=ann, start=at(9),
                                    status=Booking.Status.CANCELLED),
    }
    off = TimeOffFactory(practitioner=third, start=at(12), end=at(13), reason="training", note="<i>CPD</i>")
    html = reception_client.get(reverse("staff:day", args=[DAY.isoformat()])).content.decode()
    return {"tree": Tree(html).root, "html": html, "bookings": bookings, "off": off,
            "columns": {first.pk: 1, second.pk: 2, third.pk: 3}, "practitioners": (first, second, third)}


def row_of(start: datetime) -> int:
    return (start.hour * 60 + start.minute - 7 * 60) // 15  # the grid starts at 07:00, the earliest booking


def test_every_cell_is_owned_once_by_a_row_in_time_order(day):
    tree = day["tree"]
    (grid,) = tree.find(role="grid")
    rows = grid.find(role="row")
    cells = {n.attrs["id"]: n for n in tree.walk() if n.attrs.get("role") in ("gridcell", "columnheader")}
    owned = [cell_id for row in rows for cell_id in row.attrs["aria-owns"].split()]
    assert sorted(owned) == sorted(cells)  # every cell, each once
    header, *body = rows
    assert [cells[i].attrs["role"] for i in header.attrs["aria-owns"].split()] == ["columnheader"] * 3
    assert grid.attrs["aria-colcount"] == "3"
    starts = []
    for row in body:
        members = [cells[i] for i in row.attrs["aria-owns"].split()]
        assert len({m.attrs["data-row"] for m in members}) == 1  # a row's cells start on the same line
        columns = [int(m.attrs["aria-colindex"]) for m in members]
        assert columns == sorted(columns)  # left to right
        starts.append(int(members[0].attrs["data-row"]))
    assert starts == sorted(set(starts))
    for cell in cells.values():
        assert cell.attrs["aria-colindex"] == cell.attrs["data-col"]


def test_each_booking_cell_carries_its_place_link_status_and_move_hook(day):
    tree, columns = day["tree"], day["columns"]
    for name, booking in day["bookings"].items():
        column = columns[booking.practitioner_id]
        found = tree.find(id=f"g{column}-b{booking.pk}")
        if name == "cancelled":
            assert not found  # listed under the grid instead
            (link,) = tree.find(href=reverse("staff:booking", args=[booking.pk]))
            assert link.attrs["data-status"] == "cancelled"
            continue
        (cell,) = found
        assert cell.attrs["role"] == "gridcell" and cell.attrs["data-col"] == str(column)
        assert cell.attrs["data-row"] == str(row_of(booking.start.astimezone(LONDON)))
        (link,) = cell.find(href=reverse("staff:booking", args=[booking.pk]))
        assert link.attrs["data-booking"] == str(booking.pk) and link.attrs["data-status"] == booking.status
        assert f"st-{booking.status}" in link.classes and f"s-{cell.attrs['data-row']}" in link.classes
        assert ("data-movable" in link.attrs) == (booking.status in ("confirmed", "held"))
        assert f"{booking.start.astimezone(LONDON):%H:%M}" in link.text
    marked = {name: day["tree"].find(id=f"g{columns[b.practitioner_id]}-b{b.pk}")[0].text
              for name, b in day["bookings"].items() if name != "cancelled"}
    assert "Outside hours" in marked["outside"] and "In time off" in marked["in_time_off"]
    assert "Held" in marked["held"] and "Attended" in marked["attended"]
    assert "Clinical flag: History of cancer" in marked["flagged"]
    assert not any(w in marked[n] for n in ("flagged", "attended", "held") for w in ("Outside hours", "In time off"))


def test_patients_and_notes_are_text_not_markup(day):
    tree, html = day["tree"], day["html"]
    booking = day["bookings"]["flagged"]
    (name,) = tree.find(id=f"g1-b{booking.pk}")[0].find(**{"class": "bk-name"})
    assert name.text == TRICKY and not name.children
    assert TRICKY not in html and "<i>CPD</i>" not in html
    (off,) = tree.find(id="g3-o0")
    assert "Training: <i>CPD</i>" in off.text and "12:00 to 13:00" in off.text
    (clashes,) = off.find(href=reverse("staff:time_off_detail", args=[day["off"].pk]))
    assert clashes.text.startswith("1 booked: ask to move")


def test_free_cells_link_to_booking_that_practitioner_at_that_time(day):
    tree = day["tree"]
    second = day["practitioners"][1]
    # (column, time) -> the free cell; its link's text ends with the time.
    free = {(int(n.attrs["data-col"]), n.text[-5:]): n
            for n in tree.walk() if n.attrs.get("role") == "gridcell" and n.attrs["id"].split("-")[-1].startswith("f")}
    # Second works 09-17 and is held 09:00-09:30 (30 min): 09:30 is the first free cell, none before.
    assert (2, "09:00") not in free and (2, "09:15") not in free
    (link,) = free[(2, "09:30")].children
    assert link.attrs["href"] == (f"{reverse('staff:book')}?practitioner={second.pk}"
                                  "&start=2027-01-12T09%3A30%3A00%2B00%3A00")
    assert "Book Ben Hughes on 12 Jan at" in link.text
    # Nothing free in time off (third, 12:00-13:00) or outside hours (first's lunch 13:00-14:00).
    assert not [key for key in free if key[0] == 3 and "12:00" <= key[1] < "13:00"]
    assert not [key for key in free if key[0] == 1 and "13:00" <= key[1] < "14:00"]
    assert (1, "08:00") in free and (1, "18:45") in free
    # Right up to a booking or time off, and from its end.
    assert (1, "09:45") in free and (1, "10:30") in free and (3, "11:45") in free and (3, "13:00") in free
    # Every free cell sits on its own line of the grid.
    for (_, label), cell in free.items():
        assert cell.attrs["data-row"] == str(row_of(datetime.combine(DAY, time.fromisoformat(label))))
