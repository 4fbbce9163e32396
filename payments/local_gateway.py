"""The local test-payment mode: the gateway's functions without Stripe (no card is charged).

Used whenever STRIPE_SECRET_KEY is unset. A clearly labelled page stands in
for Stripe's hosted Checkout. Paying and expiring build the same events Stripe
would send (checkout.session.completed / .expired) and hand them to
payments.webhooks.dispatch, so the local mode runs the very same code paths.
"""

from __future__ import annotations

import json
import secrets
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from .gateway import (
    ChargeTotals,
    CheckoutRequest,
    CheckoutSession,
    GatewayRefused,
    InvalidEvent,
    RefundResult,
    WebhookEvent,
    event_from_json,
    session_from_dict,
)
from .models import LocalCheckoutSession


def _as_dict(row: LocalCheckoutSession) -> dict:
    """The session as Stripe's JSON would show it."""
    return {
        "id": row.session_id,
        "object": "checkout.session",
        "url": settings.SITE_URL + reverse("payments:local_checkout", args=[row.session_id]),
        "status": row.status,
        "payment_status": row.payment_status,
        "amount_total": row.amount_pence,
        "currency": row.currency,
        "customer_email": row.customer_email,
        "client_reference_id": row.metadata.get("booking_id"),
        "payment_intent": row.payment_intent_id or None,
        "metadata": row.metadata,
        "expires_at": int(row.expires_at.timestamp()),
    }


def _send_event(event_type: str, row: LocalCheckoutSession) -> None:
    """Deliver an event as Stripe would, after the session change is committed."""
    from . import webhooks

    payload = {
        "id": "evt_local_" + secrets.token_hex(12),
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": _as_dict(row)},
    }
    transaction.on_commit(lambda: webhooks.dispatch(event_from_json(json.dumps(payload))))


def checkout_session_create(request: CheckoutRequest) -> CheckoutSession:
    metadata = {"booking_id": str(request.booking_id)}
    if request.offer_code:
        metadata["offer_code"] = request.offer_code
    row = LocalCheckoutSession.objects.create(
        session_id="cs_local_" + secrets.token_hex(12),
        amount_pence=request.amount_pence,
        currency=request.currency,
        description=request.description,
        customer_email=request.customer_email,
        metadata=metadata,
        expires_at=request.expires_at,
        success_url=request.success_url,
        cancel_url=request.cancel_url,
    )
    return session_from_dict(_as_dict(row))


def checkout_session_get(session_id: str) -> CheckoutSession:
    return session_from_dict(_as_dict(LocalCheckoutSession.objects.get(session_id=session_id)))


@transaction.atomic
def checkout_session_expire(session_id: str) -> CheckoutSession:
    """Like Stripe's expire: only an open session expires, and checkout.session.expired is sent."""
    row = LocalCheckoutSession.objects.select_for_update().get(session_id=session_id)
    if row.status == LocalCheckoutSession.Status.OPEN:
        row.status = LocalCheckoutSession.Status.EXPIRED
        row.save(update_fields=["status"])
        _send_event("checkout.session.expired", row)
    return session_from_dict(_as_dict(row))


@transaction.atomic
def checkout_session_pay(session_id: str) -> CheckoutSession:
    """The test page's Pay button: what a card payment at Stripe does (session complete,
    then checkout.session.completed delivered)."""
    row = LocalCheckoutSession.objects.select_for_update().get(session_id=session_id)
    if row.status == LocalCheckoutSession.Status.OPEN:
        row.status = LocalCheckoutSession.Status.COMPLETE
        row.payment_status = "paid"
        row.payment_intent_id = "pi_local_" + secrets.token_hex(12)
        row.save(update_fields=["status", "payment_status", "payment_intent_id"])
        _send_event("checkout.session.completed", row)
    return session_from_dict(_as_dict(row))


def refund_create(*, payment_intent_id: str, amount_pence: int, idempotency_key: str, metadata: dict | None = None) -> RefundResult:
    # Like Stripe: never above what was charged.
    updated = LocalCheckoutSession.objects.filter(
        payment_intent_id=payment_intent_id, amount_pence__gte=F("refunded_pence") + amount_pence
    ).update(refunded_pence=F("refunded_pence") + amount_pence)
    if not updated:
        raise GatewayRefused("Refund is greater than the unrefunded amount of the charge.")
    return RefundResult(
        id="re_local_" + secrets.token_hex(12), status="succeeded", amount=amount_pence,
        payment_intent_id=payment_intent_id, metadata=dict(metadata or {}),
    )


def refund_get(refund_id: str) -> RefundResult:
    return RefundResult(id=refund_id, status="succeeded", amount=0)


def refund_list(payment_intent_id: str) -> list[RefundResult]:
    return []  # local refunds are only ever made by us, and recorded as they are made


def charge_totals(payment_intent_id: str) -> ChargeTotals:
    row = LocalCheckoutSession.objects.filter(payment_intent_id=payment_intent_id).first()
    if row is None or row.status != LocalCheckoutSession.Status.COMPLETE:
        return ChargeTotals(captured=0, refunded=0)
    return ChargeTotals(captured=row.amount_pence, refunded=row.refunded_pence)


def event_from_request(payload: bytes, sig_header: str | None) -> WebhookEvent:
    """The local mode takes no events over HTTP: its own events are dispatched in-process.
    (An HTTP endpoint that accepted them would let anyone confirm a booking with a made-up
    "payment".)"""
    raise InvalidEvent("The local test-payment mode accepts no webhooks over HTTP.")
