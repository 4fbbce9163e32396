"""The local test-payment mode end to end in chromium: test page, Pay, success page, booking confirmed."""

import pytest
from django.test import Client

from booking.models import Booking
from payments import services
from payments.models import StripeEvent
from tests.a11y import assert_accessible, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


@pytest.mark.parametrize("page_fixture", ["phone_page", "laptop_page"])
def test_local_checkout_pay_confirms_the_booking(request, page_fixture, live_server, settings, hold, mailoutbox):
    page = request.getfixturevalue(page_fixture)
    settings.SITE_URL = live_server.url  # success and cancel URLs are built from it
    booking = hold()
    payment = services.payment_start(booking=booking)
    _log_in(page, live_server, booking.patient)
    page.goto("/payments/" + payment.checkout_url.split("/payments/", 1)[1])
    assert page.get_by_role("heading", name="Test payment, no card is charged").is_visible()
    assert_accessible(page)
    screenshot(page, f"payments-local-checkout-{page_fixture}")
    page.get_by_role("button", name="Pay £75.00 (test)").click()
    page.wait_for_url(f"**/my-bookings/{booking.pk}/")
    assert "Confirmed" in page.content()
    screenshot(page, f"payments-local-checkout-paid-{page_fixture}")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert StripeEvent.objects.get().type == "checkout.session.completed"


def test_local_checkout_cancel_goes_back_to_the_held_booking(phone_page, live_server, settings, hold):
    settings.SITE_URL = live_server.url
    booking = hold()
    payment = services.payment_start(booking=booking)
    _log_in(phone_page, live_server, booking.patient)
    phone_page.goto("/payments/" + payment.checkout_url.split("/payments/", 1)[1])
    phone_page.get_by_role("button", name="Cancel").click()
    phone_page.wait_for_url(f"**/my-bookings/{booking.pk}/")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
