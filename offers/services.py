"""The first-session offer: claim, validate, reserve, redeem, release.

Lock order (shared with booking.services): practitioner row, then offer code,
then booking. The code row is locked with SELECT ... FOR UPDATE on PostgreSQL;
on SQLite the IMMEDIATE transaction already serialises writers. The OneToOne
columns reserved_by / redeemed_by are unique, so the database refuses a second
reservation or redemption whatever happens above it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from booking.exceptions import (
    OfferExpired,
    OfferNotFirstSession,
    OfferNotYours,
    OfferUnknown,
    OfferUsed,
    OfferWrongService,
)

from .models import Offer, OfferCode

# No 0/O, 1/I/L, U (reads as V): 30 symbols, 8 of them give ~39.3 bits, so use 10 (49 bits).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "FIRST"
CODE_RANDOM_LENGTH = 10


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_code(text: str) -> str:
    """'first-7kq9-m2xd ' -> 'FIRST7KQ9M2XD'"""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def discount_for(price_pence: int, percent: int) -> int:
    """price x percent / 100, rounded half up to the penny."""
    return int((Decimal(price_pence) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def generate_code() -> str:
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_RANDOM_LENGTH))


@dataclass(frozen=True)
class Claim:
    code: OfferCode
    created: bool


@transaction.atomic
def offer_code_claim(*, email: str, offer: Offer | None = None, issued_by=None, now: datetime | None = None) -> Claim:
    """Issue the address its one code, or return the one it already has."""
    email = normalise_email(email)
    existing = OfferCode.objects.filter(email=email).select_related("offer").first()
    if existing:
        return Claim(code=existing, created=False)
    offer = offer or Offer.current()
    if offer is None:
        raise OfferUnknown("There is no offer running at the moment.")
    now = now or timezone.now()
    for _ in range(5):
        try:
            with transaction.atomic():
                code = OfferCode.objects.create(
                    offer=offer,
                    code=generate_code(),
                    email=email,
                    issued_at=now,
                    expires_at=now + timedelta(hours=offer.validity_hours),
                    issued_by=issued_by,
                )
            return Claim(code=code, created=True)
        except IntegrityError:
            # Either the same address claimed at the same moment (return theirs)
            # or a one-in-2^49 code collision (draw again).
            existing = OfferCode.objects.filter(email=email).first()
            if existing:
                return Claim(code=existing, created=False)
    raise RuntimeError("could not draw a unique offer code")


def has_had_first_session(patient) -> bool:
    """A paid, attended or no-show booking counts; a cancelled unpaid one does not."""
    from booking.models import Booking
    from payments.models import Payment

    return (
        Booking.objects.filter(patient=patient)
        .filter(
            status__in=[Booking.Status.ATTENDED, Booking.Status.NO_SHOW, Booking.Status.CONFIRMED]
        )
        .exists()
        or Payment.objects.filter(booking__patient=patient, status__in=Payment.PAID_STATUSES).exists()
    )


def _active_reservation(code: OfferCode, now: datetime) -> bool:
    """Reserved by a hold that still stands (a lapsed hold no longer counts)."""
    booking = code.reserved_by
    return booking is not None and booking.is_blocking(now)


def offer_code_check(
    *, code: OfferCode | None, patient, service, now: datetime, for_booking=None
) -> int:
    """Refuse with the reason, or return the percent off. Reads only."""
    if code is None:
        raise OfferUnknown()
    if code.redeemed_by_id is not None:
        raise OfferUsed()
    if code.reserved_by_id is not None and code.reserved_by_id != getattr(for_booking, "pk", None):
        if _active_reservation(code, now):
            raise OfferUsed("This offer code is already being used by a booking that is awaiting payment.")
    if normalise_email(patient.email) != code.email:
        raise OfferNotYours()
    if code.is_expired(now):
        raise OfferExpired(expired_at=code.expires_at)
    if not service.is_first_session or not code.offer.services.filter(pk=service.pk).exists():
        raise OfferWrongService()
    if has_had_first_session(patient):
        raise OfferNotFirstSession()
    return code.offer.percent_off


@dataclass(frozen=True)
class Quote:
    code: OfferCode
    percent_off: int
    discount_pence: int
    amount_due_pence: int


def offer_code_validate(*, code_text: str, patient, service, now: datetime | None = None) -> Quote:
    """What the code would take off this service for this patient, or the refusal."""
    now = now or timezone.now()
    code = (
        OfferCode.objects.select_related("offer", "reserved_by").filter(code=normalise_code(code_text)).first()
    )
    percent = offer_code_check(code=code, patient=patient, service=service, now=now)
    discount = discount_for(service.price_pence, percent)
    return Quote(code=code, percent_off=percent, discount_pence=discount, amount_due_pence=service.price_pence - discount)


def offer_code_reserve(*, code_text: str, patient, service, now: datetime) -> Quote:
    """Lock the code and check it for a hold about to be made. Call inside the hold's transaction.

    The caller attaches the booking with offer_code_attach once it exists.
    """
    code = (
        OfferCode.objects.select_for_update(of=("self",))
        .select_related("offer", "reserved_by")
        .filter(code=normalise_code(code_text))
        .first()
    )
    percent = offer_code_check(code=code, patient=patient, service=service, now=now)
    if code.reserved_by_id is not None:
        # The previous hold lapsed: its reservation goes before this one.
        offer_code_release(booking=code.reserved_by)
        code.refresh_from_db()
    discount = discount_for(service.price_pence, percent)
    return Quote(code=code, percent_off=percent, discount_pence=discount, amount_due_pence=service.price_pence - discount)


def offer_code_attach(*, code: OfferCode, booking) -> None:
    OfferCode.objects.filter(pk=code.pk, reserved_by__isnull=True, redeemed_by__isnull=True).update(
        reserved_by=booking
    )


def offer_code_release(*, booking) -> None:
    """A hold lapsed or an unpaid booking was cancelled: the code may be used again while valid."""
    OfferCode.objects.filter(reserved_by=booking, redeemed_by__isnull=True).update(reserved_by=None)


def offer_code_redeem(*, booking, now: datetime | None = None) -> None:
    """The booking was paid: its code is spent, for good."""
    if booking.offer_code_id is None:
        return
    OfferCode.objects.filter(pk=booking.offer_code_id, redeemed_by__isnull=True).update(
        redeemed_by=booking, redeemed_at=now or timezone.now(), reserved_by=None
    )
