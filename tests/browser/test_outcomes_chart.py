"""The physiotherapist sees a demo patient's five scored visits as a chart and a table (demo data as `make demo`).

Screenshots: artifacts/screenshots/outcomes-*.png; axe-core checks each page.
"""

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from booking.availability import LONDON
from booking.models import Booking
from tests.a11y import assert_accessible, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, live_server):
    call_command("demo_data", quiet_logins=True, force=True, verbosity=0)
    call_command("demo_outcomes", verbosity=0)
    return Booking.objects.filter(patient__email="eleanor.frost@example.com").order_by("start")


def log_in_as_sarah(page):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", "sarah.okafor@physiobook.local")
    page.fill("input[name=password]", "physio-demo-2027")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_the_physio_sees_five_visits_as_a_chart_with_a_table(request, demo, size):
    page = request.getfixturevalue(f"{size}_page")
    assert demo.count() == 5
    latest = demo.last()
    log_in_as_sarah(page)

    page.goto(f"/staff/bookings/{latest.pk}/")
    chart = page.locator(".outcomes").first
    expect(chart.get_by_role("img")).to_be_visible()
    expect(chart.get_by_role("table")).to_contain_text("Scores by visit")
    assert chart.locator("tbody tr").count() == 5
    expect(chart).to_contain_text("leg pain down 5 since the first")
    chart.scroll_into_view_if_needed()
    screenshot(page, f"outcomes-booking-page-{size}")
    assert_accessible(page)

    day = timezone.localtime(latest.start, LONDON).date()
    page.goto(f"/staff/my-day/?date={day:%Y-%m-%d}")
    row = page.locator(f'[data-booking="{latest.pk}"]')
    expect(row.locator(".outcomes").get_by_role("img")).to_be_visible()
    screenshot(page, f"outcomes-my-day-{size}")
    assert_accessible(page)
