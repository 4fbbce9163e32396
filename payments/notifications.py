"""Emails about money. Run as outbox work after commit, so a rolled-back change sends nothing."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from .models import Payment


def send_payment_auto_refunded(payment_id: int) -> None:
    """A payment came in for a booking we could not keep: it was refunded in full."""
    payment = Payment.objects.select_related("booking__service", "booking__practitioner__user", "booking__patient").get(
        pk=payment_id
    )
    booking = payment.booking
    context = {"booking": booking, "payment": payment, "site_url": settings.SITE_URL, "clinic_name": settings.CLINIC_NAME}
    body = render_to_string("payments/email/auto_refunded.txt", context)
    EmailMultiAlternatives(
        subject=f"Your payment has been refunded: {booking.service.name}", body=body, to=[booking.patient.email]
    ).send()
