"""Our side of the payment boundary: small dataclasses, and which implementation runs.

Two implementations of the same functions: payments.stripe_gateway (real
Stripe, the only module that imports stripe) and payments.local_gateway (the
local test-payment mode, used whenever STRIPE_SECRET_KEY is unset).
Tests swap the gateway with `use_gateway`, never patch stripe itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType

from django.conf import settings


class GatewayError(Exception):
    """The provider did not do what we asked (either of the two below)."""


class GatewayUnavailable(GatewayError):
    """The payment provider could not be reached (or failed): try again later."""


class GatewayRefused(GatewayError):
    """The provider answered and said no (bad request, no such object, already refunded...):
    retrying the same call will not help. Not an outage."""


class InvalidEvent(Exception):
    """A webhook whose signature, timestamp or body does not check out: answer 400, change nothing."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int
    currency: str = "gbp"
    payment_intent_id: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # pending | requires_action | succeeded | failed | canceled
    amount: int
    payment_intent_id: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChargeTotals:
    """What the provider holds for one payment intent: captured and refunded, in pence."""

    captured: int
    refunded: int


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event: our own shape, whichever gateway produced it."""

    id: str
    type: str
    object: dict  # event.data.object, as plain JSON
    created: int = 0
    payload: dict = field(default_factory=dict)


def _text(data: dict, key: str, *, required: bool = False, max_length: int = 255) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"{key} is missing")
        return ""
    if isinstance(value, dict) and "id" in value:  # an expanded object
        value = value["id"]
    if not isinstance(value, str) or len(value) > max_length:
        raise InvalidEvent(f"{key} is not a string of at most {max_length} characters")
    return value


def _pence(data: dict, key: str) -> int:
    value = data.get(key)
    if value is None:
        return 0
    # bool is an int in Python; Stripe never sends one for an amount.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
        raise InvalidEvent(f"{key} is not an amount in pence")
    return value


def _metadata(data: dict) -> dict:
    value = data.get("metadata") or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidEvent("metadata is not a map of strings")
    return dict(value)


def session_from_dict(data: dict) -> CheckoutSession:
    """A Checkout Session as Stripe's JSON has it (webhook body or API answer). Raises InvalidEvent
    on anything Stripe would never send, so a malformed signed event changes nothing."""
    if not isinstance(data, dict):
        raise InvalidEvent("not an object")
    return CheckoutSession(
        id=_text(data, "id", required=True),
        url=_text(data, "url", max_length=2000),
        status=_text(data, "status", max_length=32),
        payment_status=_text(data, "payment_status", max_length=32),
        amount_total=_pence(data, "amount_total"),
        currency=_text(data, "currency", max_length=3).lower(),
        payment_intent_id=payment_intent_id_of(data),
        metadata=_metadata(data),
    )


def payment_intent_id_of(data) -> str:
    """The payment intent's id in a Stripe object (session, refund, charge), or ""."""
    return _text(data, "payment_intent")


def refund_from_dict(data: dict) -> RefundResult:
    """A Refund as Stripe's JSON has it (refund.* event body or API answer)."""
    if not isinstance(data, dict):
        raise InvalidEvent("not an object")
    return RefundResult(
        id=_text(data, "id", required=True),
        status=_text(data, "status", max_length=32) or "pending",
        amount=_pence(data, "amount"),
        payment_intent_id=payment_intent_id_of(data),
        metadata=_metadata(data),
    )


@dataclass(frozen=True)
class CheckoutRequest:
    amount_pence: int
    currency: str
    description: str
    customer_email: str
    booking_id: int
    offer_code: str
    expires_at: datetime
    success_url: str
    cancel_url: str
    idempotency_key: str


def event_from_json(payload: bytes | str) -> WebhookEvent:
    """Parse an event body (already verified, or built by the local mode)."""
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise InvalidEvent(f"Not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        raise InvalidEvent("Not a Stripe event")
    obj = data["data"].get("object")
    created = data.get("created") or 0
    if not isinstance(obj, dict) or isinstance(created, bool) or not isinstance(created, int):
        raise InvalidEvent("Not a Stripe event")
    # The limits are our columns' (StripeEvent.event_id 255, type 100): longer is not Stripe's.
    return WebhookEvent(
        id=_text(data, "id", required=True), type=_text(data, "type", required=True, max_length=100),
        object=obj, created=created, payload=data,
    )


_override: ModuleType | None = None


def current() -> ModuleType:
    if _override is not None:
        return _override
    if settings.STRIPE_SECRET_KEY:
        from . import stripe_gateway

        return stripe_gateway
    from . import local_gateway

    return local_gateway


def is_local_mode() -> bool:
    return current().__name__.endswith("local_gateway")


def use_gateway(module: ModuleType | None) -> None:
    """Swap the implementation (tests); None restores the choice from settings."""
    global _override
    _override = module
