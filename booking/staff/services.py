"""Reception's desk actions that booking/services.py does not cover.

Time off and working hours change what can be booked, so each takes the
practitioner's row lock first (the same lock booking_hold takes): a booking
cannot slip in between the check for clashes and the write. Bookings
themselves are still written only by booking/services.py and
payments/services.py; reception_book just calls them in order.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from booking import services as booking_services
from booking.availability import LONDON, local_day_bounds, working_spans
from booking.exceptions import BookingError
from booking.models import Booking, Practitioner, Service, TimeOff, WorkingHours
from booking.signals import slot_freed_on_commit
from booking.slot_cache import calendar_changed_on_commit
from clinic.mail import email_send
from common import hostile
from common.actor import actor_or_none
from payments import gateway
from payments import services as payment_services

log = logging.getLogger(__name__)
Status = Booking.Status

NO_EMAIL_DOMAIN = User.NO_EMAIL_DOMAIN


class BookingsInTheWay(BookingError):
    """The change would leave bookings outside working time; reception must confirm."""

    code = "bookings_in_the_way"
    status_code = 409

    def __init__(self, message: str, *, bookings: list[Booking]):
        self.bookings = bookings
        super().__init__(message, booking_ids=[b.pk for b in bookings])


class PatientExists(BookingError):
    code = "patient_exists"
    default_message = "A patient with that email address already exists: find them by email instead."


def _lock_practitioner(practitioner: Practitioner) -> Practitioner:
    return Practitioner.objects.select_for_update().select_related("user").get(pk=practitioner.pk)


def _active_bookings(practitioner: Practitioner, *, now: datetime):
    return (
        Booking.objects.blocking(now)
        .filter(practitioner=practitioner)
        .select_related("patient", "service")
        .order_by("start")
    )


# Patients ------------------------------------------------------------------


def patient_find(*, query: str, limit: int = 10):
    """Patients whose name, email or phone match every word of the query (words capped: common.hostile).
    Closed accounts (erased patients' anonymous anchors) are never found: nothing can be booked for them."""
    words = hostile.search_words(query)
    if not words:
        return User.objects.none()
    qs = User.objects.filter(is_staff=False, is_superuser=False, is_active=True)
    for word in words:
        digits = "".join(ch for ch in word if ch.isdigit())
        match = Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        if len(digits) >= 4:
            match |= Q(phone__icontains=digits) | Q(phone__icontains=word)
        qs = qs.filter(match)
    return qs.order_by("last_name", "first_name", "pk")[:limit]


@transaction.atomic
def patient_create(*, first_name: str, last_name: str = "", email: str = "", phone: str = "") -> User:
    """A patient from the desk: a name and a phone number or an email address is enough."""
    email = User.objects.normalize_email(email.strip()) if email.strip() else ""
    if email and User.objects.filter(email__iexact=email).exists():
        raise PatientExists(errors={"new_email": "Already a patient: search for them instead."})
    if not email:
        email = f"patient-{uuid.uuid4().hex[:12]}@{NO_EMAIL_DOMAIN}"
    user = User(username=email, email=email, first_name=first_name.strip(), last_name=last_name.strip(),
                phone=phone.strip())
    user.set_unusable_password()
    user.save()
    return user


# Booking from the desk ------------------------------------------------------

PAY_AT_CLINIC = "clinic"
PAY_BY_LINK = "link"


@dataclass
class DeskBooking:
    booking: Booking
    checkout_url: str = ""
    link_error: str = ""


def reception_book(
    *,
    patient: User | None,
    service: Service,
    practitioner: Practitioner,
    start: datetime,
    payment: str,
    actor,
    hold_minutes: int | None = None,
    new_patient: dict | None = None,
) -> DeskBooking:
    """Book a caller or walk-in: the same booking_hold as online (same locks, same race rules).

    new_patient (first_name, last_name, email, phone) creates the patient in
    the same transaction as the hold, so a refused slot leaves no stray
    patient behind. Pay at clinic: held and confirmed in that one transaction
    with the amount still due; reception takes the money when the patient
    comes (payments.services.payment_take_at_desk). Payment link: the hold is
    committed first, then the checkout opened and emailed outside the
    transaction (no provider call while the practitioner row is locked); if
    the provider is down the hold stays and the booking page offers "send
    payment link" again.
    """
    with transaction.atomic():
        if patient is None:
            patient = patient_create(**(new_patient or {}))
        booking = booking_services.booking_hold(
            patient=patient, service=service, start=start, practitioner=practitioner,
            source=Booking.Source.RECEPTION, actor=actor,
            hold_minutes=None if payment == PAY_AT_CLINIC else hold_minutes,
        )
        if payment == PAY_AT_CLINIC:
            booking_services.booking_confirm(booking=booking, actor=actor, reason="Booked by reception: to pay at the clinic.")
    booking.refresh_from_db()
    if payment == PAY_AT_CLINIC:
        return DeskBooking(booking=booking)
    return payment_link_send(booking=booking, actor=actor)


def payment_link_send(*, booking: Booking, actor=None) -> DeskBooking:
    """Open (or reuse) the checkout for a held booking and email its link to the patient."""
    try:
        payment = payment_services.payment_start(booking=booking, actor=actor)
    except gateway.GatewayError:
        log.exception("payment link for booking %s could not be created", booking.pk)
        return DeskBooking(booking=booking, link_error="The payment provider did not answer. The slot is held: "
                                                       "try \"Send payment link\" again from the booking page.")
    booking = Booking.objects.select_related("patient", "service", "practitioner__user").get(pk=booking.pk)
    if not payment.checkout_url:  # nothing to pay: confirmed without a link
        return DeskBooking(booking=booking)
    if booking.patient.can_be_emailed:
        email_send(subject=f"Pay £{booking.amount_due_pence / 100:,.2f} for your {booking.service.name} booking",
                   template="staff/email/payment_link.txt", to=[booking.patient.email], context={
            "booking": booking, "checkout_url": payment.checkout_url,
            "start": timezone.localtime(booking.start, LONDON),
            "hold_expires_at": timezone.localtime(booking.hold_expires_at, LONDON) if booking.hold_expires_at else None,
        })
    return DeskBooking(booking=booking, checkout_url=payment.checkout_url)


# Time off ----------------------------------------------------------------------


@transaction.atomic
def time_off_create(
    *,
    practitioner: Practitioner,
    start: datetime,
    end: datetime,
    reason: str,
    note: str = "",
    actor=None,
    confirm: bool = False,
    now: datetime | None = None,
) -> TimeOff:
    """Block time. Bookings already in it are listed and need confirm=True: they stay and must be moved."""
    now = now or timezone.now()
    if end <= start:
        raise BookingError("The end must be after the start.", errors={"end_time": "Must be after the start."})
    practitioner = _lock_practitioner(practitioner)
    clashes = list(_active_bookings(practitioner, now=now).overlapping(start, end))
    if clashes and not confirm:
        raise BookingsInTheWay(
            f"{len(clashes)} booking(s) fall in this time off. They will stay booked until you move or cancel them.",
            bookings=clashes,
        )
    time_off = TimeOff.objects.create(practitioner=practitioner, start=start, end=end, reason=reason, note=note,
                                      created_by=actor_or_none(actor))
    calendar_changed_on_commit()
    return time_off


def time_off_bookings(*, time_off: TimeOff, now: datetime | None = None) -> list[Booking]:
    """Live bookings inside a time off: they stay booked until moved, cancelled or asked to choose again."""
    return list(_active_bookings(time_off.practitioner, now=now or timezone.now()).overlapping(time_off.start, time_off.end))


@dataclass
class RescheduleAsked:
    emailed: list[Booking]
    to_phone: list[Booking]  # no email address: reception rings them


def time_off_ask_to_reschedule(*, time_off: TimeOff, actor, now: datetime | None = None) -> RescheduleAsked:
    """Email every patient booked inside a time off to choose a new time (one action), logged on each booking.

    The booking stays as it is until the patient (or reception) moves it. Patients
    without an email address are returned for reception to call.
    """
    from booking.notifications import manage_url

    result = RescheduleAsked(emailed=[], to_phone=[])
    for booking in time_off_bookings(time_off=time_off, now=now):
        if not booking.patient.can_be_emailed:
            result.to_phone.append(booking)
            continue
        # Sent one by one, outside any transaction: a failure leaves the others sent and logged.
        email_send(
            subject=f"Please choose a new time for your {booking.service.name}",
            template="staff/email/choose_new_time.txt",
            to=[booking.patient.email],
            context={"booking": booking, "start": timezone.localtime(booking.start, LONDON),
                     "link": manage_url(booking, reschedule=True)},
        )
        booking_services.booking_note(booking=booking, actor=actor,
                                      reason="Asked by email to choose a new time (the practitioner is unavailable).")
        result.emailed.append(booking)
    return result


@transaction.atomic
def time_off_delete(*, time_off: TimeOff, actor=None) -> None:
    _lock_practitioner(time_off.practitioner)
    TimeOff.objects.filter(pk=time_off.pk).delete()
    calendar_changed_on_commit()
    log.info("time off %s removed by %s", time_off.pk, actor)
    slot_freed_on_commit(practitioner_id=time_off.practitioner_id, start=time_off.start, end=time_off.end)


# Working hours -------------------------------------------------------------------


@dataclass(frozen=True)
class HoursRow:
    weekday: int
    start_time: time
    end_time: time


def _fits(booking: Booking, rows: list[HoursRow]) -> bool:
    """Does the appointment itself ([start, end)) lie inside the union of the new rows that day?

    The same union the engine offers slots in (booking.availability.working_spans):
    09:00-13:00 and 13:00-17:00 hold a 12:30-13:15 appointment. The buffer
    after is the clinic's tidy-up time and may run past closing.
    """
    day = timezone.localtime(booking.start, LONDON).date()
    start, end = booking.start.timestamp(), booking.end.timestamp()
    spans = working_spans(day, [row for row in rows if row.weekday == day.weekday()])
    return any(begin <= start and end <= finish for begin, finish in spans)


def working_hours_check(*, practitioner: Practitioner, rows: list[HoursRow], effective_from: date,
                        now: datetime | None = None) -> list[Booking]:
    """Active bookings from effective_from on that the new weekly hours would leave outside working time."""
    now = now or timezone.now()
    day_start, _ = local_day_bounds(effective_from)
    upcoming = _active_bookings(practitioner, now=now).filter(start__gte=max(day_start, now))
    return [b for b in upcoming if not _fits(b, rows)]


@transaction.atomic
def working_hours_replace(
    *,
    practitioner: Practitioner,
    rows: list[HoursRow],
    effective_from: date,
    confirm: bool = False,
    actor=None,
    now: datetime | None = None,
) -> list[Booking]:
    """New weekly hours from effective_from on; earlier days keep their old hours.

    Never silently orphans a booking: any booking that would fall outside the
    new hours is listed (BookingsInTheWay) unless confirm=True, and then
    returned so the page can list it again for moving.
    """
    for row in rows:
        if row.end_time <= row.start_time:
            raise BookingError("Each interval must end after it starts.")
    practitioner = _lock_practitioner(practitioner)
    outside = working_hours_check(practitioner=practitioner, rows=rows, effective_from=effective_from, now=now)
    if outside and not confirm:
        raise BookingsInTheWay(
            f"{len(outside)} booking(s) would fall outside the new working hours.", bookings=outside
        )
    day_before = effective_from - timedelta(days=1)
    WorkingHours.objects.filter(practitioner=practitioner, valid_from__gte=effective_from).delete()
    old = WorkingHours.objects.filter(practitioner=practitioner).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=effective_from)
    )
    # Rows that started before the change end the day before it; history stays as it was.
    for row in old:
        if row.valid_from is not None and row.valid_from > day_before:
            row.delete()
        else:
            row.valid_until = day_before
            row.save(update_fields=["valid_until"])
    WorkingHours.objects.bulk_create(
        WorkingHours(practitioner=practitioner, weekday=r.weekday, start_time=r.start_time, end_time=r.end_time,
                     valid_from=effective_from)
        for r in rows
    )
    # bulk_create sends no post_save: without this, patients saw the old hours until the cache aged out.
    calendar_changed_on_commit()
    log.info("working hours of practitioner %s replaced from %s by %s", practitioner.pk, effective_from, actor)
    # Hours may have been extended: whatever is newly free is for the waitlist to find.
    changed_from, _ = local_day_bounds(effective_from)
    slot_freed_on_commit(practitioner_id=practitioner.pk, start=changed_from,
                         end=changed_from + timedelta(days=settings.BOOKING_HORIZON_DAYS + 1))
    return outside
