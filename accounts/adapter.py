"""allauth hooks: after signing in (or confirming an email) mid-booking, go back to the booking;
otherwise staff land on the desk and patients on their bookings. allauth's emails carry the
clinic's name, SITE_URL's domain and the clinic's branded HTML."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.urls import reverse

from clinic.mail import email_html

from .roles import is_manager, is_staff_member


@dataclass(frozen=True)
class ClinicSite:
    """What allauth's templates call current_site: the clinic's name and SITE_URL's domain,
    never the host a request happened to come in on (127.0.0.1:8000 behind a proxy)."""

    name: str
    domain: str


def clinic_site() -> ClinicSite:
    return ClinicSite(name=settings.CLINIC_NAME, domain=urlsplit(settings.SITE_URL).netloc)


def on_site(url: str) -> str:
    """The same path and query on SITE_URL."""
    bits = urlsplit(url)
    return settings.SITE_URL + bits.path + (f"?{bits.query}" if bits.query else "")

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

    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.CLINIC_NAME}] {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        from allauth.core import context as allauth_context

        ctx = {"request": allauth_context.request, "email": email, **context, "current_site": clinic_site()}
        # Every link in allauth's emails (activate_url, password_reset_url, signup_url ...) on SITE_URL.
        for key, value in ctx.items():
            if key.endswith("_url") and isinstance(value, str) and value.startswith(("http://", "https://")):
                ctx[key] = on_site(value)
        message = self.render_mail(template_prefix, email, ctx)
        if not getattr(message, "alternatives", None) and hasattr(message, "attach_alternative"):
            message.attach_alternative(email_html(message.body, subject=message.subject), "text/html")
        message.send()

    def get_email_confirmation_url(self, request, emailconfirmation):
        return on_site(super().get_email_confirmation_url(request, emailconfirmation))

    def get_reset_password_from_key_url(self, key):
        return on_site(super().get_reset_password_from_key_url(key))

    # The phone number on the profile is contact detail, not a login method: allauth's headless
    # "account/phone" reads it (unverified) instead of raising NotImplementedError (a 500).
    def get_phone(self, user):
        phone = getattr(user, "phone", "")
        return (phone, False) if phone else None


def home_url(user) -> str:
    """Where a signed-in person starts: reception and physiotherapists at the desk, the owner (a manager
    who works no desk) at the reports, patients at their bookings."""
    if is_staff_member(user):
        return reverse("staff:today")
    if is_manager(user):
        return reverse("reports:index")
    return reverse("booking:my_bookings")
