"""The day grid as a WAI-ARIA grid, by keyboard only (laptop): one tab stop, arrow keys through every
cell (booked and free), Home/End, Enter opens a booking or books a free time. axe on the grid."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from booking.availability import LONDON
from tests.a11y import assert_accessible, screenshot
from tests.factories import BookingFactory, FollowUpFactory, PractitionerFactory, ReceptionistFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"


def active(page, expression="el.className + '|' + el.textContent"):
    return page.evaluate(f"(() => {{ const el = document.activeElement; return {expression}; }})()")


def test_the_day_grid_is_an_aria_grid_driven_by_keyboard_only(laptop_page, live_server):
    page, base = laptop_page, live_server.url
    day = timezone.localtime(timezone.now(), LONDON).date() + timedelta(days=1)
    follow_up = FollowUpFactory()
    week = [(d, time(9), time(12)) for d in range(7)]
    amara = PractitionerFactory(services=[follow_up], hours=week, user=StaffFactory(first_name="Amara", last_name="Obi"))
    PractitionerFactory(services=[follow_up], hours=week, user=StaffFactory(first_name="Dev", last_name="Rao"))
    ReceptionistFactory(email="rita@clinic.example")
    booking = BookingFactory(practitioner=amara, service=follow_up, start=datetime.combine(day, time(9), tzinfo=LONDON),
                             patient=UserFactory(first_name="Paula", last_name="Jones"))

    page.goto(f"{base}/accounts/login/")
    page.keyboard.press("Tab")
    page.fill("input[name=login]", "rita@clinic.example")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/")
    page.goto(f"{base}/staff/day/{day.isoformat()}/")

    grid = page.locator("[role=grid]")
    assert grid.get_attribute("aria-label")
    # Rows own their cells by id (the cells are laid out in columns): a heading row, then time rows.
    owned = page.evaluate("""() => [...document.querySelectorAll('[role=grid] > [role=row]')].map(
        row => row.getAttribute('aria-owns').split(' ').map(id => document.getElementById(id).getAttribute('role')))""")
    assert owned[0] == ["columnheader", "columnheader"]
    assert len(owned) > 2 and all(set(row) == {"gridcell"} for row in owned[1:])
    assert page.locator("[role=gridcell]").count() == sum(len(row) for row in owned[1:])
    # One tab stop: every link in the grid but one is out of the tab order.
    assert page.locator(".cal [tabindex='0']").count() == 1
    assert page.locator(".cal a[tabindex='-1']").count() == page.locator(".cal a").count() - 1

    # Tab into the grid (past the scroll region): lands on the first cell, Paula's 09:00 booking.
    page.locator(".cal-scroll").focus()
    page.keyboard.press("Tab")
    assert active(page, "el.dataset.booking") == str(booking.pk)
    assert active(page, "el.closest('[role=gridcell]').getAttribute('aria-colindex')") == "1"

    # Down: the free times after the 30-minute booking, in time order.
    page.keyboard.press("ArrowDown")
    first_free = active(page)
    assert "free" in first_free and first_free.endswith("09:30"), first_free
    page.keyboard.press("ArrowDown")
    assert active(page).endswith("09:45")
    # Up twice: back on the booking, then up into Amara's column heading.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert active(page, "el.dataset.booking") == str(booking.pk)
    page.keyboard.press("ArrowUp")
    assert active(page, "el.closest('[role=columnheader]') !== null")
    page.keyboard.press("ArrowDown")
    assert active(page, "el.dataset.booking") == str(booking.pk)

    # Right: Dev's column at the same time (his 09:00 is free); Left: back to the booking.
    page.keyboard.press("ArrowRight")
    dev_cell = active(page)
    assert "free" in dev_cell and dev_cell.endswith("09:00") and "Dev Rao" in dev_cell, dev_cell
    assert active(page, "el.getAttribute('tabindex')") == "0"
    page.keyboard.press("ArrowLeft")
    assert active(page, "el.dataset.booking") == str(booking.pk)
    assert page.locator(".cal [tabindex='0']").count() == 1

    # End / Home: last and first column at this time; Ctrl+End: the grid's last cell (Dev's 11:45).
    page.keyboard.press("End")
    assert "Dev Rao" in active(page) and active(page).endswith("09:00")
    page.keyboard.press("Home")
    assert active(page, "el.dataset.booking") == str(booking.pk)
    page.keyboard.press("Control+End")
    assert "Dev Rao" in active(page) and active(page).endswith("11:45")
    page.keyboard.press("Control+Home")
    assert active(page, "el.dataset.booking") == str(booking.pk)

    # Tab leaves the grid in one step (one tab stop), Shift+Tab comes back to the same cell.
    page.keyboard.press("Tab")
    assert active(page, "el.closest('.cal') === null")
    page.keyboard.press("Shift+Tab")
    assert active(page, "el.dataset.booking") == str(booking.pk)
    screenshot(page, "calendar-grid-keyboard")
    assert_accessible(page)

    # Enter on a booking opens it.
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/bookings/{booking.pk}/")
    page.go_back()
    page.wait_for_url(f"**/staff/day/{day.isoformat()}/")
    # Enter on a free time books it: the desk's form with Dev and 09:00 filled in.
    page.locator(".cal-scroll").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/book/?**")
    assert "09%3A00" in page.url or "09:00" in page.url
