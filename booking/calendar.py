"""The staff calendar: who works when, who is off, who is booked. Pure reads.

One call builds any number of practitioner-days (a day view: every
practitioner on one day; a week view: one practitioner on seven days) in four
queries whatever the number of bookings: practitioners with their users,
their working hours, time off in the range, and bookings in the range with
patient and service.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache

from django.db.models import BooleanField, ExpressionWrapper, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from .availability import LONDON, local_day_bounds, working_intervals
from .intake import FLAG_LABELS
from .models import Booking, Practitioner, TimeOff, UrgentAdvice, WorkingHours

Status = Booking.Status


# Not frozen: a frozen dataclass's __init__ sets each field through object.__setattr__, 2.5 times the
# cost, and a busy day makes hundreds. Nothing changes one after calendar_days returns it.
@dataclass(slots=True)
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
    # Kept after the patient's erasure (privacy.RetainedBooking): shown without the patient, until this date.
    retained_until: date | None = None

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


# The columns a calendar shows, read as plain tuples: a busy day has hundreds of
# bookings, and building a model instance (and its patient and service) for each
# was most of the uncached day view's time. The instants come as text and are
# read with datetime.fromisoformat (_Instants): the ORM's reading of a timestamp
# (psycopg's loader in Python, then Django's) cost several microseconds each. The
# flags come as JSON text too, decoded only when there are any.
_BOOKING_COLUMNS = (
    "id", "practitioner_id", "start_text", "end_text", "status", "hold_expires_at", "flags_text", "source",
    "amount_due_pence", "taken_pence", "intake_missing", "arrived",
    "patient_id", "patient__first_name", "patient__last_name", "patient__email",
    "service_id", "service__name", "retention__keep_until",
)


class _Instants(dict):
    """Timestamps as text from the database -> London datetimes, each distinct text read once.

    PostgreSQL writes a timestamptz in the session's zone (UTC for Django) with
    its offset ("2027-01-12 09:00:00+00"); SQLite keeps UTC without one.
    """

    def __missing__(self, text: str) -> datetime:
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        self[text] = local = instant.astimezone(LONDON)
        return local


def retained_label(keep_until: date) -> str:
    """What staff see instead of an erased patient's name on a kept record (privacy.access has the rule)."""
    return f"Record retained until {keep_until.day} {keep_until:%b %Y}"


def _calendar_booking(row: tuple, status: str, instants: _Instants) -> CalendarBooking:
    """A calendar row (_BOOKING_COLUMNS) as a CalendarBooking; a kept record of an erased patient without the patient."""
    (pk, _, start, end, _, hold_expires_at, flags, source, amount_due, taken, intake_missing, arrived,
     patient_id, first_name, last_name, email, service_id, service_name, keep_until) = row
    if keep_until is not None:
        # A record kept after an erasure: the slot and the end date, nothing about the patient or their care.
        return CalendarBooking(
            id=pk, start=instants[start], end=instants[end], status=status, status_label=_STATUS_LABELS[status],
            patient_id=patient_id, patient_name=retained_label(keep_until), service_id=service_id,
            service_name=service_name, flags=(), flag_labels=(), arrived=arrived, source=source,
            hold_expires_at=hold_expires_at, retained_until=keep_until,
        )
    flags = tuple(json.loads(flags)) if flags and flags != "[]" else ()
    name = f"{first_name} {last_name}".strip()  # User.get_full_name
    # Booking.balance_due on the stored status, from the annotated money taken.
    due = max(amount_due - taken, 0) if row[4] in Booking.OWING_STATUSES else 0
    return CalendarBooking(
        id=pk,
        start=instants[start],
        end=instants[end],
        status=status,
        status_label=_STATUS_LABELS[status],
        patient_id=patient_id,
        patient_name=name or email,
        service_id=service_id,
        service_name=service_name,
        flags=flags,
        flag_labels=tuple(FLAG_LABELS.get(f, f) for f in flags),
        arrived=arrived,
        source=source,
        hold_expires_at=hold_expires_at,
        due_pence=due,
        intake_pending=bool(intake_missing) and status in (Status.HELD, Status.CONFIRMED),
    )


_STATUS_LABELS = {value: label for value, label in Status.choices}


# The two big queries are built once per process, without their ranges, and only
# filtered per call: building the expressions (the money subquery, the casts)
# cost more than PostgreSQL takes to run them.

@cache
def _practitioner_hours():
    return Practitioner.objects.filter(active=True).values(
        "pk", "colour", "title", "user__first_name", "user__last_name", "user__email",
        "working_hours__weekday", "working_hours__start_time", "working_hours__end_time",
        "working_hours__valid_from", "working_hours__valid_until",
    ).order_by("position", "pk", "working_hours__weekday", "working_hours__start_time")


@cache
def _calendar_bookings():
    return (
        Booking.objects.with_taken_pence()
        # The intake is read as one boolean, not loaded: see Booking.intake_pending.
        .annotate(intake_missing=ExpressionWrapper(Q(service__is_first_session=True, intake={}), BooleanField()),
                  arrived=ExpressionWrapper(Q(arrived_at__isnull=False), BooleanField()),
                  start_text=Cast("start", TextField()), end_text=Cast("end", TextField()),
                  flags_text=Cast("flags", TextField()))
        .order_by("start", "pk")
        .values_list(*_BOOKING_COLUMNS)
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

    # Practitioners and their hours in one query: a row per hours row (LEFT JOIN), or one with no hours.
    rows = _practitioner_hours().all()  # a copy: iterating the shared one would keep its rows for good
    if practitioner_ids is not None:
        rows = rows.filter(pk__in=practitioner_ids)
    practitioners: dict[int, dict] = {}
    weekdays = {(date_from + timedelta(days=n)).weekday() for n in range(min((date_to - date_from).days + 1, 7))}
    for row in rows:
        practitioner = practitioners.setdefault(row["pk"], {
            "name": f"{row['user__first_name']} {row['user__last_name']}".strip() or row["user__email"],  # Practitioner.name
            "colour": row["colour"], "title": row["title"], "hours": [],
        })
        if row["working_hours__weekday"] in weekdays:  # None: no hours at all
            practitioner["hours"].append(WorkingHours(
                weekday=row["working_hours__weekday"], start_time=row["working_hours__start_time"],
                end_time=row["working_hours__end_time"], valid_from=row["working_hours__valid_from"],
                valid_until=row["working_hours__valid_until"],
            ))
    if not practitioners:
        return []
    ids = list(practitioners)

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
    for off in TimeOff.objects.filter(practitioner_id__in=ids, start__lt=range_end, end__gt=range_start):
        block = CalendarTimeOff(
            id=off.pk,
            start=timezone.localtime(off.start, LONDON),
            end=timezone.localtime(off.end, LONDON),
            reason=off.reason,
            reason_label=off.get_reason_display(),
            note=off.note,
        )
        for touched in days_touched(off.start, off.end):
            time_off[(off.practitioner_id, touched)].append(block)

    shown: dict[tuple[int, date], list[CalendarBooking]] = defaultdict(list)
    gone: dict[tuple[int, date], list[CalendarBooking]] = defaultdict(list)
    bookings = _calendar_bookings().filter(practitioner_id__in=ids, start__lt=range_end, end__gt=range_start)
    instants = _Instants()
    for row in bookings:
        status = Booking.row_shown_status(row[4], row[5], now)
        item = _calendar_booking(row, status, instants)
        target = gone if status in (Status.CANCELLED, Status.EXPIRED) else shown
        target[(row[1], item.start.date())].append(item)

    result = []
    for practitioner_id, practitioner in practitioners.items():
        for day in days:
            key = (practitioner_id, day)
            result.append(
                PractitionerDay(
                    practitioner_id=practitioner_id,
                    name=practitioner["name"],
                    colour=practitioner["colour"],
                    title=practitioner["title"],
                    day=day,
                    working=[
                        (timezone.localtime(s, LONDON), timezone.localtime(e, LONDON))
                        for s, e in working_intervals(practitioner["hours"], day)
                    ],
                    time_off=time_off.get(key, []),
                    bookings=shown.get(key, []),
                    cancelled=gone.get(key, []),
                )
            )
    return result


def urgent_advice_queryset(*, day: date):
    """Each time urgent-care advice was shown on a London day (reception's day view counts them)."""
    start, end = local_day_bounds(day)
    return UrgentAdvice.objects.filter(shown_at__gte=start, shown_at__lt=end)


def urgent_advice_count(*, day: date) -> int:
    return urgent_advice_queryset(day=day).count()
