"""The intake link for phone bookings: a signed URL that lets the patient answer
the assessment questions without a password (patients created by phone have none).

The token names only the booking; Django's signing (SECRET_KEY, its own salt)
makes it unforgeable. It works while the booking still waits for its intake and
has not started, so an old link cannot change answers the physiotherapist has read.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from .models import Booking

SALT = "booking.intake_link"


def intake_link_token(booking: Booking) -> str:
    return signing.dumps({"booking": booking.pk}, salt=SALT, compress=True)


def intake_link_url(booking: Booking) -> str:
    return settings.SITE_URL + reverse("booking:intake_link", args=[intake_link_token(booking)])


def intake_link_booking(token: str) -> Booking | None:
    """The booking a token names, or None for a forged or mangled token."""
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    pk = data.get("booking") if isinstance(data, dict) else None
    if not isinstance(pk, int):
        return None
    return Booking.objects.select_related("service", "practitioner__user", "patient").filter(pk=pk).first()


def intake_link_open(booking: Booking, *, now=None) -> bool:
    """Whether the link still takes answers: the intake is pending and the booking has not started."""
    return booking.intake_pending and booking.start > (now or timezone.now())
