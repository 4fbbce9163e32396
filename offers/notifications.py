"""The offer code email. Sent from transaction.on_commit, so a rolled-back claim sends nothing."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from clinic.mail import email_send

from .models import OfferCode


def send_offer_code(code_id: int) -> None:
    code = OfferCode.objects.select_related("offer").get(pk=code_id)
    context = {
        "code": code,
        "offer": code.offer,
        # Straight into the booking flow for the first session, with the code applied at review.
        "book_url": settings.SITE_URL + reverse("booking:book_first_session") + "?" + urlencode({"code": code.display_code}),
    }
    email_send(
        subject=f"Your code for {code.offer.percent_off}% off your first session: {code.display_code}",
        template="offers/email/code.txt",
        to=[code.email],
        context=context,
    )
