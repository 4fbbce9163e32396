"""The Stripe boundary: the ONLY module in the app that imports stripe.

Same functions as payments.local_gateway, returning our own dataclasses
(payments.gateway), never Stripe objects. Every provider failure becomes
GatewayUnavailable (try again later) or GatewayRefused (Stripe said no), so
callers never catch stripe's own exception classes.

STRIPE_API_BASE (optional) points the SDK at a local emulator (tests use
localstripe); unset, the SDK talks to api.stripe.com.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import stripe
from django.conf import settings

if TYPE_CHECKING:  # the SDK's TypedDicts, for mypy only
    from stripe._base_address import BaseAddresses
    from stripe.params import RefundCreateParams
    from stripe.params.checkout import SessionCreateParams

from .gateway import (
    ChargeTotals,
    CheckoutRequest,
    CheckoutSession,
    GatewayRefused,
    GatewayUnavailable,
    InvalidEvent,
    RefundResult,
    WebhookEvent,
    event_from_json,
    refund_from_dict,
    session_from_dict,
)

# Stripe's own default: a signed event older than this is refused (replay protection).
WEBHOOK_TOLERANCE_SECONDS = 300
# One quick retry on a network blip (with our idempotency key, so never a double charge/refund).
MAX_NETWORK_RETRIES = 1


def _client() -> stripe.StripeClient:
    """Calls run inside requests (checkout, success page, cancel): a few seconds at most, not the
    SDK's 80 s read timeout. Worst case: (connect + read) x 2 tries (settings STRIPE_*_TIMEOUT)."""
    base: BaseAddresses | None = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    http = stripe.RequestsClient(timeout=(settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_READ_TIMEOUT))
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses=base, max_network_retries=MAX_NETWORK_RETRIES, http_client=http
    )


def _call(fn):
    try:
        return fn()
    except (stripe.InvalidRequestError, stripe.CardError) as exc:
        raise GatewayRefused(str(exc)) from exc
    except stripe.StripeError as exc:
        # APIConnectionError, APIError, RateLimitError, AuthenticationError, ...
        raise GatewayUnavailable(str(exc)) from exc
    except InvalidEvent as exc:  # an answer we cannot read is not one to act on
        raise GatewayUnavailable(f"unreadable answer: {exc}") from exc


def _session(obj) -> CheckoutSession:
    return session_from_dict(obj.to_dict())


def _refund(obj) -> RefundResult:
    return refund_from_dict(obj.to_dict())


def checkout_session_create(request: CheckoutRequest) -> CheckoutSession:
    metadata = {"booking_id": str(request.booking_id)}
    if request.offer_code:
        metadata["offer_code"] = request.offer_code
    params: SessionCreateParams = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": request.currency,
                    "unit_amount": request.amount_pence,
                    "product_data": {"name": request.description},
                },
            }
        ],
        "customer_email": request.customer_email,
        "client_reference_id": str(request.booking_id),
        "metadata": metadata,
        # The PaymentIntent carries the booking too, so charge/refund events can be traced in the dashboard.
        "payment_intent_data": {"metadata": metadata},
        # Cards settle at once: no payment is still "processing" when the hold lapses (finding 10;
        # see payments/README.md, "Delayed payment methods").
        # Since API 2026-09-30.endive (the SDK pins 2026-10-28.endive) Stripe refuses
        # `payment_method_types` on a Checkout Session with a 400; `allowed_payment_method_types`
        # filters the dynamic methods down to cards.
        "allowed_payment_method_types": ["card"],
        "expires_at": int(request.expires_at.timestamp()),
        "success_url": request.success_url,
        "cancel_url": request.cancel_url,
    }
    return _call(
        lambda: _session(
            _client().v1.checkout.sessions.create(params, options={"idempotency_key": request.idempotency_key})
        )
    )


def checkout_session_get(session_id: str) -> CheckoutSession:
    return _call(lambda: _session(_client().v1.checkout.sessions.retrieve(session_id)))


def checkout_session_expire(session_id: str) -> CheckoutSession:
    """Close an open session; a session that is already complete or expired is returned as it is."""
    client = _client()
    try:
        return _call(lambda: _session(client.v1.checkout.sessions.expire(session_id)))
    except GatewayRefused:
        # Only open sessions can be expired: tell the caller what it is instead.
        return checkout_session_get(session_id)


def refund_create(*, payment_intent_id: str, amount_pence: int, idempotency_key: str, metadata: dict | None = None) -> RefundResult:
    params: RefundCreateParams = {"payment_intent": payment_intent_id, "amount": amount_pence}
    if metadata:
        params["metadata"] = metadata
    return _call(lambda: _refund(_client().v1.refunds.create(params, options={"idempotency_key": idempotency_key})))


def refund_get(refund_id: str) -> RefundResult:
    return _call(lambda: _refund(_client().v1.refunds.retrieve(refund_id)))


def refund_list(payment_intent_id: str) -> list[RefundResult]:
    """Every refund Stripe holds for a payment intent (charge.refunded no longer embeds them)."""
    page = _call(lambda: _client().v1.refunds.list({"payment_intent": payment_intent_id, "limit": 100}))
    return [_refund(obj) for obj in page.data]


def charge_totals(payment_intent_id: str) -> ChargeTotals:
    """Captured and refunded for a payment intent, from its charge (payments_audit)."""
    client = _client()
    intent = _call(lambda: client.v1.payment_intents.retrieve(payment_intent_id)).to_dict()
    charge = intent.get("latest_charge")
    if isinstance(charge, str):
        charge = _call(lambda: client.v1.charges.retrieve(charge)).to_dict()
    if not charge:
        return ChargeTotals(captured=0, refunded=0)
    captured = int(charge.get("amount_captured") or (charge.get("amount") if charge.get("captured") else 0) or 0)
    return ChargeTotals(captured=captured if charge.get("status") == "succeeded" else 0,
                        refunded=int(charge.get("amount_refunded") or 0))


def event_from_request(payload: bytes, sig_header: str | None) -> WebhookEvent:
    """Verify the Stripe-Signature header (HMAC and timestamp tolerance) and parse the event."""
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise InvalidEvent("STRIPE_WEBHOOK_SECRET is not set: refusing unsigned events.")
    try:
        stripe.WebhookSignature.verify_header(payload, sig_header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise InvalidEvent(str(exc)) from exc
    return event_from_json(payload)

