"""Outcome-named refusals of data-rights requests (on the shared base, common.errors)."""

from common.errors import DomainError


class ErasureRefused(DomainError):
    code = "erasure_refused"
    status_code = 409
    default_message = "This account cannot be deleted."


class UpcomingBookings(ErasureRefused):
    code = "upcoming_bookings"
    default_message = (
        "You have an upcoming booking. Cancel it first (or ask reception), then delete your account."
    )


class StaffAccount(ErasureRefused):
    code = "staff_account"
    default_message = "Staff accounts are closed by the clinic, not from this page."


class AlreadyErased(ErasureRefused):
    code = "already_erased"
    default_message = "This account has already been deleted."
