"""What the reports count, as querysets shared by the direct totals (reports/direct.py) and the
per-day summary (reports/summary.py), so the two cannot drift apart.

"Bookings made" everywhere means every booking except holds that were never paid (held,
expired): confirmed, attended, no-show and cancelled ones. Bookings count by their start,
payments by when they were taken, refunds by when they were made, offer codes by when they were
issued (ledger.py has the payments' and refunds' side).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Q

from booking.models import Booking, BookingEvent
from offers.models import OfferCode

Ranges = list[tuple[datetime, datetime]]

MADE = (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW, Booking.Status.CANCELLED)
# Time a practitioner spent booked: the patient came, or the slot was kept for them.
OCCUPIED = (Booking.Status.CONFIRMED, Booking.Status.ATTENDED, Booking.Status.NO_SHOW)
# Where each count lives in reports.models.BookingDay and totals.BookingTotals.
SOURCE_FIELDS = {
    Booking.Source.ONLINE: "made_online",
    Booking.Source.RECEPTION: "made_reception",
    Booking.Source.WAITLIST: "made_waitlist",
}
STATUS_FIELDS = {
    Booking.Status.CONFIRMED: "confirmed",
    Booking.Status.ATTENDED: "attended",
    Booking.Status.NO_SHOW: "no_shows",
    Booking.Status.CANCELLED: "cancelled",
}


def in_ranges(field: str, ranges: Ranges) -> Q:
    """`field` in any of the [start, end) ranges."""
    q = Q()
    for start, end in ranges:
        q |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return q


def late_cancellations(ranges: Ranges):
    """Cancellation events of cancelled bookings starting in the ranges, made inside the
    free-cancellation window (BOOKING_FREE_CANCEL_HOURS before the start), whoever made them.
    From the events' side: a join over the few cancelled bookings, not a subquery per booking.
    Count distinct bookings (a booking may have two such events)."""
    window = timedelta(hours=settings.BOOKING_FREE_CANCEL_HOURS)
    return BookingEvent.objects.filter(
        in_ranges("booking__start", ranges),
        action=BookingEvent.Action.CANCELLED,
        booking__status=Booking.Status.CANCELLED,
        at__gt=F("booking__start") - window,
    )


def funnel_codes(ranges: Ranges):
    """Codes issued in the ranges, each annotated with how far it got.

    claimed -> used in a hold (any booking ever carried the code) -> paid (a paid booking
    redeemed it) -> came back (that patient has a later confirmed or attended booking: a
    follow-up). Aggregate with FUNNEL_COUNTS.
    """
    held = Booking.objects.filter(offer_code=OuterRef("pk"))
    came_back = Booking.objects.filter(
        patient=OuterRef("redeemed_by__patient"),
        start__gt=OuterRef("redeemed_by__start"),
        status__in=(Booking.Status.CONFIRMED, Booking.Status.ATTENDED),
    )
    return OfferCode.objects.filter(in_ranges("issued_at", ranges)).annotate(was_held=Exists(held),
                                                                             was_followed=Exists(came_back))


FUNNEL_COUNTS = {
    "claimed": Count("id"),
    "held": Count("id", filter=Q(was_held=True)),
    "paid": Count("id", filter=Q(redeemed_by__isnull=False)),
    "came_back": Count("id", filter=Q(redeemed_by__isnull=False, was_followed=True)),
}
