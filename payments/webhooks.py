"""Provider events: store each event id once and apply it in the same transaction.

Used by the Stripe webhook view and, with events it builds itself, by the
local test-payment mode, so both modes run literally the same code.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from . import gateway, services
from .models import StripeEvent

log = logging.getLogger(__name__)


def _refund_result(data: dict) -> gateway.RefundResult:
    intent = data.get("payment_intent") or ""
    return gateway.RefundResult(
        id=data["id"], status=data.get("status") or "pending", amount=int(data.get("amount") or 0),
        payment_intent_id=intent if isinstance(intent, str) else intent.get("id", ""),
    )


def _completed(event: gateway.WebhookEvent) -> None:
    services.payment_checkout_completed(session=gateway.session_from_dict(event.object))


def _failed(event: gateway.WebhookEvent) -> None:
    services.payment_checkout_failed(session_id=event.object["id"], reason="The bank payment failed after checkout.")


def _expired(event: gateway.WebhookEvent) -> None:
    services.payment_checkout_expired(session_id=event.object["id"])


def _charge_refunded(event: gateway.WebhookEvent) -> None:
    charge = event.object
    intent = charge.get("payment_intent") or ""
    listed = (charge.get("refunds") or {}).get("data") or []
    services.payment_charge_refunded(
        payment_intent_id=intent if isinstance(intent, str) else intent.get("id", ""),
        amount_refunded=int(charge.get("amount_refunded") or 0),
        refunds=[_refund_result(r) for r in listed],
    )


def _refund(event: gateway.WebhookEvent) -> None:
    services.refund_record_from_provider(result=_refund_result(event.object))


HANDLERS = {
    "checkout.session.completed": _completed,
    "checkout.session.async_payment_succeeded": _completed,
    "checkout.session.async_payment_failed": _failed,
    "checkout.session.expired": _expired,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund,
}


def dispatch(event: gateway.WebhookEvent) -> bool:
    """Apply an event once. True if applied now, False if it had been seen before.

    The event row is inserted first: a concurrent delivery of the same id waits
    on the unique index and then fails, so exactly one applies it. The row and
    the effect commit together; if the effect fails, both roll back and the
    provider's retry applies it.
    """
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event.id, type=event.type, payload=event.payload)
        except IntegrityError:
            return False
        handler = HANDLERS.get(event.type)
        if handler is not None:
            handler(event)
        else:
            log.info("event %s of type %s ignored", event.id, event.type)
    return True
