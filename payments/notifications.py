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


def send_payment_receipt(payment_id: int) -> None:
    """The receipt for money taken, online or at the desk (not to phone-only patients without an address)."""
    from django.urls import reverse

    from .receipts import receipt_for, receipt_payments

    payment = receipt_payments().filter(pk=payment_id).first()
    if payment is None or not payment.booking.patient.can_be_emailed:
        return
    receipt = receipt_for(payment)
    context = {"receipt": receipt, "url": settings.SITE_URL + reverse("payments:receipt", args=[payment.pk])}
    EmailMultiAlternatives(
        subject=f"Receipt {receipt.number}: {receipt.service}",
        body=render_to_string("payments/email/receipt.txt", context),
        to=[payment.booking.patient.email],
    ).send()
