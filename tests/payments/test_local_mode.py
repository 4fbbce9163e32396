"""The local test-payment mode (no keys): the same dispatch path as Stripe's webhooks."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from payments.services import booking_cancel
from booking.models import Booking
from payments import gateway, services
from payments.models import LocalCheckoutSession, Payment, Refund, StripeEvent

from .conftest import make_event, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_checkout(client, hold):
    assert gateway.is_local_mode()
    booking = hold()
    payment = services.payment_start(booking=booking)
    client.force_login(booking.patient)
    return booking, payment


def test_test_page_is_clearly_labelled(client, at_checkout):
    booking, payment = at_checkout
    assert payment.method == Payment.Method.LOCAL_TEST
    assert payment.checkout_url.endswith(reverse("payments:local_checkout", args=[payment.checkout_session_id]))
    page = client.get(reverse("payments:local_checkout", args=[payment.checkout_session_id])).content.decode()
    assert "Test payment, no card is charged" in page
    assert "£75.00" in page


def test_pay_confirms_through_the_webhook_dispatch(client, at_checkout, on_commit, mailoutbox):
    booking, payment = at_checkout
    with on_commit():
        response = client.post(reverse("payments:local_checkout", args=[payment.checkout_session_id]), {"action": "pay"})
    assert response.status_code == 302
    assert response.url.endswith(f"/payments/success/{booking.pk}/?session_id={payment.checkout_session_id}")
    event = StripeEvent.objects.get()
    assert event.type == "checkout.session.completed" and event.event_id.startswith("evt_local_")
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.SUCCEEDED and payment.payment_intent_id.startswith("pi_local_")
    with on_commit():
        assert client.get(response.url).status_code == 302  # the success page: now a no-op
    assert StripeEvent.objects.count() == 1 and [m.subject.split(" ")[0] for m in mailoutbox] == ["Booking", "Receipt"]


def test_cancel_goes_back_and_keeps_the_hold(client, at_checkout):
    booking, payment = at_checkout
    response = client.post(reverse("payments:local_checkout", args=[payment.checkout_session_id]), {"action": "cancel"})
    assert response.url.endswith(reverse("booking:my_booking", args=[booking.pk]))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert LocalCheckoutSession.objects.get().status == "open"


def test_expiry_runs_the_checkout_session_expired_path(client, at_checkout, on_commit):
    booking, payment = at_checkout
    with time_machine.travel(booking.hold_expires_at + timedelta(seconds=1), tick=False), on_commit():
        call_command("expire_holds", stdout=None)
    assert LocalCheckoutSession.objects.get().status == "expired"
    assert StripeEvent.objects.get().type == "checkout.session.expired"
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED and payment.status == Payment.Status.EXPIRED
    page = client.post(reverse("payments:local_checkout", args=[payment.checkout_session_id]), {"action": "pay"})
    assert page.status_code == 200 and "This checkout is expired" in page.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED


def test_cancellation_refund_in_local_mode(client, at_checkout, on_commit):
    booking, payment = at_checkout
    with on_commit():
        client.post(reverse("payments:local_checkout", args=[payment.checkout_session_id]), {"action": "pay"})
        booking_cancel(booking=booking, actor=booking.patient, reason="Better")
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.SUCCEEDED and refund.stripe_refund_id.startswith("re_local_")
    assert LocalCheckoutSession.objects.get().refunded_pence == 7500


def test_finding_05_local_mode_webhook_accepts_nothing_signed_or_not(client, settings, at_checkout):
    """An anonymous POST of a made-up checkout.session.completed used to confirm a held booking."""
    booking, payment = at_checkout
    forged = make_event("checkout.session.completed", {
        "id": payment.checkout_session_id, "object": "checkout.session", "status": "complete",
        "payment_status": "paid", "amount_total": 1, "currency": "gbp", "payment_intent": "pi_forged",
    })
    unsigned = client.post("/payments/stripe/webhook/", data=json.dumps(forged), content_type="application/json")
    assert unsigned.status_code == 400
    settings.STRIPE_WEBHOOK_SECRET = "whsec_local"
    assert post_event(client, forged, secret="whsec_local").status_code == 400
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert payment.status == Payment.Status.PENDING
    assert StripeEvent.objects.count() == 0


def test_test_page_is_404_in_stripe_mode(client, settings, at_checkout):
    booking, payment = at_checkout
    settings.STRIPE_SECRET_KEY = "sk_test_physiobook_emulator_only"  # keys set: the test page is gone
    assert client.get(reverse("payments:local_checkout", args=[payment.checkout_session_id])).status_code == 404
