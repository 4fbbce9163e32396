"""allauth hooks: after signing in (or confirming an email) mid-booking, go back to the booking."""

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

BOOKING_DRAFT = "booking_draft"  # booking.views.DRAFT


class AccountAdapter(DefaultAccountAdapter):
    def _booking_in_progress(self, request) -> str | None:
        if request.session.get(BOOKING_DRAFT):
            return reverse("booking:book_review")
        return None

    def get_login_redirect_url(self, request):
        # allauth prefers an explicit ?next=; this covers logins that lost it
        # (e.g. after confirming the email address in mandatory-verification mode).
        return self._booking_in_progress(request) or super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        return self._booking_in_progress(request) or super().get_signup_redirect_url(request)

    def get_email_verification_redirect_url(self, email_address):
        request = self.request
        if request is not None and request.user.is_authenticated:
            return self._booking_in_progress(request) or super().get_email_verification_redirect_url(email_address)
        return super().get_email_verification_redirect_url(email_address)

    # The phone number on the profile is contact detail, not a login method: allauth's headless
    # "account/phone" reads it (unverified) instead of raising NotImplementedError (a 500).
    def get_phone(self, user):
        phone = getattr(user, "phone", "")
        return (phone, False) if phone else None
