"""Reception hands back a desk refund from the "needs attention" list, on a phone, by keyboard.

Screenshots: artifacts/screenshots/attention-*.png.
"""

import pytest

from payments.services import booking_cancel
from payments import services
from payments.models import Attention, Payment, Refund
from tests.a11y import assert_accessible, screenshot
from tests.factories import PASSWORD, ReceptionistFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reception_hands_back_a_desk_refund_from_needs_attention(phone_page, live_server, hold):
    page, base = phone_page, live_server.url
    reception = ReceptionistFactory(email="rita@clinic.example", first_name="Rita", last_name="Desk")
    booking = hold()
    services.payment_record_at_clinic(booking=booking, method=Payment.Method.CARD_TERMINAL, actor=reception)
    booking_cancel(booking=booking, actor=booking.patient, reason="Feeling better")  # online, by the patient
    services.attention_raise(key="mismatch:cs_demo", kind=Attention.Kind.MISMATCH, amount_pence=1,
                             message="Stripe reports 1 pence in GBP for checkout cs_demo; we asked for 7500 pence in GBP.")
    page.goto(f"{base}/staff/")
    page.fill("input[name=login]", reception.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/staff/")
    link = page.get_by_role("link", name="Needs attention 2")
    assert link.is_visible()
    screenshot(page, "attention-day-view-count-phone")
    link.click()
    page.wait_for_url(f"{base}/payments/attention/")
    assert page.locator(".attention-item").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling on a phone
    screenshot(page, "attention-list-phone")
    assert_accessible(page)
    desk = page.locator('.attention-item[data-kind="desk_refund"]')
    desk.get_by_label("Note (optional)").focus()
    page.keyboard.type("Refunded on the terminal")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the "Refunded at the desk" button, by keyboard
    page.get_by_text("Desk refund of £75.00 recorded as done.").wait_for()
    assert page.locator(".attention-item").count() == 1
    screenshot(page, "attention-after-desk-refund-phone")
    assert Refund.objects.get().status == Refund.Status.SUCCEEDED
