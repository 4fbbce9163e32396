"""Outcome-named errors. Each carries a stable `code` (the API's) and a human message.

The API's exception handler and the pages' form helper both read these, so a
page and the API can never disagree about why something was refused.
"""



from common.errors import DomainError
from offers.exceptions import (  # noqa: F401  (booking's callers and tests know them by this home too)
    OfferExpired,
    OfferNotFirstSession,
    OfferNotYours,
    OfferRefused,
    OfferUnknown,
    OfferUsed,
    OfferWrongService,
    SlotLost,
)


# Booking's name for the shared base (common.errors): catching BookingError catches every app's
# outcome-named error, as before the base moved to the leaf.
BookingError = DomainError


class InvalidSlot(BookingError):
    code = "invalid_start"
    default_message = "That start time cannot be booked."


class UnknownService(BookingError):
    code = "unknown_service"
    default_message = "There is no such service."


class UnknownPractitioner(BookingError):
    code = "unknown_practitioner"
    default_message = "There is no such practitioner for that service."


class ServiceNotBookable(BookingError):
    code = "service_not_bookable"
    default_message = "That service cannot be booked online."


class SlotTaken(BookingError):
    code = "slot_taken"
    status_code = 409
    default_message = "Sorry, that time was just taken. Here are the nearest free times."

    def __init__(self, message: str | None = None, *, alternatives=()):
        self.alternatives = list(alternatives)
        super().__init__(message)

    def as_dict(self) -> dict:
        return {
            **super().as_dict(),
            "alternatives": [slot.as_dict() for slot in self.alternatives],
        }


class TooManyHolds(BookingError):
    """A patient may keep only a few unpaid holds at once: holds block real slots in the diary."""

    code = "too_many_holds"
    status_code = 409

    def __init__(self, *, limit: int):
        super().__init__(
            f"You already have {limit} bookings waiting for payment. Pay for one or let it lapse "
            "(see My bookings) before holding another time.",
            limit=limit,
        )


class IntakeRequired(BookingError):
    code = "intake_required"
    default_message = "Please answer the assessment questions before booking."


class InvalidIntake(BookingError):
    code = "invalid_intake"
    default_message = "Some assessment answers are missing or invalid."


class UrgentCareNeeded(BookingError):
    code = "urgent_care"
    status_code = 422
    # NHS advice for suspected cauda equina syndrome: A&E now or 999; 111 only if unsure.
    default_message = (
        "Your answers can be signs of cauda equina syndrome, which needs to be seen in hospital today, not at a "
        "physiotherapy appointment. Go to A&E now or call 999. If you are not sure, call NHS 111. "
        "No booking has been made and you have not been charged."
    )


class NotCancellable(BookingError):
    code = "not_cancellable"
    status_code = 409
    default_message = "This booking can no longer be cancelled."


class NotReschedulable(BookingError):
    code = "not_reschedulable"
    status_code = 409
    default_message = "This booking can no longer be moved."


class InsidePolicyWindow(BookingError):
    code = "policy_window"
    status_code = 409
    default_message = "Bookings cannot be moved online less than 24 hours before they start. Please call the clinic."


class InvalidStatusChange(BookingError):
    code = "invalid_status"
    status_code = 409
    default_message = "That change does not apply to this booking's status."


class RefundTooLarge(BookingError):
    code = "refund_too_large"
    default_message = "A refund cannot be more than what was paid and not yet refunded."


class NothingToPay(BookingError):
    code = "nothing_to_pay"
    status_code = 409
    default_message = "Nothing is due for this booking: it has been paid."


class InvalidPaymentMethod(BookingError):
    code = "invalid_payment_method"
    default_message = "Take payment on the card terminal or in cash."
