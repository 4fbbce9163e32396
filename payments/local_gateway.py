"""The local test-payment mode: the gateway's functions without Stripe.

A clearly labelled page stands in for Stripe's hosted Checkout; its Pay and
Cancel buttons drive the same service functions the Stripe webhook does.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.urls import reverse

from .gateway import CheckoutRequest, CheckoutSession, RefundResult
from .models import LocalCheckoutSession


def _as_session(row: LocalCheckoutSession) -> CheckoutSession:
    return CheckoutSession(
        id=row.session_id,
        url=settings.SITE_URL + reverse("payments:local_checkout", args=[row.session_id]),
        status=row.status,
        payment_status=row.payment_status,
        amount_total=row.amount_pence,
        payment_intent_id=row.payment_intent_id,
        metadata=row.metadata,
    )


def checkout_session_create(request: CheckoutRequest) -> CheckoutSession:
    row = LocalCheckoutSession.objects.create(
        session_id="cs_local_" + secrets.token_hex(12),
        amount_pence=request.amount_pence,
        currency=request.currency,
        description=request.description,
        customer_email=request.customer_email,
        metadata={"booking_id": str(request.booking_id), "offer_code": request.offer_code},
        expires_at=request.expires_at,
        success_url=request.success_url,
        cancel_url=request.cancel_url,
    )
    return _as_session(row)


def checkout_session_get(session_id: str) -> CheckoutSession:
    return _as_session(LocalCheckoutSession.objects.get(session_id=session_id))


def checkout_session_expire(session_id: str) -> None:
    LocalCheckoutSession.objects.filter(session_id=session_id, status=LocalCheckoutSession.Status.OPEN).update(
        status=LocalCheckoutSession.Status.EXPIRED
    )


def checkout_session_pay(session_id: str) -> CheckoutSession:
    """The test page's Pay button: what a card payment at Stripe would do."""
    LocalCheckoutSession.objects.filter(session_id=session_id, status=LocalCheckoutSession.Status.OPEN).update(
        status=LocalCheckoutSession.Status.COMPLETE,
        payment_status="paid",
        payment_intent_id="pi_local_" + secrets.token_hex(12),
    )
    return checkout_session_get(session_id)


def refund_create(*, payment_intent_id: str, amount_pence: int, idempotency_key: str) -> RefundResult:
    return RefundResult(id="re_local_" + secrets.token_hex(12), status="succeeded", amount=amount_pence)
