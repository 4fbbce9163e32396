"""The first-session offer: claim, validate, reserve, attach, release, redeem.

Concurrency. booking_hold locks the practitioner row, then (offer_code_reserve)
the code row with SELECT ... FOR UPDATE, checks it, inserts the booking and
attaches it with a conditional UPDATE whose row count is checked. Confirm,
cancel and expire lock the booking first and touch the code row last, and
nothing here ever locks another booking while holding the code, so no two
actions can wait on each other in a cycle. On SQLite the IMMEDIATE transaction
serialises writers. Under all of it, reserved_by / redeemed_by are unique
(OneToOne) columns, so the database itself refuses a second reservation or
redemption.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.mailbox import verified_mailboxes
from common.actor import actor_or_none
from outbox.services import outbox_enqueue

from .exceptions import (
    OfferExpired,
    OfferNotFirstSession,
    OfferNotYours,
    OfferUnknown,
    OfferUsed,
    OfferWrongService,
    SlotLost,
)
from .models import Offer, OfferCode, mailbox_hash

# No 0/O, 1/I/L, U (reads as V): 30 symbols. 12 of them carry 12 x log2(30) = 58.9
# bits and show as three groups of four: FIRST-7KQ9-M2XD-W4HN.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "FIRST"
CODE_RANDOM_LENGTH = 12


class NoOfferRunning(OfferUnknown):
    code = "no_offer"
    default_message = "There is no offer running at the moment."


class OfferForNewPatients(OfferNotFirstSession):
    default_message = (
        "The first-session offer is for new patients, and you have already been to the clinic with us. "
        "Book your next session at the usual price."
    )


class OfferEmailUnverified(OfferNotYours):
    """The code is the patient's, but they have not yet proved they read that mailbox."""

    default_message = (
        "Confirm your email address first (we sent you a link when you signed up), then use the code."
    )


class OfferLost(SlotLost):
    """A late payment for a lapsed hold whose code has since gone to another booking.

    A SlotLost, so payments refund it automatically, as for a lost time.
    """

    code = "offer_lost"
    default_message = (
        "The offer code on this booking was used by another booking before the payment arrived."
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def normalise_code(text: str) -> str:
    """' first-7kq9 m2xd-w4hn ' -> 'FIRST7KQ9M2XDW4HN'. ASCII only: no look-alike letters from other scripts."""
    return "".join(ch for ch in (text or "").upper() if ch.isascii() and ch.isalnum())


def discount_for(price_pence: int, percent: int) -> int:
    """price x percent / 100, rounded half up to the penny (integer pence in, integer pence out)."""
    return int((Decimal(price_pence) * Decimal(percent) / Decimal(100)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def generate_code() -> str:
    # secrets, not random: codes must not be predictable from earlier ones.
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_RANDOM_LENGTH))


@dataclass(frozen=True)
class Claim:
    """What happened, for the caller's own use: pages and the API answer every claim alike
    ("we've emailed your code"), so nobody learns whether an address has claimed before."""

    code: OfferCode
    created: bool


def _existing_code(email: str, mailbox: str) -> OfferCode | None:
    """The code of this mailbox (`mailbox` is its offers.models.mailbox_hash), or an old row of the address."""
    return OfferCode.objects.filter(Q(mailbox_hash=mailbox) | Q(email=email)).select_related("offer").first()


def _code_mailbox(code: OfferCode) -> str:
    """The code's mailbox hash (old rows whose mailbox already had a code carry none: hash their address)."""
    return code.mailbox_hash or mailbox_hash(code.email)


@transaction.atomic
def offer_code_claim(*, email: str, offer: Offer | None = None, issued_by=None, patient=None,
                     now: datetime | None = None) -> Claim:
    """Issue the mailbox its one code and email it (after commit); for a mailbox that already has
    one, email that code again while it can still be used.

    Raises django.core.exceptions.ValidationError for a malformed address,
    NoOfferRunning when no campaign is active, and OfferForNewPatients when a
    signed-in `patient` has already been to the clinic.
    """
    from . import notifications

    email = normalise_email(email)
    validate_email(email)
    if patient is not None and getattr(patient, "is_authenticated", False) and has_had_first_session(patient):
        raise OfferForNewPatients()
    now = now or timezone.now()
    mailbox = mailbox_hash(email)
    existing = _existing_code(email, mailbox)
    if existing:
        if existing.state_at(now) == OfferCode.State.AVAILABLE:
            # A repeat claim sends the same code again (each claim its own outbox row).
            outbox_enqueue(task=notifications.send_offer_code, kwargs={"code_id": existing.pk},
                           key=f"offer_code:{existing.pk}:again:{now.timestamp()}")
        return Claim(code=existing, created=False)
    offer = offer or Offer.current()
    if offer is None or not offer.active:
        raise NoOfferRunning()
    for _ in range(5):
        try:
            with transaction.atomic():
                code = OfferCode.objects.create(
                    offer=offer,
                    code=generate_code(),
                    email=email,
                    mailbox_hash=mailbox,
                    issued_at=now,
                    expires_at=now + timedelta(hours=offer.validity_hours),
                    issued_by=actor_or_none(issued_by),
                )
        except IntegrityError:
            # Either the same address claimed at the same moment (return theirs)
            # or a one-in-2^58 code collision (draw again).
            existing = _existing_code(email, mailbox)
            if existing:
                return Claim(code=existing, created=False)
            continue
        outbox_enqueue(task=notifications.send_offer_code, kwargs={"code_id": code.pk}, key=f"offer_code:{code.pk}")
        return Claim(code=code, created=True)
    raise RuntimeError("could not draw a unique offer code")


# Two facts the offer's rules need live in the layers above offers: "has this patient been to
# the clinic?" reads bookings and payments, "is this hold still live?" reads bookings. The layer
# that owns each fact hands offers its answer at start-up (payments.apps / booking.apps call
# provide_facts in ready()), so offers imports neither (README, Architecture).
_been_to_clinic: Callable[[object], bool] | None = None
_hold_is_live: Callable[[int, datetime], bool] | None = None


def provide_facts(*, been_to_clinic: Callable[[object], bool] | None = None,
                  hold_is_live: Callable[[int, datetime], bool] | None = None) -> None:
    """Called by the owning apps' ready(): payments gives been_to_clinic, booking gives hold_is_live."""
    global _been_to_clinic, _hold_is_live
    if been_to_clinic is not None:
        _been_to_clinic = been_to_clinic
    if hold_is_live is not None:
        _hold_is_live = hold_is_live


def _fact(fact: Callable | None, name: str) -> Callable:
    if fact is None:
        raise RuntimeError(f"offers.services.{name} was never provided (is its app in INSTALLED_APPS?)")
    return fact


def has_had_first_session(patient) -> bool:
    """Has this patient been to the clinic? Answered by payments.services.has_had_first_session."""
    return _fact(_been_to_clinic, "been_to_clinic")(patient)


def _reserved_by_live_hold(code: OfferCode, *, now: datetime, for_booking=None) -> bool:
    """Reserved by another hold that still stands (a lapsed hold no longer counts; asked of
    booking.services.booking_hold_is_live)."""
    if code.reserved_by_id is None or code.reserved_by_id == getattr(for_booking, "pk", None):
        return False
    return _fact(_hold_is_live, "hold_is_live")(code.reserved_by_id, now)


def offer_code_check(*, code: OfferCode | None, patient, service, now: datetime, for_booking=None) -> int:
    """Refuse with the reason, or return the percent off. Reads only.

    Ownership is checked before anything else, so someone else's code tells a
    guesser nothing about its state.
    """
    if code is None:
        raise OfferUnknown()
    if mailbox_hash(getattr(patient, "email", "") or "") != _code_mailbox(code):
        raise OfferNotYours()
    if _code_mailbox(code) not in {mailbox_hash(m) for m in verified_mailboxes(patient)}:
        # Anyone can type an address into the claim form: only a confirmed inbox proves the code is theirs.
        raise OfferEmailUnverified()
    if code.redeemed_by_id is not None:
        raise OfferUsed()
    if _reserved_by_live_hold(code, now=now, for_booking=for_booking):
        raise OfferUsed("This offer code is already on another booking that is awaiting payment.")
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

    @property
    def expires_at(self) -> datetime:
        return self.code.expires_at


def _quote(code: OfferCode, percent: int, service) -> Quote:
    discount = discount_for(service.price_pence, percent)
    return Quote(code=code, percent_off=percent, discount_pence=discount, amount_due_pence=service.price_pence - discount)


def offer_code_mine(*, patient) -> OfferCode | None:
    """The code issued to one of the patient's confirmed mailboxes, if any (shown only to them)."""
    mailboxes = verified_mailboxes(patient)
    if not mailboxes:
        return None
    return OfferCode.objects.select_related("offer").filter(
        Q(mailbox_hash__in=[mailbox_hash(m) for m in mailboxes]) | Q(mailbox_hash__isnull=True, email__in=mailboxes)
    ).first()


def offer_code_validate(*, code_text: str, patient, service, now: datetime | None = None) -> Quote:
    """What the code would take off this service for this patient, or the refusal (an Offer* error)."""
    now = now or timezone.now()
    code = OfferCode.objects.select_related("offer").filter(code=normalise_code(code_text)).first()
    percent = offer_code_check(code=code, patient=patient, service=service, now=now)
    assert code is not None  # offer_code_check raised OfferUnknown for a missing code
    return _quote(code, percent, service)


def offer_code_reserve(*, code_text: str, patient, service, now: datetime) -> Quote:
    """Lock the code and check it for a hold about to be made. Call inside the hold's transaction,
    then offer_code_attach once the booking exists.

    Validity is judged now, at hold time: the quote's price stands for this
    hold even if the code's 24 hours end while the patient pays.
    """
    # The row alone, no joins: after waiting for the lock, PostgreSQL hands back
    # the latest version of this row, which a join would not bring along.
    code = OfferCode.objects.select_for_update().filter(code=normalise_code(code_text)).first()
    percent = offer_code_check(code=code, patient=patient, service=service, now=now)
    assert code is not None  # offer_code_check raised OfferUnknown for a missing code
    if code.reserved_by_id is not None:
        # Reserved by a hold that has lapsed (the check refused a live one): that
        # reservation ends now. The lapsed booking itself is left for its own
        # expiry; a late payment for it cannot redeem the code (offer_code_redeem).
        OfferCode.objects.filter(pk=code.pk, reserved_by_id=code.reserved_by_id).update(reserved_by=None)
        code.reserved_by_id = None
    return _quote(code, percent, service)


def offer_code_attach(*, code: OfferCode, booking) -> None:
    """Mark the locked, checked code reserved by the new held booking; the database has the last word."""
    attached = OfferCode.objects.filter(pk=code.pk, reserved_by__isnull=True, redeemed_by__isnull=True).update(
        reserved_by=booking
    )
    if attached != 1:
        # Never silently leave a discounted booking without its reservation:
        # the caller's transaction (booking_hold) rolls back.
        raise OfferUsed()


def offer_code_release(*, booking) -> None:
    """A hold lapsed or an unpaid booking was cancelled: the code may be used again while valid."""
    OfferCode.objects.filter(reserved_by=booking, redeemed_by__isnull=True).update(reserved_by=None)


def offer_code_redeem(*, booking, now: datetime | None = None) -> None:
    """The booking was paid: its code is spent, for good.

    Only by this booking: the code must be reserved by it, or (a late payment
    for a lapsed hold) reserved by nobody. If another booking has it meanwhile,
    raise OfferLost so the payment is refunded and the discount is never given twice.
    """
    if booking.offer_code_id is None:
        return
    from django.db.models import Q

    redeemed = (
        OfferCode.objects.filter(pk=booking.offer_code_id, redeemed_by__isnull=True)
        .filter(Q(reserved_by=booking) | Q(reserved_by__isnull=True))
        .update(redeemed_by=booking, redeemed_at=now or timezone.now(), reserved_by=None)
    )
    if redeemed != 1 and not OfferCode.objects.filter(pk=booking.offer_code_id, redeemed_by=booking).exists():
        raise OfferLost()
