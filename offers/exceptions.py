"""The offer code's refusals, and SlotLost (a payment for a time, or an offer, given away meanwhile)."""

from datetime import datetime

from common.clock import london_clock

from common.errors import DomainError


class SlotLost(DomainError):
    """A payment arrived for a booking whose slot was given to someone else meanwhile."""

    code = "slot_lost"
    status_code = 409
    default_message = "The time for this booking was lost before payment arrived."


# The first-session offer refusals (design.md): unknown, expired, used, not_yours,
# not_first_session, wrong_service.
class OfferRefused(DomainError):
    code = "offer_refused"


class OfferUnknown(OfferRefused):
    code = "unknown"
    default_message = "We don't recognise that offer code. Check it and try again."


class OfferExpired(OfferRefused):
    code = "expired"

    def __init__(self, *, expired_at: datetime):
                super().__init__(
            f"This offer code expired on {london_clock(expired_at, '%-d %B %Y at %H:%M')} (London time).",
            expired_at=expired_at.isoformat(),
        )


class OfferUsed(OfferRefused):
    code = "used"
    default_message = "This offer code has already been used."


class OfferNotYours(OfferRefused):
    code = "not_yours"
    default_message = "This offer code was issued to a different email address."


class OfferNotFirstSession(OfferRefused):
    code = "not_first_session"
    default_message = "The offer is for your first session only, and you have booked with us before."


class OfferWrongService(OfferRefused):
    code = "wrong_service"
    default_message = "The offer code only applies to a first assessment session."
