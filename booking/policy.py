"""The patient's cancellation policy, asked by services, pages and emails alike.

Free cancellation with a full refund (and moving online) up to
BOOKING_FREE_CANCEL_HOURS before the start; inside that window, no refund and
no online move.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings


def free_cancellation_ends(start: datetime) -> datetime:
    return start - timedelta(hours=settings.BOOKING_FREE_CANCEL_HOURS)


def inside_policy_window(*, start: datetime, now: datetime) -> bool:
    """True when a booking starting at `start` could no longer be cancelled for a refund, or moved online, at `now`."""
    return now > free_cancellation_ends(start)
