"""Receipts and the day's takings: pure reads over payments (no writes, no HTTP).

A receipt carries what UK health insurers ask for: the clinic's name, address
and contact details, the patient's name, the treatment, its date and
practitioner, the amount and how it was paid.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from common.clock import LONDON, local_day_bounds
from booking.models import Booking

from .models import Payment, Refund


@dataclass(frozen=True)
class Receipt:
    number: str
    clinic_name: str
    clinic_address: str
    clinic_phone: str
    patient_name: str
    patient_email: str
    service: str
    practitioner: str
    appointment: datetime  # London local
    amount_pence: int
    method: str
    paid_at: datetime  # London local
    taken_by: str
    booking_id: int
    payment_id: int


def receipt_for(payment: Payment) -> Receipt:
    booking: Booking = payment.booking
    patient = booking.patient
    paid_at = timezone.localtime(payment.paid_at or payment.created_at, LONDON)
    return Receipt(
        number=f"PB-{paid_at:%Y%m%d}-{payment.pk:06d}",
        clinic_name=settings.CLINIC_NAME,
        clinic_address=settings.CLINIC_ADDRESS,
        clinic_phone=settings.CLINIC_PHONE,
        patient_name=patient.get_full_name() or patient.email,
        patient_email=patient.email if patient.can_be_emailed else "",
        service=booking.service.name,
        practitioner=booking.practitioner.name,
        appointment=timezone.localtime(booking.start, LONDON),
        amount_pence=payment.amount_pence,
        method=payment.get_method_display(),
        paid_at=paid_at,
        taken_by=(payment.created_by.get_full_name() or payment.created_by.email) if payment.created_by else "",
        booking_id=booking.pk,
        payment_id=payment.pk,
    )


def receipt_payments():
    """Payments that have a receipt: money that was taken (and not an automatic give-back of a duplicate).

    Not a record kept after an erasure (privacy.access): its payment stays in the books (the day's takings)
    but its receipt is neither shown nor sent; managers see its payments with a logged reason."""
    return Payment.objects.filter(
        status__in=Payment.PAID_STATUSES, auto_refunded=False, booking__retention__isnull=True
    ).select_related(
        "booking__service", "booking__practitioner__user", "booking__patient", "created_by"
    )


@dataclass
class TakingsLine:
    label: str
    count: int = 0
    pence: int = 0


@dataclass
class Takings:
    day: date
    by_method: list[TakingsLine] = field(default_factory=list)
    by_practitioner: list[TakingsLine] = field(default_factory=list)
    total_pence: int = 0
    count: int = 0
    refunded_pence: int = 0

    @property
    def net_pence(self) -> int:
        return self.total_pence - self.refunded_pence


def takings_for_day(day: date) -> Takings:
    """Money taken on one London day (by when it was taken), by method and by practitioner; refunds made that day.

    Two queries whatever the number of payments.
    """
    start, end = local_day_bounds(day)
    payments = (
        Payment.objects.filter(status__in=Payment.PAID_STATUSES, auto_refunded=False, paid_at__gte=start, paid_at__lt=end)
        .select_related("booking__practitioner__user")
        .order_by("paid_at", "pk")
    )
    methods: dict[str, TakingsLine] = {}
    practitioners: dict[int, TakingsLine] = defaultdict(lambda: TakingsLine(""))
    takings = Takings(day=day)
    for payment in payments:
        line = methods.setdefault(payment.method, TakingsLine(payment.get_method_display()))
        line.count += 1
        line.pence += payment.amount_pence
        who = practitioners[payment.booking.practitioner_id]
        who.label = payment.booking.practitioner.name
        who.count += 1
        who.pence += payment.amount_pence
        takings.total_pence += payment.amount_pence
        takings.count += 1
    order = {value: n for n, value in enumerate(Payment.Method.values)}
    takings.by_method = [methods[m] for m in sorted(methods, key=lambda method: order[method])]
    takings.by_practitioner = sorted(practitioners.values(), key=lambda line: line.label)
    takings.refunded_pence = sum(
        Refund.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=Refund.Status.FAILED)
        .values_list("amount_pence", flat=True)
    )
    return takings
