"""Emails about money. Run as outbox work after commit, so a rolled-back change sends nothing."""

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
