"""The Stripe webhook: signature and timestamp, each event once, any order."""

import json
import time

import pytest

from booking.models import Booking, BookingEvent
from offers.models import OfferCode
from payments import services
from payments.models import Payment, Refund, StripeEvent

from .conftest import (
    WEBHOOK_SECRET,
    emulator_client,
    emulator_pay,
    emulator_paid_intent,
    emulator_session,
    make_event,
    post_event,
    sign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(stripe_mode, hold):
    """A held booking whose patient is at Stripe's Checkout (a real session in the emulator)."""
    booking = hold()
    payment = services.payment_start(booking=booking)
    return booking, payment


def _paid(stripe_mode, payment):
    return emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)


def _snapshot(booking):
    booking.refresh_from_db()
    return (
        booking.status,
        list(Payment.objects.filter(booking=booking).values_list("status", "paid_at", "auto_refunded")),
        BookingEvent.objects.filter(booking=booking).count(),
        StripeEvent.objects.count(),
        Refund.objects.count(),
    )


def test_completed_webhook_confirms_and_records_stripe_ids(client, stripe_mode, started, on_commit, mailoutbox):
    booking, payment = started
    session = _paid(stripe_mode, payment)
    with on_commit():
        response = post_event(client, make_event("checkout.session.completed", session))
    assert response.status_code == 200
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.payment_intent_id == session["payment_intent"]
    assert payment.paid_at is not None
    assert [m.subject.split(":")[0] for m in mailoutbox] == ["Booking confirmed"]


def test_duplicate_webhook_changes_nothing(client, stripe_mode, started, on_commit, mailoutbox):
    booking, payment = started
    event = make_event("checkout.session.completed", _paid(stripe_mode, payment))
    with on_commit():
        assert post_event(client, event).status_code == 200
    before = _snapshot(booking)
    with on_commit():
        retry = post_event(client, event)  # Stripe retries with the same event id
    assert retry.status_code == 200
    assert retry.content == b"duplicate"
    assert _snapshot(booking) == before
    assert len(mailoutbox) == 1


def test_expired_after_completed_keeps_the_booking(client, stripe_mode, started, on_commit):
    booking, payment = started
    session = _paid(stripe_mode, payment)
    with on_commit():
        post_event(client, make_event("checkout.session.completed", session))
        response = post_event(client, make_event("checkout.session.expired", {**session, "status": "expired"}))
    assert response.status_code == 200
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.SUCCEEDED


def test_completed_after_expired_confirms_while_the_slot_is_free(client, stripe_mode, started, on_commit):
    booking, payment = started
    session = emulator_session(stripe_mode, payment.checkout_session_id)
    with on_commit():
        post_event(client, make_event("checkout.session.expired", {**session, "status": "expired"}))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    paid = _paid(stripe_mode, payment)
    with on_commit():
        assert post_event(client, make_event("checkout.session.completed", paid)).status_code == 200
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.SUCCEEDED
    assert not payment.auto_refunded


def test_offer_code_redeemed_only_when_payment_succeeds(client, stripe_mode, hold, offer_code, on_commit):
    patient, code = offer_code
    booking = hold(patient=patient, offer_code=code.code)
    assert booking.amount_due_pence == 6000  # 7500 less 20%
    code.refresh_from_db()
    assert code.reserved_by_id == booking.pk and code.redeemed_by_id is None
    payment = services.payment_start(booking=booking)
    sent = emulator_session(stripe_mode, payment.checkout_session_id)
    assert sent["metadata"] == {"booking_id": str(booking.pk), "offer_code": code.code}
    assert sent["amount_total"] == 6000
    code.refresh_from_db()
    assert code.redeemed_by_id is None  # starting to pay is not paying
    with on_commit():
        post_event(client, make_event("checkout.session.completed", _paid(stripe_mode, payment)))
    code.refresh_from_db()
    assert code.redeemed_by_id == booking.pk
    assert code.reserved_by_id is None


def test_expired_checkout_releases_hold_and_offer_code(client, stripe_mode, hold, offer_code, on_commit):
    patient, code = offer_code
    booking = hold(patient=patient, offer_code=code.code)
    payment = services.payment_start(booking=booking)
    session = emulator_session(stripe_mode, payment.checkout_session_id)
    with on_commit():
        response = post_event(client, make_event("checkout.session.expired", {**session, "status": "expired"}))
    assert response.status_code == 200
    booking.refresh_from_db()
    payment.refresh_from_db()
    code = OfferCode.objects.get(pk=code.pk)
    assert booking.status == Booking.Status.EXPIRED
    assert payment.status == Payment.Status.EXPIRED
    assert code.reserved_by_id is None and code.redeemed_by_id is None
    # The code can be used again, for a new hold.
    again = hold(patient=patient, offer_code=code.code)
    assert again.discount_pence == 1500


def test_async_payment_failed_releases_the_hold(client, stripe_mode, started, on_commit):
    booking, payment = started
    session = {**emulator_session(stripe_mode, payment.checkout_session_id), "status": "complete", "payment_status": "unpaid"}
    with on_commit():
        post_event(client, make_event("checkout.session.completed", session))  # bank debit: not paid yet
        booking.refresh_from_db()
        assert booking.status == Booking.Status.HELD
        post_event(client, make_event("checkout.session.async_payment_failed", session))
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert booking.status == Booking.Status.EXPIRED


def test_async_payment_succeeded_confirms(client, stripe_mode, started, on_commit):
    booking, payment = started
    with on_commit():
        post_event(client, make_event("checkout.session.async_payment_succeeded", _paid(stripe_mode, payment)))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize(
    "tamper",
    ["payload", "old_timestamp", "missing_signature", "wrong_secret", "garbage_header"],
)
def test_bad_signature_or_old_timestamp_is_refused_and_changes_nothing(client, stripe_mode, started, tamper):
    booking, payment = started
    event = make_event("checkout.session.completed", _paid(stripe_mode, payment))
    body = json.dumps(event)
    header = sign(body)
    if tamper == "payload":
        body = body.replace(f'"amount_total": {payment.amount_pence}', '"amount_total": 1')
        assert '"amount_total": 1,' in body
    elif tamper == "old_timestamp":
        header = sign(body, timestamp=int(time.time()) - 301)  # correctly signed, but 5 minutes old: a replay
    elif tamper == "missing_signature":
        header = ""
    elif tamper == "wrong_secret":
        header = sign(body, secret="whsec_someone_else")
    elif tamper == "garbage_header":
        header = "t=abc,v1=="
    before = _snapshot(booking)
    response = post_event(client, body, signature=header)
    assert response.status_code == 400
    assert _snapshot(booking) == before
    assert booking.status == Booking.Status.HELD
    # The same event, properly signed, still goes through afterwards.
    assert post_event(client, json.dumps(event)).status_code == 200


def test_without_webhook_secret_stripe_mode_refuses_everything(client, settings, stripe_mode, started):
    settings.STRIPE_WEBHOOK_SECRET = ""
    booking, payment = started
    response = post_event(client, make_event("checkout.session.completed", _paid(stripe_mode, payment)))
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_webhook_is_post_only_and_csrf_exempt(stripe_mode, started):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.get("/payments/stripe/webhook/").status_code == 405
    event = make_event("customer.created", {"id": "cus_1", "object": "customer"})
    assert post_event(strict, event).status_code == 200


def test_unknown_event_types_answer_200_and_are_stored_once(client, stripe_mode):
    event = make_event("customer.created", {"id": "cus_123", "object": "customer"})
    assert post_event(client, event).status_code == 200
    assert post_event(client, event).status_code == 200
    assert list(StripeEvent.objects.values_list("event_id", "type")) == [(event["id"], "customer.created")]


def test_localstripe_signed_delivery_is_accepted(client, stripe_mode):
    """An event signed by an independent implementation (localstripe's webhook sender) verifies."""
    import http.server
    import threading

    from .conftest import free_port

    received = []

    class Capture(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    port = free_port()
    capture = http.server.HTTPServer(("127.0.0.1", port), Capture)
    threading.Thread(target=capture.serve_forever, daemon=True).start()
    try:
        import requests

        requests.post(
            f"{stripe_mode}/_config/webhooks/physiobook",
            data={"url": f"http://127.0.0.1:{port}/", "secret": WEBHOOK_SECRET, "events[]": ["payment_intent.succeeded"]},
            timeout=5,
        ).raise_for_status()
        intent = emulator_paid_intent(stripe_mode, 7500)
        deadline = time.monotonic() + 10
        while not any(intent.encode() in body for body, _ in received) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        capture.shutdown()
        capture.server_close()
    body, header = next((b, h) for b, h in received if intent.encode() in b)
    response = client.post("/payments/stripe/webhook/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.type == "payment_intent.succeeded"
    assert stored.payload["data"]["object"]["id"] == intent
    tampered = body.replace(b'"amount": 7500', b'"amount": 1')
    assert tampered != body
    assert client.post(
        "/payments/stripe/webhook/", data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    ).status_code == 400


def test_refund_made_in_the_dashboard_is_recorded_once(client, stripe_mode, started, on_commit):
    booking, payment = started
    with on_commit():
        post_event(client, make_event("checkout.session.completed", _paid(stripe_mode, payment)))
    payment.refresh_from_db()
    stripe = emulator_client(stripe_mode)
    # Someone refunds £20 in the Stripe dashboard (here: straight at the emulator, not through us).
    refund = stripe.v1.refunds.create({"payment_intent": payment.payment_intent_id, "amount": 2000})
    charge = stripe.v1.charges.retrieve(refund.charge).to_dict()
    assert charge["amount_refunded"] == 2000
    with on_commit():
        assert post_event(client, make_event("refund.updated", refund.to_dict())).status_code == 200
        assert post_event(client, make_event("charge.refunded", charge)).status_code == 200
    row = Refund.objects.get()
    assert (row.amount_pence, row.status, row.stripe_refund_id) == (2000, Refund.Status.SUCCEEDED, refund.id)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert services.paid_pence(booking=booking) == 5500
    assert BookingEvent.objects.filter(booking=booking, action=BookingEvent.Action.REFUND).count() == 1


def test_charge_refunded_total_is_never_added_as_a_row_rows_come_from_stripe_by_id(client, settings, stripe_mode, started, on_commit):
    from payments import reconcile

    from .conftest import closed_port_url

    booking, payment = started
    with on_commit():
        post_event(client, make_event("checkout.session.completed", _paid(stripe_mode, payment)))
    payment.refresh_from_db()
    refund = emulator_client(stripe_mode).v1.refunds.create({"payment_intent": payment.payment_intent_id, "amount": 7500})
    charge = {"id": refund.charge, "object": "charge", "payment_intent": payment.payment_intent_id, "amount": 7500,
              "amount_refunded": 7500}
    settings.STRIPE_API_BASE = closed_port_url()  # Stripe's refund list cannot be fetched now
    with on_commit():
        post_event(client, make_event("charge.refunded", charge))
        post_event(client, make_event("charge.refunded", charge))  # a second event with the same totals
    assert Refund.objects.count() == 0  # no invented row without an id
    payment.refresh_from_db()
    assert payment.provider_refunded_pence == 7500
    settings.STRIPE_API_BASE = stripe_mode
    reconcile.payments_reconcile()
    row = Refund.objects.get()
    assert (row.amount_pence, row.stripe_refund_id) == (7500, refund.id)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
