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
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from booking import services as booking_services
from booking.availability import LONDON, local_day_bounds, london_datetime
from booking.exceptions import BookingError
from booking.models import Booking, Practitioner, Service, TimeOff, WorkingHours
from common import hostile
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
    """Patients whose name, email or phone match every word of the query (words capped: common.hostile)."""
    words = hostile.search_words(query)
    if not words:
        return User.objects.none()
    qs = User.objects.filter(is_staff=False, is_superuser=False)
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

PAY_AT_CLINIC_CARD = "card_terminal"
PAY_AT_CLINIC_CASH = "cash"
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
    patient behind. Pay at clinic: held and paid in that one transaction, so
    it is confirmed or nothing is written. Payment link: the hold is committed
    first, then the checkout opened and emailed outside the transaction (no
    provider call while the practitioner row is locked); if the provider is
    down the hold stays and the booking page offers "send payment link" again.
    """
    with transaction.atomic():
        if patient is None:
            patient = patient_create(**(new_patient or {}))
        booking = booking_services.booking_hold(
            patient=patient, service=service, start=start, practitioner=practitioner,
            source=Booking.Source.RECEPTION, actor=actor,
            hold_minutes=None if payment in (PAY_AT_CLINIC_CARD, PAY_AT_CLINIC_CASH) else hold_minutes,
        )
        if payment in (PAY_AT_CLINIC_CARD, PAY_AT_CLINIC_CASH):
            payment_services.payment_record_at_clinic(booking=booking, method=payment, actor=actor)
    booking.refresh_from_db()
    if payment in (PAY_AT_CLINIC_CARD, PAY_AT_CLINIC_CASH):
        return DeskBooking(booking=booking)
    return payment_link_send(booking=booking, actor=actor)


def payment_link_send(*, booking: Booking, actor=None) -> DeskBooking:
    """Open (or reuse) the checkout for a held booking and email its link to the patient."""
    try:
        payment = payment_services.payment_start(booking=booking, actor=actor)
    except gateway.GatewayUnavailable:
        log.exception("payment link for booking %s could not be created", booking.pk)
        return DeskBooking(booking=booking, link_error="The payment provider did not answer. The slot is held: "
                                                       "try \"Send payment link\" again from the booking page.")
    booking = Booking.objects.select_related("patient", "service", "practitioner__user").get(pk=booking.pk)
    if booking.patient.can_be_emailed:
        body = render_to_string("staff/email/payment_link.txt", {
            "booking": booking, "checkout_url": payment.checkout_url, "clinic_name": settings.CLINIC_NAME,
            "start": timezone.localtime(booking.start, LONDON),
            "hold_expires_at": timezone.localtime(booking.hold_expires_at, LONDON) if booking.hold_expires_at else None,
        })
        send_mail(f"Pay for your {booking.service.name} booking", body, None, [booking.patient.email])
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
    return TimeOff.objects.create(practitioner=practitioner, start=start, end=end, reason=reason, note=note,
                                  created_by=actor if getattr(actor, "is_authenticated", False) else None)


@transaction.atomic
def time_off_delete(*, time_off: TimeOff, actor=None) -> None:
    _lock_practitioner(time_off.practitioner)
    TimeOff.objects.filter(pk=time_off.pk).delete()
    log.info("time off %s removed by %s", time_off.pk, actor)


# Working hours -------------------------------------------------------------------


@dataclass(frozen=True)
class HoursRow:
    weekday: int
    start_time: time
    end_time: time


def _fits(booking: Booking, rows: list[HoursRow]) -> bool:
    """Does the appointment itself ([start, end), London wall clock) lie inside one new interval?

    The buffer after is the clinic's tidy-up time and may run past closing.
    """
    local_start = timezone.localtime(booking.start, LONDON)
    local_end = timezone.localtime(booking.end, LONDON)
    day = local_start.date()
    for row in rows:
        if row.weekday != day.weekday():
            continue
        s = london_datetime(day, row.start_time) or datetime.combine(day, row.start_time, tzinfo=LONDON)
        e = london_datetime(day, row.end_time) or datetime.combine(day, row.end_time, tzinfo=LONDON)
        if s <= local_start and local_end <= e:
            return True
    return False


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
    log.info("working hours of practitioner %s replaced from %s by %s", practitioner.pk, effective_from, actor)
    return outside
