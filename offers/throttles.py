"""Rate limits for claiming and validating offer codes, shared by the pages and the API.

Counted by config.throttling in the shared cache (Redis when REDIS_URL is set,
else the database cache), so the limit holds across several app processes. Rates
are the ones in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (offer_claim,
offer_validate_ip, offer_validate_user), so the page and the API count against
the same budget and the same settings.
"""

from __future__ import annotations

from config.throttling import RateLimited, SharedThrottle, client_ip, rate_limit_hit

CLAIM = "offer_claim"
VALIDATE_IP = "offer_validate_ip"
VALIDATE_USER = "offer_validate_user"

__all__ = ["RateLimited", "rate_limit_hit", "throttle_claim", "throttle_validate", "offer_code_validate_for_request",
           "OfferClaimThrottle", "OfferValidateIPThrottle", "OfferValidateUserThrottle"]


def throttle_claim(request) -> None:
    rate_limit_hit(scope=CLAIM, ident=client_ip(request))


def throttle_validate(request) -> None:
    """Per IP, and per account when logged in: guessing from many addresses or many accounts both stop."""
    rate_limit_hit(scope=VALIDATE_IP, ident=client_ip(request), fail_closed=True)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        rate_limit_hit(scope=VALIDATE_USER, ident=str(user.pk), fail_closed=True)


def offer_code_validate_for_request(request, *, code_text: str, service):
    """For the booking review page: throttle, then offers.services.offer_code_validate.

    Raises RateLimited (429) or an Offer* refusal; both are DomainErrors, so the
    page shows their .message beside the code field.
    """
    from .services import offer_code_validate

    throttle_validate(request)
    return offer_code_validate(code_text=code_text, patient=request.user, service=service)


class OfferClaimThrottle(SharedThrottle):
    scope = CLAIM


class OfferValidateIPThrottle(SharedThrottle):
    scope = VALIDATE_IP
    fail_closed = True


class OfferValidateUserThrottle(SharedThrottle):
    scope = VALIDATE_USER
    fail_closed = True

    def ident(self, request) -> str | None:
        return str(request.user.pk) if request.user and request.user.is_authenticated else None
