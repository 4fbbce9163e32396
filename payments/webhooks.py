"""Provider events: store each event id once and apply it in the same transaction.

Used by the Stripe webhook view and, with events it builds itself, by the
local test-payment mode, so both modes run literally the same code. An event
about a payment intent we do not know yet is kept (`waiting_for`) and applied
when that payment appears. A malformed event raises gateway.InvalidEvent
inside the transaction: nothing is stored, the view answers 400.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from . import gateway, services
from .models import Payment, StripeEvent

log = logging.getLogger(__name__)


def _completed(event: gateway.WebhookEvent, prepared) -> None:
    services.payment_checkout_completed(session=gateway.session_from_dict(event.object))


def _failed(event: gateway.WebhookEvent, prepared) -> None:
    session = gateway.session_from_dict(event.object)
    services.payment_checkout_failed(session_id=session.id, reason="The bank payment failed after checkout.")


def _expired(event: gateway.WebhookEvent, prepared) -> None:
    services.payment_checkout_expired(session_id=gateway.session_from_dict(event.object).id)


def _charge(event: gateway.WebhookEvent) -> tuple[str, int]:
    intent = gateway.payment_intent_id_of(event.object)
    return intent, gateway._pence(event.object, "amount_refunded")


def _charge_refunded_prepare(event: gateway.WebhookEvent):
    """Before the transaction (no locks held): when Stripe's total is ahead of our rows, fetch
    Stripe's refund list (charge.refunded no longer embeds it). Unreachable: reconcile does it."""
    intent, amount_refunded = _charge(event)
    payment = Payment.objects.filter(payment_intent_id=intent).first() if intent else None
    if payment is None or amount_refunded <= payment.provider_accepted_refund_pence:
        return []
    try:
        return gateway.current().refund_list(intent)
    except gateway.GatewayError:
        log.warning("could not list refunds of %s; reconcile_payments will", intent)
        return []


def _charge_refunded(event: gateway.WebhookEvent, prepared) -> str:
    intent, amount_refunded = _charge(event)
    if not services.payment_known(payment_intent_id=intent):
        return intent
    services.payment_charge_refunded(payment_intent_id=intent, amount_refunded=amount_refunded, refunds=prepared or [])
    return ""


def _refund(event: gateway.WebhookEvent, prepared) -> str:
    result = gateway.refund_from_dict(event.object)
    if not services.payment_known(payment_intent_id=result.payment_intent_id) and not services.refund_known(
        stripe_refund_id=result.id
    ):
        return result.payment_intent_id
    services.refund_record_from_provider(result=result)
    return ""


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
PREPARE = {"charge.refunded": _charge_refunded_prepare}


def dispatch(event: gateway.WebhookEvent) -> bool:
    """Apply an event once. True if applied now, False if it had been seen before.

    The event row is inserted first: a concurrent delivery of the same id waits
    on the unique index and then fails, so exactly one applies it. The row and
    the effect commit together; if the effect fails, both roll back and the
    provider's retry applies it. Raises gateway.InvalidEvent (nothing stored)
    for an event whose object is not what Stripe sends.
    """
    prepare = PREPARE.get(event.type)
    prepared = prepare(event) if prepare is not None else None
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = StripeEvent.objects.create(event_id=event.id, type=event.type, payload=event.payload)
        except IntegrityError:
            return False
        handler = HANDLERS.get(event.type)
        if handler is not None:
            waiting_for = handler(event, prepared)
            if waiting_for:
                log.info("event %s waits for payment intent %s", event.id, waiting_for)
                row.waiting_for = waiting_for
                row.save(update_fields=["waiting_for"])
        else:
            log.info("event %s of type %s ignored", event.id, event.type)
    return True
