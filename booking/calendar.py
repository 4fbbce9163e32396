"""The staff calendar: who works when, who is off, who is booked. Pure reads.

One call builds any number of practitioner-days (a day view: every
practitioner on one day; a week view: one practitioner on seven days) in four
queries whatever the number of bookings: practitioners with their users,
their working hours, time off in the range, and bookings in the range with
patient and service.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import BooleanField, ExpressionWrapper, Prefetch, Q
from django.utils import timezone

from .availability import LONDON, local_day_bounds, working_intervals
from .intake import FLAG_LABELS
from .models import Booking, Practitioner, TimeOff, UrgentAdvice, WorkingHours

Status = Booking.Status


@dataclass(frozen=True)
class CalendarBooking:
    id: int
    start: datetime  # London local
    end: datetime
    status: str
    status_label: str
    patient_id: int
    patient_name: str
    service_id: int
    service_name: str
    flags: tuple[str, ...]
    flag_labels: tuple[str, ...]
    arrived: bool
    source: str
    hold_expires_at: datetime | None
    # Still to pay at the clinic (pence); 0 when paid, held or cancelled.
    due_pence: int = 0
    intake_pending: bool = False

    @property
    def is_flagged(self) -> bool:
        return bool(self.flags)

    @property
    def short_status(self) -> str:
        """For a narrow calendar block: "Held", not "Held (awaiting payment)"."""
        return self.status_label.split(" (")[0]


@dataclass(frozen=True)
class CalendarTimeOff:
    id: int
    start: datetime  # London local
    end: datetime
    reason: str
    reason_label: str
    note: str


@dataclass
class PractitionerDay:
    practitioner_id: int
    name: str
    colour: str
    title: str
    day: date
    working: list[tuple[datetime, datetime]] = field(default_factory=list)
    time_off: list[CalendarTimeOff] = field(default_factory=list)
    # What occupies the calendar: held (unlapsed), confirmed, attended, no-show.
    bookings: list[CalendarBooking] = field(default_factory=list)
    # Cancelled and lapsed bookings of the day, listed apart so reception can see what went.
    cancelled: list[CalendarBooking] = field(default_factory=list)


def _calendar_booking(booking: Booking, status: str) -> CalendarBooking:
    patient = booking.patient
    flags = tuple(booking.flags or ())
    return CalendarBooking(
        id=booking.pk,
        start=timezone.localtime(booking.start, LONDON),
        end=timezone.localtime(booking.end, LONDON),
        status=status,
        status_label=Status(status).label,
        patient_id=patient.pk,
        patient_name=patient.get_full_name() or patient.email,
        service_id=booking.service_id,
        service_name=booking.service.name,
        flags=flags,
        flag_labels=tuple(FLAG_LABELS.get(f, f) for f in flags),
        arrived=booking.arrived_at is not None,
        source=booking.source,
        hold_expires_at=booking.hold_expires_at,
        due_pence=booking.balance_due(booking.taken_pence),
        intake_pending=bool(getattr(booking, "intake_missing", False)) and status in (Status.HELD, Status.CONFIRMED),
    )


def calendar_days(
    *,
    date_from: date,
    date_to: date,
    practitioner_ids: list[int] | None = None,
    now: datetime | None = None,
) -> list[PractitionerDay]:
    """Practitioner-days from date_from to date_to (London dates, inclusive).

    Ordered by practitioner (their calendar position) then day.
    practitioner_ids=None means every active practitioner.
    """
    now = now or timezone.now()
    range_start, _ = local_day_bounds(date_from)
    _, range_end = local_day_bounds(date_to)

    practitioners = Practitioner.objects.filter(active=True).select_related("user").prefetch_related(
        Prefetch("working_hours", queryset=WorkingHours.objects.order_by("weekday", "start_time"))
    )
    if practitioner_ids is not None:
        practitioners = practitioners.filter(pk__in=practitioner_ids)
    practitioners = list(practitioners)
    if not practitioners:
        return []
    ids = [p.pk for p in practitioners]

    days = []
    day = date_from
    while day <= date_to:
        days.append(day)
        day += timedelta(days=1)

    def local_day(instant: datetime) -> date:
        return timezone.localtime(instant, LONDON).date()

    def days_touched(start: datetime, end: datetime):
        first = max(local_day(start), date_from)
        last = min(local_day(end - timedelta(microseconds=1)), date_to)
        current = first
        while current <= last:
            yield current
            current += timedelta(days=1)

    time_off: dict[tuple[int, date], list[CalendarTimeOff]] = defaultdict(list)
    for row in TimeOff.objects.filter(practitioner_id__in=ids, start__lt=range_end, end__gt=range_start):
        item = CalendarTimeOff(
            id=row.pk,
            start=timezone.localtime(row.start, LONDON),
            end=timezone.localtime(row.end, LONDON),
            reason=row.reason,
            reason_label=row.get_reason_display(),
            note=row.note,
        )
        for touched in days_touched(row.start, row.end):
            time_off[(row.practitioner_id, touched)].append(item)

    shown: dict[tuple[int, date], list[CalendarBooking]] = defaultdict(list)
    gone: dict[tuple[int, date], list[CalendarBooking]] = defaultdict(list)
    bookings = (
        Booking.objects.filter(practitioner_id__in=ids, start__lt=range_end, end__gt=range_start)
        .select_related("patient", "service")
        .with_taken_pence()
        # Only what a calendar shows: a busy day has hundreds of rows, and every
        # timestamp column costs parsing.
        .only(
            "id", "practitioner_id", "start", "end", "status", "hold_expires_at", "flags", "arrived_at", "source",
            "amount_due_pence",
            "patient__id", "patient__first_name", "patient__last_name", "patient__email",
            "service__id", "service__name",
        )
        # The intake is read as one boolean, not loaded: see Booking.intake_pending.
        .annotate(intake_missing=ExpressionWrapper(Q(service__is_first_session=True, intake={}), BooleanField()))
        .order_by("start", "pk")
    )
    for booking in bookings:
        status = booking.shown_status(now)
        item = _calendar_booking(booking, status)
        target = gone if status in (Status.CANCELLED, Status.EXPIRED) else shown
        target[(booking.practitioner_id, local_day(booking.start))].append(item)

    result = []
    for practitioner in practitioners:
        hours = list(practitioner.working_hours.all())
        for day in days:
            key = (practitioner.pk, day)
            result.append(
                PractitionerDay(
                    practitioner_id=practitioner.pk,
                    name=practitioner.name,
                    colour=practitioner.colour,
                    title=practitioner.title,
                    day=day,
                    working=[
                        (timezone.localtime(s, LONDON), timezone.localtime(e, LONDON))
                        for s, e in working_intervals(hours, day)
                    ],
                    time_off=time_off.get(key, []),
                    bookings=shown.get(key, []),
                    cancelled=gone.get(key, []),
                )
            )
    return result


def urgent_advice_count(*, day: date) -> int:
    """How many times urgent-care advice was shown on a London day (reception's day view)."""
    start, end = local_day_bounds(day)
    return UrgentAdvice.objects.filter(shown_at__gte=start, shown_at__lt=end).count()
