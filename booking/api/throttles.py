"""Throttles whose counters live in the shared cache, so a limit holds across app processes.

DRF's own SimpleRateThrottle keeps a list of timestamps and writes it back
(read, modify, write): two gunicorn workers answering at the same moment can
each read the old list and one of the two requests goes uncounted. These
count with cache.add + cache.incr instead, which Redis does atomically, so
concurrent requests in different processes are each counted once. (Django's
database cache implements incr as read-then-write; it is the fallback when
REDIS_URL is unset and is exact only for requests that do not overlap.)

Windows are fixed (e.g. the current clock hour for "10/hour"): simple, cheap,
and at most 2x the rate across a window boundary. Rates are read from
settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope] on every request, so
they are configurable per environment (THROTTLE_* variables) and in tests.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

# Offer claim and validate count on offers.throttles' counters, which the booking
# pages use too: one budget per address and account whichever door is used.
from offers.throttles import OfferClaimThrottle, OfferValidateIPThrottle, OfferValidateUserThrottle  # noqa: F401

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """'10/hour' -> (10, 3600); None or '' -> None (no limit)."""
    if not rate:
        return None
    num, period = rate.split("/")
    return int(num), _PERIODS[period.strip()[0].lower()]


class SharedCacheThrottle(BaseThrottle):
    scope: str = ""

    def get_rate(self) -> tuple[int, int] | None:
        rates = settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        return parse_rate(rates.get(self.scope))

    def get_ident_key(self, request, view) -> str | None:
        """Who is counted; None means this throttle does not apply to the request."""
        return f"ip:{self.get_ident(request)}"

    def allow_request(self, request, view) -> bool:
        rate = self.get_rate()
        ident = self.get_ident_key(request, view)
        if rate is None or ident is None:
            return True
        self.num, self.period = rate
        now = time.time()
        window = int(now // self.period)
        self.window_end = (window + 1) * self.period
        self.now = now
        key = f"throttle:{self.scope}:{ident}:{self.period}:{window}"
        # add() is a no-op if the key exists; incr() is atomic on Redis.
        cache.add(key, 0, timeout=self.period + 5)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: start the window again
            cache.add(key, 1, timeout=self.period + 5)
            count = 1
        return count <= self.num

    def wait(self) -> float | None:
        return max(0.0, getattr(self, "window_end", 0) - getattr(self, "now", 0)) or None


class BookingCreateThrottle(SharedCacheThrottle):
    """Per account: holds block real slots, so one account cannot hold the whole diary."""

    scope = "booking_create"

    def get_ident_key(self, request, view):
        user = request.user
        return f"user:{user.pk}" if user and user.is_authenticated else f"ip:{self.get_ident(request)}"
