"""Emails to patients. Called from transaction.on_commit, so a rolled-back
action never sends anything."""

from datetime import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.login_links import login_link_token
from clinic.mail import email_send
from common.clock import london_clock
from sms.services import sms_send_to_patient

from . import policy
from .models import Booking


def _booking(booking_id: int) -> Booking:
    return Booking.objects.select_related("service", "practitioner__user", "patient").get(pk=booking_id)


def _send(*, booking: Booking, subject: str, template: str, context: dict | None = None, attach_ics: bool = False):
    if not booking.patient.can_be_emailed:
        return  # booked by phone with no address: reception tells them
    attachments: tuple[tuple[str, bytes, str], ...] = ()
    if attach_ics:
        from .ics import booking_ics

        attachments = (("appointment.ics", booking_ics(booking), "text/calendar; method=PUBLISH; charset=utf-8"),)
    email_send(subject=subject, template=f"booking/email/{template}.txt", to=[booking.patient.email],
               context={"booking": booking, "manage_url": manage_url(booking), **(context or {})},
               attachments=attachments)


def manage_url(booking: Booking, *, reschedule: bool = False) -> str:
    """The booking's page (or its reschedule page); for a patient with no password (booked at
    the desk) a one-time sign-in link that lands there."""
    page = "booking:my_booking_reschedule" if reschedule else "booking:my_booking"
    if booking.patient.has_usable_password():
        return f"{settings.SITE_URL}{reverse(page, args=[booking.pk])}"
    token = login_link_token(user=booking.patient, booking_id=booking.pk, reschedule=reschedule)
    return f"{settings.SITE_URL}{reverse('login_link', args=[token])}"


def send_booking_confirmed(booking_id: int) -> None:
    from .ics import google_calendar_url
    from .intake_link import intake_link_open, intake_link_url

    booking = Booking.objects.with_taken_pence().select_related("service", "practitioner__user", "patient").get(
        pk=booking_id
    )
    now = timezone.now()
    _send(
        booking=booking,
        subject=f"Booking confirmed: {booking.service.name} on {london_clock(booking.start, '%a %-d %b at %H:%M')}",
        template="confirmed",
        context={
            "due_pence": booking.balance_due(booking.taken_pence),
            "inside_window": policy.inside_policy_window(start=booking.start, now=now),
            "free_until": policy.free_cancellation_ends(booking.start),
            "free_cancel_hours": settings.BOOKING_FREE_CANCEL_HOURS,
            "google_calendar_url": google_calendar_url(booking),
            # Booked by phone: the patient answers the assessment questions through a signed link.
            "intake_link": intake_link_url(booking) if intake_link_open(booking, now=now) else "",
        },
        attach_ics=True,
    )


def send_booking_cancelled(booking_id: int, refund_pence: int, *, by_clinic: bool = False, reason: str = "") -> None:
    booking = _booking(booking_id)
    # The attached .ics (STATUS:CANCELLED, same UID) removes the event from calendars that imported it.
    _send(booking=booking, subject=f"Booking cancelled: {booking.service.name}", template="cancelled",
          context={"refund_pence": refund_pence, "was_paid": booking.payments.filter(paid_at__isnull=False).exists(),
                   "by_clinic": by_clinic, "reason": reason, "free_cancel_hours": settings.BOOKING_FREE_CANCEL_HOURS,
                   # Money taken at the desk goes back at the desk, by a person (never "to your card" by itself).
                   "desk_refund": booking.payments.filter(method__in=["card_terminal", "cash"],
                                                          refunds__status="pending").exists()},
          attach_ics=True)


def send_booking_rescheduled(booking_id: int, old_start: datetime) -> None:
    booking = _booking(booking_id)
    _send(booking=booking, subject=f"Booking moved to {london_clock(booking.start, '%a %-d %b at %H:%M')}",
          template="rescheduled",
          context={"old_start": old_start}, attach_ics=True)


def send_booking_reminder(booking: Booking) -> None:
    when = timezone.localtime(booking.start)
    _send(booking=booking, subject=f"Reminder: {booking.service.name} tomorrow at {london_clock(when)}",
          template="reminder", attach_ics=True)
    # And by text, to patients who agreed (sms.services checks consent and STOP).
    sms_send_to_patient(patient=booking.patient, purpose="reminder",
                        body=render_to_string("booking/sms/reminder.txt", {
                            "booking": booking, "when": when, "clinic_name": settings.CLINIC_NAME,
                            "site_url": settings.SITE_URL}).strip())
