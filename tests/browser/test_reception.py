"""Reception at the desk, in a real browser (Debian chromium), laptop screen 1440x900.

A receptionist logs in, books a phone caller into a free slot and takes
payment at the clinic, moves a booking to another practitioner, cancels a
paid booking with a partial refund, and marks a no-show; the day view shows
each change. Screenshots go to artifacts/screenshots/reception-*.png.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from booking import services as booking_services
from booking.availability import LONDON
from booking.models import Booking
from payments import services as payment_services
from payments.models import Refund
from tests.a11y import assert_accessible, screenshot
from tests.factories import PASSWORD, BookingFactory, ReceptionistFactory
from tests.staff.seed import add_lunches, fill_day, make_clinic, make_patients

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def clinic_day():
    """Eight practitioners, 60 bookings tomorrow, three bookings this test acts on, and one that started."""
    now = timezone.localtime(timezone.now(), LONDON)
    tomorrow = now.date() + timedelta(days=1)
    assessment, follow_up, practitioners = make_clinic(8, all_week=True)
    patients = make_patients(20)
    fill_day(tomorrow, practitioners, follow_up, patients, 60)
    add_lunches(tomorrow, practitioners)
    receptionist = ReceptionistFactory(first_name="Rita", last_name="Desk", email="rita@clinic.example")
    # Practitioners 0, 3 and 6 work 14:00-19:00 in the afternoon; the seeded bookings stop at 16:30.
    to_move = BookingFactory(practitioner=practitioners[0], service=follow_up, patient=patients[0],
                             start=at(tomorrow, 17, 0))
    held = booking_services.booking_hold(patient=patients[1], service=follow_up, start=at(tomorrow, 18, 0),
                                         practitioner=practitioners[6], source=Booking.Source.RECEPTION,
                                         actor=receptionist)
    payment_services.payment_record_at_clinic(booking=held, method="card_terminal", actor=receptionist)
    started = now.replace(second=0, microsecond=0) - timedelta(minutes=60 + now.minute % 15)
    no_show = BookingFactory(practitioner=practitioners[2], service=follow_up, patient=patients[2], start=started)
    return {
        "tomorrow": tomorrow, "practitioners": practitioners, "to_move": to_move, "to_cancel": held,
        "no_show": no_show, "follow_up": follow_up,
    }


def login(page, base):
    page.goto(f"{base}/staff/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", "rita@clinic.example")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/staff/")


def day_column(page, practitioner):
    return page.locator(f'.cal-col[data-practitioner="{practitioner.pk}"]')


def test_reception_books_moves_cancels_and_marks_no_show(laptop_page, live_server, clinic_day):
    page, base = laptop_page, live_server.url
    tomorrow, practitioners = clinic_day["tomorrow"], clinic_day["practitioners"]
    login(page, base)

    page.goto(f"{base}/staff/day/{tomorrow.isoformat()}/")
    assert page.locator(".cal-head").count() == 8
    screenshot(page, "reception-day-view-8-practitioners")
    assert_accessible(page)

    # 1. A phone caller, new to the clinic, into a free slot (Hamza, 09:30), to pay at the clinic.
    caller_column = day_column(page, practitioners[7])
    caller_column.locator(".free", has_text="09:30").click()
    page.wait_for_url("**/staff/book/**")
    page.fill("#patient-q", "07700 900999")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_text("No patient matches").is_visible()
    page.get_by_label("New patient").check()
    page.fill("input[name=new_first_name]", "Carol")
    page.fill("input[name=new_last_name]", "Caller")
    page.fill("input[name=new_phone]", "07700 900999")
    page.select_option("select[name=service]", str(clinic_day["follow_up"].pk))
    page.get_by_label("Pay at the clinic (take payment when they come)").check()
    screenshot(page, "reception-book-form")
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_url(f"**/staff/day/{tomorrow.isoformat()}/")
    assert page.get_by_role("status").filter(has_text="Carol Caller booked at 09:30; confirmed, £60.00 to pay").is_visible()
    caller_block = caller_column.locator(".bk", has_text="Carol Caller")
    assert caller_block.get_attribute("data-status") == "confirmed"
    assert "09:30" in caller_block.inner_text() and "£60.00 due" in caller_block.inner_text()

    # 2. Move a booking from Amara (17:00) to Dev at 17:30.
    to_move = clinic_day["to_move"]
    page.locator(f'.bk[data-booking="{to_move.pk}"]').click()
    page.get_by_role("link", name="Move").click()
    page.select_option("select[name=practitioner]", str(practitioners[3].pk))
    page.select_option("select[name=time]", "17:30")
    page.fill("input[name=reason]", "Patient asked for later")
    page.get_by_role("button", name="Move booking").click()
    page.wait_for_url(f"**/staff/day/{tomorrow.isoformat()}/")
    assert day_column(page, practitioners[0]).locator(f'.bk[data-booking="{to_move.pk}"]').count() == 0
    moved = day_column(page, practitioners[3]).locator(f'.bk[data-booking="{to_move.pk}"]')
    assert "17:30" in moved.inner_text()

    # 3. Cancel a paid booking with a partial refund of £20.
    to_cancel = clinic_day["to_cancel"]
    page.locator(f'.bk[data-booking="{to_cancel.pk}"]').click()
    page.get_by_role("link", name="Cancel…").click()
    page.get_by_label("Refund this amount").check()
    page.fill("input[name=amount]", "20")
    page.fill("textarea[name=reason]", "Clinic closed early; goodwill part refund")
    page.get_by_role("button", name="Cancel booking").click()
    page.wait_for_url(f"**/staff/day/{tomorrow.isoformat()}/")
    assert page.get_by_role("status").filter(has_text="refund £20.00").is_visible()
    assert page.locator(f'.cal-col .bk[data-booking="{to_cancel.pk}"]').count() == 0
    assert page.locator(f'.gone [data-booking="{to_cancel.pk}"]').get_attribute("data-status") == "cancelled"
    assert Refund.objects.get(payment__booking_id=to_cancel.pk).amount_pence == 2000

    # 4. Today: a patient whose appointment started an hour ago never came.
    no_show = clinic_day["no_show"]
    day = timezone.localtime(no_show.start, LONDON).date()
    page.goto(f"{base}/staff/day/{day.isoformat()}/")
    page.locator(f'.bk[data-booking="{no_show.pk}"]').click()
    page.get_by_role("button", name="Mark no-show").click()
    assert page.locator(".status-pill[data-status=no_show]").is_visible()
    page.get_by_role("link", name=day.strftime("%A %-d %B")).click()
    assert page.locator(f'.bk[data-booking="{no_show.pk}"]').get_attribute("data-status") == "no_show"

    # The booking page of the cancelled booking: history, payments and refunds.
    page.goto(f"{base}/staff/bookings/{to_cancel.pk}/")
    assert page.get_by_text("Clinic closed early; goodwill part refund").first.is_visible()
    assert page.locator("tr.refund").count() == 1
    screenshot(page, "reception-booking-page")
    assert_accessible(page)


def test_staff_pages_are_accessible(laptop_page, live_server, clinic_day):
    page, base = laptop_page, live_server.url
    login(page, base)
    tomorrow, practitioners = clinic_day["tomorrow"], clinic_day["practitioners"]
    page.goto(f"{base}/staff/week/{practitioners[0].pk}/{tomorrow.isoformat()}/")
    screenshot(page, "reception-week-view")
    assert_accessible(page)
    page.goto(f"{base}/staff/my-day/?date={tomorrow.isoformat()}&practitioner={practitioners[1].pk}")
    screenshot(page, "reception-my-day")
    assert_accessible(page)
    page.goto(f"{base}/staff/week/all/{tomorrow.isoformat()}/")
    screenshot(page, "reception-week-all-practitioners")
    assert_accessible(page)
    page.goto(f"{base}/staff/takings/")
    assert_accessible(page)
    page.goto(f"{base}/staff/bookings/{clinic_day['to_move'].pk}/")
    assert_accessible(page)
    # The desk's forms too: book, move, cancel, time off, working hours.
    for path in (f"/staff/book/?practitioner={practitioners[0].pk}&start={tomorrow.isoformat()}T09:30",
                 f"/staff/bookings/{clinic_day['to_move'].pk}/move/",
                 f"/staff/bookings/{clinic_day['to_cancel'].pk}/cancel/",
                 f"/staff/time-off/new/?practitioner={practitioners[0].pk}&date={tomorrow.isoformat()}",
                 f"/staff/practitioners/{practitioners[0].pk}/hours/"):
        page.goto(base + path)
        assert_accessible(page)
    screenshot(page, "reception-working-hours")
    # A tablet held upright: the day view scrolls sideways, the page does not.
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{base}/staff/day/{tomorrow.isoformat()}/")
    screenshot(page, "reception-day-view-tablet")
    assert page.evaluate("document.documentElement.scrollWidth") <= 820
    assert page.evaluate("document.querySelector('.cal-scroll').scrollWidth") > 820
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/staff/day/{tomorrow.isoformat()}/")
    screenshot(page, "reception-day-view-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{base}/staff/my-day/?date={tomorrow.isoformat()}&practitioner={practitioners[1].pk}")
    screenshot(page, "reception-my-day-phone")
