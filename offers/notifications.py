"""The offer code email. Sent from transaction.on_commit, so a rolled-back claim sends nothing."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from .models import OfferCode


def send_offer_code(code_id: int) -> None:
    code = OfferCode.objects.select_related("offer").get(pk=code_id)
    context = {
        "code": code,
        "offer": code.offer,
        "clinic_name": settings.CLINIC_NAME,
        "site_url": settings.SITE_URL,
        "book_url": settings.SITE_URL + reverse("booking:home"),
    }
    body = render_to_string("offers/email/code.txt", context)
    EmailMultiAlternatives(
        subject=f"Your code for {code.offer.percent_off}% off your first session: {code.display_code}",
        body=body,
        to=[code.email],
    ).send()
