"""Moving a booking from the calendar in a browser (laptop): by dragging it onto a free time, and the same
move by keyboard only. Both end on the move page as the confirm step. axe runs in the moving states."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from booking.availability import LONDON
from booking.models import Booking
from tests.a11y import assert_accessible, screenshot
from tests.browser.helpers import WEEK, at, login_at_desk
from tests.factories import BookingFactory, PractitionerFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def calendar(desk_day):
    """desk_day, plus Dev Rao on the same hours and Paula Jones booked with Amara at 10:00."""
    day, follow_up = desk_day["tomorrow"], desk_day["follow_up"]
    dev = PractitionerFactory(services=[follow_up], hours=WEEK, user=StaffFactory(first_name="Dev", last_name="Rao"))
    booking = BookingFactory(practitioner=desk_day["amara"], service=follow_up, start=at(day, 10),
                             patient=UserFactory(first_name="Paula", last_name="Jones"))
    return {"day": day, "amara": desk_day["amara"], "dev": dev, "booking": booking}


def test_drag_a_booking_to_another_practitioner_and_confirm(laptop_page, live_server, calendar):
    page, base, day, booking = laptop_page, live_server.url, calendar["day"], calendar["booking"]
    login_at_desk(page, base)
    page.goto(f"{base}/staff/day/{day.isoformat()}/")
    source = page.locator(f'.bk[data-booking="{booking.pk}"]')
    target = page.locator(f'.cal-col[data-practitioner="{calendar["dev"].pk}"] .free', has_text="14:30")
    source.drag_to(target)
    page.wait_for_url(f"**/staff/bookings/{booking.pk}/move/?**")
    assert page.locator("#move-proposed").is_visible()
    assert page.locator("select[name=time]").input_value() == "14:30"
    assert page.locator("select[name=practitioner]").input_value() == str(calendar["dev"].pk)
    screenshot(page, "calendar-drag-confirm")
    assert_accessible(page)
    booking.refresh_from_db()
    assert booking.practitioner == calendar["amara"]  # nothing moves before the confirm
    page.get_by_role("button", name="Move booking").click()
    page.wait_for_url(f"**/staff/day/{day.isoformat()}/")
    booking.refresh_from_db()
    assert booking.practitioner == calendar["dev"]
    assert booking.start == datetime.combine(day, time(14, 30), tzinfo=LONDON)


def test_the_same_move_by_keyboard_only(laptop_page, live_server, calendar):
    page, base, day, booking = laptop_page, live_server.url, calendar["day"], calendar["booking"]
    login_at_desk(page, base)
    page.goto(f"{base}/staff/day/{day.isoformat()}/")
    page.locator(f'.bk[data-booking="{booking.pk}"]').focus()
    page.keyboard.press("m")
    assert "Moving Paula Jones" in page.locator("#cal-live").inner_text()
    focused = page.evaluate("document.activeElement.className")
    assert "free" in focused
    screenshot(page, "calendar-keyboard-moving")
    assert_accessible(page)
    # Right to Dev's column, then down four free times from the nearest one.
    page.keyboard.press("ArrowRight")
    start_label = page.evaluate("document.activeElement.textContent")
    for _ in range(4):
        page.keyboard.press("ArrowDown")
    chosen = page.evaluate("document.activeElement.textContent").strip()[-5:]
    assert chosen != start_label[-5:]
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/bookings/{booking.pk}/move/?**")
    assert page.locator("select[name=time]").input_value() == chosen
    assert page.locator("select[name=practitioner]").input_value() == str(calendar["dev"].pk)
    page.locator("button", has_text="Move booking").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/day/{day.isoformat()}/")
    booking.refresh_from_db()
    assert booking.practitioner == calendar["dev"]
    assert timezone.localtime(booking.start, LONDON).strftime("%H:%M") == chosen


def test_escape_cancels_a_keyboard_move(laptop_page, live_server, calendar):
    page, base, day, booking = laptop_page, live_server.url, calendar["day"], calendar["booking"]
    login_at_desk(page, base)
    page.goto(f"{base}/staff/day/{day.isoformat()}/")
    page.locator(f'.bk[data-booking="{booking.pk}"]').focus()
    page.keyboard.press("m")
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.dataset.booking") == str(booking.pk)
    assert "Move cancelled" in page.locator("#cal-live").inner_text()
    assert Booking.objects.get(pk=booking.pk).practitioner == calendar["amara"]


def test_move_a_booking_to_another_day_from_the_week_of_all_practitioners(laptop_page, live_server, calendar):
    """Drag across days (and practitioners), then the same kind of move by keyboard; both confirmed on the move page."""
    page, base, day, booking = laptop_page, live_server.url, calendar["day"], calendar["booking"]
    login_at_desk(page, base)
    page.goto(f"{base}/staff/week/all/{day.isoformat()}/")
    # Next day: in the same week, or the first day of the next one (then shown on that week's page).
    target_day = day + timedelta(days=1) if day.weekday() < 6 else day - timedelta(days=1)
    source = page.locator(f'.wa-bk[data-booking="{booking.pk}"]')
    target = page.locator(f'td[data-practitioner="{calendar["dev"].pk}"][data-day="{target_day.isoformat()}"]')
    source.drag_to(target)
    page.wait_for_url(f"**/staff/bookings/{booking.pk}/move/?**")
    assert page.locator("input[name=date]").input_value() == target_day.isoformat()
    assert page.locator("select[name=time]").input_value() == "10:00"
    assert page.locator("select[name=practitioner]").input_value() == str(calendar["dev"].pk)
    booking.refresh_from_db()
    assert booking.practitioner == calendar["amara"]  # nothing moves before the confirm
    page.get_by_role("button", name="Move booking").click()
    page.wait_for_url(f"**/staff/day/{target_day.isoformat()}/")
    booking.refresh_from_db()
    assert booking.practitioner == calendar["dev"]
    assert booking.start == datetime.combine(target_day, time(10), tzinfo=LONDON)

    # By keyboard: back to Amara, on the original day (up one row, one day back or on).
    page.goto(f"{base}/staff/week/all/{day.isoformat()}/")
    page.locator(f'.wa-bk[data-booking="{booking.pk}"]').focus()
    page.keyboard.press("m")
    assert "Moving Paula Jones" in page.locator("#cal-live").inner_text()
    screenshot(page, "week-all-keyboard-moving")
    assert_accessible(page)
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowLeft" if target_day > day else "ArrowRight")
    assert page.evaluate("document.activeElement.dataset.day") == day.isoformat()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/bookings/{booking.pk}/move/?**")
    assert page.locator("input[name=date]").input_value() == day.isoformat()
    assert page.locator("select[name=practitioner]").input_value() == str(calendar["amara"].pk)
    page.locator("button", has_text="Move booking").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/day/{day.isoformat()}/")
    booking.refresh_from_db()
    assert booking.practitioner == calendar["amara"]
    assert booking.start == datetime.combine(day, time(10), tzinfo=LONDON)
