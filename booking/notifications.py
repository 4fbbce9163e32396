"""Emails to patients. Called from transaction.on_commit, so a rolled-back
action never sends anything."""

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Booking


def _booking(booking_id: int) -> Booking:
    return Booking.objects.select_related("service", "practitioner__user", "patient").get(pk=booking_id)


def _send(*, booking: Booking, subject: str, template: str, context: dict | None = None, attach_ics: bool = False):
    if not booking.patient.can_be_emailed:
        return  # booked by phone with no address: reception tells them
    context = {"booking": booking, "site_url": settings.SITE_URL, "clinic_name": settings.CLINIC_NAME, **(context or {})}
    body = render_to_string(f"booking/email/{template}.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[booking.patient.email])
    if attach_ics:
        from .ics import booking_ics

        message.attach("appointment.ics", booking_ics(booking), "text/calendar; method=PUBLISH; charset=utf-8")
    message.send()


def send_booking_confirmed(booking_id: int) -> None:
    booking = _booking(booking_id)
    when = timezone.localtime(booking.start)
    _send(
        booking=booking,
        subject=f"Booking confirmed: {booking.service.name} on {when:%a %-d %b at %H:%M}",
        template="confirmed",
        attach_ics=True,
    )


def send_booking_cancelled(booking_id: int, refund_pence: int) -> None:
    booking = _booking(booking_id)
    # The attached .ics (STATUS:CANCELLED, same UID) removes the event from calendars that imported it.
    _send(booking=booking, subject=f"Booking cancelled: {booking.service.name}", template="cancelled",
          context={"refund_pence": refund_pence, "was_paid": booking.payments.filter(paid_at__isnull=False).exists(),
                   # Money taken at the desk goes back at the desk, by a person (never "to your card" by itself).
                   "desk_refund": booking.payments.filter(method__in=["card_terminal", "cash"],
                                                          refunds__status="pending").exists()},
          attach_ics=True)


def send_booking_rescheduled(booking_id: int, old_start: datetime) -> None:
    booking = _booking(booking_id)
    when = timezone.localtime(booking.start)
    _send(booking=booking, subject=f"Booking moved to {when:%a %-d %b at %H:%M}", template="rescheduled",
          context={"old_start": old_start}, attach_ics=True)


def send_booking_reminder(booking: Booking) -> None:
    when = timezone.localtime(booking.start)
    _send(booking=booking, subject=f"Reminder: {booking.service.name} tomorrow at {when:%H:%M}", template="reminder",
          attach_ics=True)
