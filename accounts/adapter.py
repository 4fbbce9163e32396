"""allauth hooks: after signing in (or confirming an email) mid-booking, go back to the booking;
otherwise staff land on the desk and patients on their bookings."""

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .roles import is_staff_member

BOOKING_DRAFT = "booking_draft"  # booking.views.DRAFT


class AccountAdapter(DefaultAccountAdapter):
    def _booking_in_progress(self, request) -> str | None:
        if request.session.get(BOOKING_DRAFT):
            return reverse("booking:book_review")
        return None

    def get_login_redirect_url(self, request):
        # allauth prefers an explicit ?next=; this covers logins that lost it
        # (e.g. after confirming the email address in mandatory-verification mode).
        return self._booking_in_progress(request) or home_url(request.user)

    def get_signup_redirect_url(self, request):
        return self._booking_in_progress(request) or super().get_signup_redirect_url(request)

    def get_email_verification_redirect_url(self, email_address):
        request = self.request
        if request is not None and request.user.is_authenticated:
            return self._booking_in_progress(request) or super().get_email_verification_redirect_url(email_address)
        return super().get_email_verification_redirect_url(email_address)


def home_url(user) -> str:
    """Where a signed-in person starts: reception and physiotherapists at the desk, patients at their bookings."""
    if is_staff_member(user):
        return reverse("staff:today")
    return reverse("booking:my_bookings")
