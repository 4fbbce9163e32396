"""Reception's real day in a browser (laptop 1440x900): take payment then the receipt, the day's takings,
time off over a booking then the reschedule email, and a phone-booked patient signing in from the email link.
Screenshots go to artifacts/screenshots/desk-*.png; axe runs on each page."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from booking.availability import LONDON
from booking.staff import services as desk
from tests.a11y import assert_accessible, screenshot
from tests.browser.helpers import at, login_at_desk
from tests.factories import BookingFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_take_payment_then_receipt_then_takings(laptop_page, live_server, desk_day):
    page, base, day = laptop_page, live_server.url, desk_day["tomorrow"]
    booking = desk.reception_book(patient=UserFactory(first_name="Paula", last_name="Jones"),
                                  service=desk_day["follow_up"], practitioner=desk_day["amara"], start=at(day, 10),
                                  payment=desk.PAY_AT_CLINIC, actor=desk_day["reception"]).booking
    login_at_desk(page, base)
    page.goto(f"{base}/staff/day/{day.isoformat()}/")
    block = page.locator(f'.bk[data-booking="{booking.pk}"]')
    assert "£60.00 due" in block.inner_text()
    block.click()
    page.get_by_label("Card terminal").check()
    screenshot(page, "desk-take-payment")
    assert_accessible(page)
    page.get_by_role("button", name="Record £60.00 taken").click()
    page.wait_for_url("**/payments/receipts/**")
    assert page.get_by_role("heading", name=re.compile(r"Receipt PB-")).is_visible()
    receipt = page.locator(".receipt").inner_text()
    for text in ("Paula Jones", "Follow-up treatment", "Amara Obi", "£60.00", "Card terminal at the clinic", "Rita Desk"):
        assert text in receipt, text
    screenshot(page, "desk-receipt")
    assert_accessible(page)
    assert any("Receipt PB-" in m.subject for m in mail.outbox)

    page.get_by_role("link", name="Desk").click()
    page.get_by_role("link", name="Takings").click()
    assert page.locator("[data-total]").inner_text() == "£60.00"
    assert "Card terminal at the clinic" in page.locator(".takings-method").inner_text()
    assert "Amara Obi" in page.locator(".takings-practitioner").inner_text()
    screenshot(page, "desk-takings")
    assert_accessible(page)


def test_time_off_over_a_booking_then_the_reschedule_email(laptop_page, live_server, desk_day):
    page, base, day = laptop_page, live_server.url, desk_day["tomorrow"]
    patient = UserFactory(first_name="Ravi", last_name="Shah", email="ravi@example.com")
    booking = BookingFactory(practitioner=desk_day["amara"], service=desk_day["follow_up"], patient=patient,
                             start=at(day, 11).astimezone(LONDON))
    login_at_desk(page, base)
    page.goto(f"{base}/staff/time-off/new/?practitioner={desk_day['amara'].pk}&date={day.isoformat()}")
    page.select_option("select[name=start_time]", "10:00")
    page.select_option("select[name=end_time]", "13:00")
    page.select_option("select[name=reason]", "sick")
    page.get_by_role("button", name="Add time off").click()
    assert page.get_by_role("alert").filter(has_text="Ravi Shah").is_visible()
    page.get_by_role("button", name="Add time off anyway").click()
    page.wait_for_url("**/staff/time-off/*/")
    screenshot(page, "desk-time-off-bookings")
    assert_accessible(page)
    mail.outbox.clear()
    page.get_by_role("button", name="Email these patients to choose a new time").click()
    assert page.get_by_role("status").filter(has_text="Emailed 1 patient(s)").is_visible()
    (message,) = mail.outbox
    assert message.to == ["ravi@example.com"] and f"/my-bookings/{booking.pk}/reschedule/" in message.body
    page.goto(f"{base}/staff/day/{day.isoformat()}/")
    assert "In time off" in page.locator(f'.bk[data-booking="{booking.pk}"]').inner_text()
    screenshot(page, "desk-day-time-off-marked")
    assert_accessible(page)


def test_phone_created_patient_signs_in_from_the_email_link(laptop_page, live_server, desk_day):
    page, base, day = laptop_page, live_server.url, desk_day["tomorrow"]
    mail.outbox.clear()
    booking = desk.reception_book(
        patient=None, service=desk_day["follow_up"], practitioner=desk_day["amara"], start=at(day, 15),
        payment=desk.PAY_AT_CLINIC, actor=desk_day["reception"],
        new_patient={"first_name": "Phoebe", "last_name": "Caller", "email": "phoebe@example.com", "phone": ""},
    ).booking
    (confirmation,) = [m for m in mail.outbox if m.to == ["phoebe@example.com"]]
    assert "£60.00 to pay at the clinic" in confirmation.body
    link = re.search(r"https?://\S+/accounts/link/\S+/", confirmation.body).group(0)
    page.goto(base + "/accounts/link/" + link.split("/accounts/link/", 1)[1])
    screenshot(page, "desk-phone-patient-sign-in")
    assert_accessible(page)
    page.get_by_role("button", name="Sign in and see my booking").click()
    page.wait_for_url(f"**/my-bookings/{booking.pk}/")
    assert page.get_by_text("You are signed in").is_visible()
    assert page.get_by_text("Follow-up treatment").first.is_visible()
    assert page.get_by_text("£60.00 (card or cash when you come)").is_visible()
    screenshot(page, "desk-phone-patient-booking")
    assert_accessible(page)
    page.goto(f"{base}/accounts/profile/")
    assert page.get_by_role("link", name="Set a password").is_visible()
