"""Starting a Stripe Checkout, Stripe unreachable, and the success page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.exceptions import InvalidStatusChange
from booking.models import Booking
from payments import gateway, services
from payments.models import Payment

from .conftest import emulator_pay, emulator_session, free_port

pytestmark = pytest.mark.django_db


def test_payment_start_opens_a_checkout_session_with_the_booking(stripe_mode, hold):
    booking = hold()
    payment = services.payment_start(booking=booking)
    assert payment.status == Payment.Status.PENDING
    assert payment.method == Payment.Method.STRIPE_CHECKOUT
    assert payment.checkout_session_id.startswith("cs_test_")
    assert payment.checkout_url.startswith(stripe_mode)
    sent = emulator_session(stripe_mode, payment.checkout_session_id)
    assert sent["amount_total"] == booking.amount_due_pence == 7500
    assert sent["currency"] == "gbp"
    assert sent["customer_email"] == booking.patient.email
    assert sent["client_reference_id"] == str(booking.pk)
    assert sent["metadata"] == {"booking_id": str(booking.pk)}
    name = sent["line_items_sent"][0]["price_data"]["product_data"]["name"]
    assert booking.service.name in name and booking.practitioner.name in name and "10:00 London time" in name
    assert sent["success_url"].endswith(f"/payments/success/{booking.pk}/?session_id={{CHECKOUT_SESSION_ID}}")
    assert sent["cancel_url"].endswith(reverse("booking:my_booking", args=[booking.pk]))
    # Stripe's minimum is 30 minutes, so the session may outlive the hold (expire_holds closes it).
    assert sent["expires_at"] >= int(booking.hold_expires_at.timestamp())
    assert sent["expires_at"] >= int((timezone.now() + timedelta(minutes=30)).timestamp())


def test_payment_start_twice_reuses_the_open_checkout(stripe_mode, hold):
    booking = hold()
    first = services.payment_start(booking=booking)
    assert services.payment_start(booking=booking).pk == first.pk
    assert Payment.objects.count() == 1


def test_payment_start_refuses_a_lapsed_hold(stripe_mode, hold):
    booking = hold()
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvalidStatusChange):
        services.payment_start(booking=booking)
    assert Payment.objects.count() == 0


def test_stripe_unreachable_at_checkout_keeps_hold_writes_nothing_and_retry_works(settings, stripe_mode, hold):
    booking = hold()
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(gateway.GatewayUnavailable):
        services.payment_start(booking=booking)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert booking.is_blocking(timezone.now())
    assert Payment.objects.count() == 0
    settings.STRIPE_API_BASE = stripe_mode  # Stripe is back: the patient presses Pay again
    payment = services.payment_start(booking=booking)
    assert payment.checkout_session_id.startswith("cs_test_")
    assert Payment.objects.count() == 1


def test_success_page_confirms_by_retrieve_when_the_webhook_is_late(client, stripe_mode, hold, on_commit):
    booking = hold()
    payment = services.payment_start(booking=booking)
    emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    client.force_login(booking.patient)
    with on_commit():
        response = client.get(f"/payments/success/{booking.pk}/?session_id={payment.checkout_session_id}")
    assert response.status_code == 302
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.payment_intent_id.startswith("pi_")


def test_success_redirect_alone_does_not_confirm(client, stripe_mode, hold):
    booking = hold()
    payment = services.payment_start(booking=booking)  # not paid at Stripe
    client.force_login(booking.patient)
    client.get(f"/payments/success/{booking.pk}/?session_id={payment.checkout_session_id}")
    client.get(f"/payments/success/{booking.pk}/?session_id=cs_test_made_up")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD


def test_success_page_of_another_patient_is_404(client, stripe_mode, hold):
    from tests.factories import UserFactory

    booking = hold()
    payment = services.payment_start(booking=booking)
    client.force_login(UserFactory())
    assert client.get(f"/payments/success/{booking.pk}/?session_id={payment.checkout_session_id}").status_code == 404


def test_the_attempt_idempotency_key_reaches_stripe(stripe_mode, hold):
    """A network retry of the same attempt gets the same session back, never a second one."""
    booking = hold()
    request = services._checkout_request(
        booking, idempotency_key="booking-attempt-fixed", expires_at=timezone.now() + timedelta(minutes=40)
    )
    first = gateway.current().checkout_session_create(request)
    again = gateway.current().checkout_session_create(request)
    assert first.id == again.id


def test_stripe_refusal_is_a_gateway_error_not_a_stripe_one(stripe_mode, hold):
    booking = hold()
    too_soon = services._checkout_request(
        booking, idempotency_key="booking-attempt-too-soon", expires_at=timezone.now() + timedelta(minutes=5)
    )
    with pytest.raises(gateway.GatewayRefused):
        gateway.current().checkout_session_create(too_soon)
