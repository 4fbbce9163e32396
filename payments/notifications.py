"""Emails about money. Run as outbox work after commit, so a rolled-back change sends nothing."""

from django.conf import settings

from clinic.mail import email_send

from .models import Payment


def send_payment_auto_refunded(payment_id: int) -> None:
    """A payment came in for a booking we could not keep: it was refunded in full."""
    payment = Payment.objects.select_related("booking__service", "booking__practitioner__user", "booking__patient").get(
        pk=payment_id
    )
    booking = payment.booking
    email_send(
        subject=f"Your payment has been refunded: {booking.service.name}",
        template="payments/email/auto_refunded.txt",
        to=[booking.patient.email],
        context={"booking": booking, "payment": payment},
    )


def send_payment_receipt(payment_id: int) -> None:
    """The receipt for money taken, online or at the desk (not to phone-only patients without an address)."""
    from django.urls import reverse

    from .receipts import receipt_for, receipt_payments

    payment = receipt_payments().filter(pk=payment_id).first()
    if payment is None or not payment.booking.patient.can_be_emailed:
        return
    receipt = receipt_for(payment)
    context = {"receipt": receipt, "url": settings.SITE_URL + reverse("payments:receipt", args=[payment.pk])}
    email_send(
        subject=f"Receipt {receipt.number}: {receipt.service}",
        template="payments/email/receipt.txt",
        to=[payment.booking.patient.email],
        context=context,
    )
