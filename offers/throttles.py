"""Rate limits for claiming and validating offer codes, shared by the pages and the API.

A fixed-window counter in Django's cache (Redis when REDIS_URL is set, else
the database cache), so the limit holds across several app processes. Rates
are the ones in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (offer_claim,
offer_validate_ip, offer_validate_user), so the page and the API count against
the same budget and the same settings.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from booking.exceptions import BookingError

CLAIM = "offer_claim"
VALIDATE_IP = "offer_validate_ip"
VALIDATE_USER = "offer_validate_user"


class RateLimited(BookingError):
    code = "throttled"
    status_code = 429
    default_message = "Too many attempts. Please wait a while and try again."

    def __init__(self, message: str | None = None, *, retry_after: int):
        self.retry_after = retry_after
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            message or f"Too many attempts from here. Please try again in {minutes} minute{'s' if minutes != 1 else ''}.",
            retry_after=retry_after,
        )


def _rate(scope: str) -> tuple[int, int]:
    """'10/hour' -> (10, 3600), parsed as DRF parses it."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]
    return SimpleRateThrottle.parse_rate(None, rate)


def rate_limit_hit(*, scope: str, ident: str) -> None:
    """Count one attempt; raise RateLimited if this one is over the scope's limit."""
    allowed, period = _rate(scope)
    now = int(time.time())
    window = now // period
    key = f"offers:throttle:{scope}:{ident}:{window}"
    # add() then incr(): both atomic on Redis, so concurrent processes never lose a count.
    cache.add(key, 0, timeout=period + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=period + 60)
        count = 1
    if count > allowed:
        raise RateLimited(retry_after=(window + 1) * period - now)


def client_ip(request) -> str:
    """The client's address as DRF sees it (honours REST_FRAMEWORK NUM_PROXIES behind a proxy)."""
    return BaseThrottle().get_ident(request)


def throttle_claim(request) -> None:
    rate_limit_hit(scope=CLAIM, ident=client_ip(request))


def throttle_validate(request) -> None:
    """Per IP, and per account when logged in: guessing from many addresses or many accounts both stop."""
    rate_limit_hit(scope=VALIDATE_IP, ident=client_ip(request))
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        rate_limit_hit(scope=VALIDATE_USER, ident=str(user.pk))


def offer_code_validate_for_request(request, *, code_text: str, service):
    """For the booking review page: throttle, then offers.services.offer_code_validate.

    Raises RateLimited (429) or an Offer* refusal; both are BookingErrors, so the
    page shows their .message beside the code field.
    """
    from .services import offer_code_validate

    throttle_validate(request)
    return offer_code_validate(code_text=code_text, patient=request.user, service=service)


class _SharedThrottle(BaseThrottle):
    """DRF throttle on the same counters as the pages (optional for the API views)."""

    scope = ""

    def ident(self, request) -> str | None:
        return client_ip(request)

    def allow_request(self, request, view) -> bool:
        ident = self.ident(request)
        if ident is None:
            return True
        try:
            rate_limit_hit(scope=self.scope, ident=ident)
        except RateLimited as limited:
            self._wait = limited.retry_after
            return False
        return True

    def wait(self):
        return getattr(self, "_wait", None)


class OfferClaimThrottle(_SharedThrottle):
    scope = CLAIM


class OfferValidateIPThrottle(_SharedThrottle):
    scope = VALIDATE_IP


class OfferValidateUserThrottle(_SharedThrottle):
    scope = VALIDATE_USER

    def ident(self, request) -> str | None:
        return str(request.user.pk) if request.user and request.user.is_authenticated else None
