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


class GatewayUnavailable(Exception):
    """The payment provider could not be reached (or failed): try again later."""


class GatewayRefused(GatewayUnavailable):
    """The provider answered and said no (bad request, already refunded...): retrying will not help."""


class InvalidEvent(Exception):
    """A webhook whose signature, timestamp or body does not check out: answer 400, change nothing."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    amount_total: int
    payment_intent_id: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # pending | requires_action | succeeded | failed | canceled
    amount: int
    payment_intent_id: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event: our own shape, whichever gateway produced it."""

    id: str
    type: str
    object: dict  # event.data.object, as plain JSON
    created: int = 0
    payload: dict = field(default_factory=dict)


def session_from_dict(data: dict) -> CheckoutSession:
    """A Checkout Session as Stripe's JSON has it (webhook body or API answer)."""
    intent = data.get("payment_intent") or ""
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id", "")
    return CheckoutSession(
        id=data["id"],
        url=data.get("url") or "",
        status=data.get("status") or "",
        payment_status=data.get("payment_status") or "",
        amount_total=int(data.get("amount_total") or 0),
        payment_intent_id=intent,
        metadata=dict(data.get("metadata") or {}),
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
        return WebhookEvent(
            id=str(data["id"]), type=str(data["type"]), object=dict(data["data"]["object"]),
            created=int(data.get("created") or 0), payload=data,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidEvent(f"Not a Stripe event: {exc}") from exc


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
