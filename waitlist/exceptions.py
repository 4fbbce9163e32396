from common.errors import DomainError


class InvalidWindow(DomainError):
    code = "invalid_window"
    default_message = "Choose dates from today up to the booking horizon, the last on or after the first."


class OfferGone(DomainError):
    code = "offer_gone"
    status_code = 409
    default_message = "Sorry, that time has been taken. You are still on the waitlist."


class NotWaiting(DomainError):
    code = "not_waiting"
    status_code = 409
    default_message = "This waitlist entry is no longer waiting."
