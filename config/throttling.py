"""Rate limits whose counters live in the shared cache, for pages and API alike.

A fixed window (e.g. the current clock hour for "10/hour") counted with
cache.add + cache.incr, which Redis does atomically, so concurrent requests in
different app processes are each counted once. (DRF's SimpleRateThrottle reads,
modifies and writes a list: two workers at the same moment can lose a count.
Django's database cache implements incr as read-then-write; it is the fallback
when REDIS_URL is unset and is exact only for requests that do not overlap.)
At most 2x the rate can get through across a window boundary.

Rates come from settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]
("N/second|minute|hour|day"; empty = no limit), read on every call so they are
configurable per environment (THROTTLE_* variables) and in tests.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from common.errors import DomainError

from .cache import CacheUnavailable

log = logging.getLogger(__name__)


class RateLimited(DomainError):
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


class RateLimitUnavailable(DomainError):
    """The counters could not be read, and this limit fails closed (offer-code guessing)."""

    code = "temporarily_unavailable"
    status_code = 503
    default_message = "This check is unavailable for a moment. Please try again in a minute."


def _rate(scope: str) -> tuple[int, int] | None:
    """'10/hour' -> (10, 3600), parsed as DRF parses it; '' -> None (no limit)."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(scope)
    return SimpleRateThrottle.parse_rate(None, rate) if rate else None


def rate_limit_hit(*, scope: str, ident: str, fail_closed: bool = False) -> None:
    """Count one attempt; raise RateLimited if this one is over the scope's limit.

    If the shared cache (Redis) is down the attempt cannot be counted: let it
    through with a warning (fail open), or, with fail_closed, refuse it with
    RateLimitUnavailable (503): offer-code validation, where an unlimited
    guesser would be worse than a minute's wait."""
    rate = _rate(scope)
    if rate is None:
        return
    allowed, period = rate
    now = int(time.time())
    window = now // period
    key = f"throttle:{scope}:{ident}:{window}"
    try:
        cache.add(key, 0, timeout=period + 60)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr (or never added: cache down)
            cache.set(key, 1, timeout=period + 60)
            count = 1
    except (CacheUnavailable, ValueError) as exc:
        if fail_closed:
            log.warning("rate limit %s unavailable (%s): refusing (fails closed)", scope, exc)
            raise RateLimitUnavailable() from exc
        log.warning("rate limit %s unavailable (%s): letting the request through", scope, exc)
        return
    if count > allowed:
        raise RateLimited(retry_after=(window + 1) * period - now)


def client_ip(request) -> str:
    """The client's address: the one place every limit of ours reads it from.

    settings.TRUSTED_PROXY_COUNT reverse proxies stand in front of the app (0 =
    none: REMOTE_ADDR, whatever X-Forwarded-For says, since a client can send
    that header itself). Each trusted proxy appends the address it saw, so the
    client is the entry that many places from the right; anything to its left
    was sent by the client and is ignored. The same count is given to DRF
    (NUM_PROXIES) and allauth (ALLAUTH_TRUSTED_PROXY_COUNT), which pick the same entry.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        candidate = hops[-min(count, len(hops))]
        if candidate:
            return candidate[:64]
    return request.META.get("REMOTE_ADDR", "")


class SharedThrottle(BaseThrottle):
    """A DRF throttle on rate_limit_hit's counters: per IP unless `ident` says otherwise."""

    scope = ""
    fail_closed = False

    def ident(self, request) -> str | None:
        """Who is counted; None means this throttle does not apply to the request."""
        return client_ip(request)

    def allow_request(self, request, view) -> bool:
        ident = self.ident(request)
        if ident is None:
            return True
        try:
            rate_limit_hit(scope=self.scope, ident=ident, fail_closed=self.fail_closed)
        except RateLimited as limited:
            self._wait = limited.retry_after
            return False
        return True

    def wait(self):
        return getattr(self, "_wait", None)
