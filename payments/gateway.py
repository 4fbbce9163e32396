"""Our side of the payment boundary: small dataclasses, and which implementation runs.

Two implementations of the same functions: payments.stripe_gateway (real
Stripe, the only module that imports stripe) and payments.local_gateway (the
local test-payment mode, used whenever STRIPE_SECRET_KEY is unset).
Tests swap the gateway with `use_gateway`, never patch stripe itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType

from django.conf import settings


class GatewayUnavailable(Exception):
    """The payment provider could not be reached or refused the request."""


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
    status: str  # pending | succeeded | failed
    amount: int


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
