"""The only place that writes bookings: one function per business action.

Concurrency: every action locks in one order, so two actions never deadlock:
an online hold locks its patient's row first (the live-holds cap), then
the practitioner row (SELECT ... FOR UPDATE on PostgreSQL), then an
existing booking, then its offer code and payment rows. (booking_hold locks
the offer code before inserting its booking, which no one else can hold yet.) On PostgreSQL the
exclusion constraint booking_no_overlap_per_practitioner is the last word; on
SQLite the IMMEDIATE transaction mode (settings) serialises writers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from common.actor import actor_or_none
from config.throttling import rate_limit_hit
from offers import services as offers
from offers.throttles import VALIDATE_USER
from outbox.services import outbox_enqueue

from . import availability, notifications, policy
from .exceptions import (
    InsidePolicyWindow,
    IntakeRequired,
    InvalidSlot,
    InvalidStatusChange,
    NotCancellable,
    NotReschedulable,
    ServiceNotBookable,
    SlotLost,
    SlotTaken,
    UrgentCareNeeded,
    TooManyHolds,
)
from .intake import URGENT_CALL_FLAG, Intake, urgent_signs_in
from .models import Booking, BookingEvent, Practitioner, Service, UrgentAdvice
from .signals import intake_scales_answered, slot_freed_on_commit
from .slot_cache import calendar_changed_on_commit

Status = Booking.Status
# Holds made through the patient's own pages and API, and the clinic's waitlist offers: the online rules of the
# slot apply (bookable online, notice, intake). Only ONLINE holds are the patient's own (their limits).
ONLINE_SOURCES = (Booking.Source.ONLINE, Booking.Source.WAITLIST)
# Attempts to hold a slot per account (REST_FRAMEWORK's DEFAULT_THROTTLE_RATES, THROTTLE_BOOKING_CREATE).
BOOKING_CREATE = "booking_create"
log = logging.getLogger(__name__)


def _log(booking: Booking, action: str, *, actor=None, from_status: str = "", reason: str = "", **data) -> BookingEvent:
    return BookingEvent.objects.create(
        booking=booking,
        actor=actor_or_none(actor),
        action=action,
        from_status=from_status,
        to_status=booking.status,
        reason=reason,
        data=data,
    )


def _lock_practitioners(*practitioner_ids: int) -> None:
    """Row locks in ascending id order, so two actions cannot deadlock."""
    for pid in sorted(set(practitioner_ids)):
        Practitioner.objects.select_for_update().filter(pk=pid).values_list("pk", flat=True).get()


def _lock_booking(booking: Booking) -> Booking:
    return Booking.objects.select_for_update(of=("self",)).select_related("service", "practitioner__user", "patient").get(
        pk=booking.pk
    )


def _expire_lapsed_holds(
    *, practitioner_id: int, start: datetime, end: datetime, now: datetime, keep: Booking | None = None
) -> None:
    """Mark lapsed holds in the way expired, so the exclusion constraint lets the new booking in.

    The practitioner is matched in Python on purpose: lapsed holds are few
    (expire_holds runs every few minutes), and with practitioner_id in the
    WHERE SQLite picks the (practitioner, start) index and walks all of that
    practitioner's past bookings (7 ms at 100,000) instead of (status, hold_expires_at).
    """
    lapsed = Booking.objects.holds_lapsed(now).overlapping(start, end)
    if keep is not None:
        lapsed = lapsed.exclude(pk=keep.pk)
    for booking in lapsed:
        if booking.practitioner_id == practitioner_id:
            _expire(booking, now=now)


def _expire(booking: Booking, *, now: datetime, reason: str = "Hold lapsed unpaid.") -> None:
    booking.status = Status.EXPIRED
    booking.save(update_fields=["status", "updated_at"])
    calendar_changed_on_commit()
    offers.offer_code_release(booking=booking)
    _log(booking, BookingEvent.Action.EXPIRED, from_status=Status.HELD, reason=reason)
    slot_freed_on_commit(practitioner_id=booking.practitioner_id, start=booking.start, end=booking.blocks_until)


def _check_start(*, start: datetime, now: datetime, enforce_notice: bool) -> None:
    if timezone.is_naive(start):
        raise InvalidSlot("Give the start time with a UTC offset.")
    local = timezone.localtime(start, availability.LONDON)
    step = settings.BOOKING_SLOT_MINUTES
    if local.second or local.microsecond or local.minute % step:
        raise InvalidSlot(f"Start times are on the hour and every {step} minutes after it.")
    if start <= now:
        raise InvalidSlot("That time has already passed.")
    if enforce_notice:
        if start < now + timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES):
            hours = settings.BOOKING_MIN_NOTICE_MINUTES / 60
            raise InvalidSlot(f"Online bookings need at least {hours:g} hours' notice. "
                              f"Please call us on {settings.CLINIC_PHONE} for sooner.")
        if start > now + timedelta(days=settings.BOOKING_HORIZON_DAYS):
            raise InvalidSlot(f"Bookings open {settings.BOOKING_HORIZON_DAYS} days ahead.")


def _utc(start: datetime) -> datetime:
    """The start in UTC, so that adding minutes is real elapsed time.

    Python adds a timedelta to a London-aware datetime on the wall clock: 00:45
    BST on the fall-back night + 75 minutes would read 02:00 GMT, 135 real
    minutes later, and across the spring-forward gap the end could land before
    the start's own buffer.
    """
    return start.astimezone(UTC)


def _slot_taken(*, service: Service, start: datetime, practitioner: Practitioner | None, now: datetime, enforce_notice: bool):
    return SlotTaken(
        alternatives=availability.nearest_free(
            service=service, start=start, practitioner=practitioner, now=now, enforce_notice=enforce_notice
        )
    )


def _candidates(*, service: Service, start: datetime, practitioner: Practitioner | None, now: datetime, enforce_notice: bool):
    """Practitioners to try, in lock order. For "any", only those free at that time.

    A named practitioner is checked (active, offers the service) once locked,
    by _lock_practitioner_for, to save a round trip.
    """
    if practitioner is not None:
        return [practitioner.pk]
    day = timezone.localtime(start, availability.LONDON).date()
    free = availability.free_slots(
        service=service, date_from=day, date_to=day, now=now, enforce_notice=enforce_notice, every_reading=True
    )
    return sorted({slot.practitioner_id for slot in free if slot.start == start})


def _lock_practitioner_for(pid: int, service: Service) -> Practitioner:
    """Lock the practitioner row and load it with its user, in one query; refuse if they do not offer the service."""
    offers_it = Exists(Practitioner.objects.offering(service).filter(pk=OuterRef("pk")))
    chosen = (
        Practitioner.objects.select_for_update(of=("self",))
        .select_related("user")
        .annotate(offers_service=offers_it)
        .get(pk=pid)
    )
    if not chosen.offers_service:
        raise InvalidSlot(f"{chosen.name} does not offer {service.name}.")
    return chosen


def _is_overlap_refusal(error: IntegrityError) -> bool:
    return "booking_no_overlap_per_practitioner" in str(error)


@transaction.atomic
def urgent_advice_record(
    *, signs: list[str], source: str, booking: Booking | None = None, now: datetime | None = None
) -> UrgentAdvice:
    """Record that urgent-care advice was shown (for the clinical lead's audit)."""
    return UrgentAdvice.objects.create(shown_at=now or timezone.now(), signs=list(signs), source=source, booking=booking)


def intake_screen(*, data, source: str) -> None:
    """Urgent signs first: raise UrgentCareNeeded (and record it) if any cauda equina
    sign is answered yes in the raw answers, before anything else is checked or written."""
    signs = urgent_signs_in(data)
    if signs:
        urgent_advice_record(signs=signs, source=source)
        raise UrgentCareNeeded(signs=signs)


def booking_intake_answer(*, booking: Booking, data, actor=None) -> Booking:
    """A phone-booked patient answers the intake through their link.

    Urgent signs first: the booking is flagged for reception to call the patient
    at once, the advice is recorded, and UrgentCareNeeded is raised once that is
    committed. Otherwise the answers are checked (InvalidIntake) and saved, with
    the clinical flags they raise.
    """
    booking_intake_screen(booking=booking, data=data, actor=actor)
    intake = Intake.from_dict(data)
    return _intake_save(booking=booking, intake=intake, actor=actor)


def booking_intake_screen(*, booking: Booking, data, actor=None) -> None:
    """Urgent signs in a phone booking's intake answers, complete or not: flag the booking for a
    call, record the advice, then raise UrgentCareNeeded (after the commit)."""
    signs = urgent_signs_in(data)
    if signs:
        _intake_flag_urgent(booking=booking, signs=signs, actor=actor)
        raise UrgentCareNeeded(signs=signs)


@transaction.atomic
def _intake_flag_urgent(*, booking: Booking, signs: list[str], actor) -> None:
    booking = _lock_booking(booking)
    if URGENT_CALL_FLAG not in booking.flags:
        booking.flags = [URGENT_CALL_FLAG, *booking.flags]
        booking.save(update_fields=["flags", "updated_at"])
        calendar_changed_on_commit()
    urgent_advice_record(signs=signs, source=UrgentAdvice.Source.INTAKE_LINK, booking=booking)
    _log(booking, BookingEvent.Action.NOTE, actor=actor, from_status=booking.status,
         reason="Urgent signs answered in the intake link: call the patient now.", signs=signs)


@transaction.atomic
def _intake_save(*, booking: Booking, intake: Intake, actor) -> Booking:
    booking = _lock_booking(booking)
    booking.intake = intake.as_dict()
    booking.flags = [*booking.flags, *(f for f in intake.flags() if f not in booking.flags)]
    booking.save(update_fields=["intake", "flags", "updated_at"])
    calendar_changed_on_commit()
    _log(booking, BookingEvent.Action.NOTE, actor=actor, from_status=booking.status,
         reason="Intake answered through the intake link.")
    _scales_answered(booking=booking, intake=intake, actor=actor, now=timezone.now())
    return booking


def _scales_answered(*, booking: Booking, intake: Intake | None, actor, now: datetime) -> None:
    """Hand the intake's 0-10 scales, when answered, to whoever records them (the outcomes app)."""
    scales = intake.scales() if intake else None
    if scales:
        intake_scales_answered.send(sender=Booking, booking=booking, actor=actor, now=now, **scales)


def parse_intake(*, service: Service, intake: dict | Intake | None, required: bool) -> Intake | None:
    """Check the intake before anything is written; red flags stop here (UrgentCareNeeded)."""
    if intake is None or intake == {}:
        if service.is_first_session and required:
            raise IntakeRequired()
        return None
    parsed = intake if isinstance(intake, Intake) else Intake.from_dict(intake)
    parsed.check_safe_to_book()
    return parsed


def booking_hold(
    *,
    patient,
    service: Service,
    start: datetime,
    practitioner: Practitioner | None = None,
    offer_code: str | None = None,
    intake: dict | Intake | None = None,
    source: str = Booking.Source.ONLINE,
    actor=None,
    hold_minutes: int | None = None,
    now: datetime | None = None,
) -> Booking:
    """Reserve a slot for a patient while they pay (status held).

    Online (the patient's own pages and API) the limits apply here, so every way
    in shares them: attempts per account (THROTTLE_BOOKING_CREATE), a code tried
    here counts against the offer-code guessing budget (THROTTLE_OFFER_VALIDATE_USER),
    and at most BOOKING_MAX_LIVE_HOLDS unpaid holds at once. The desk (source
    phone or desk) is exempt: reception books for many patients. A waitlist offer
    (source waitlist) follows the online rules of the slot (bookable online, notice,
    intake) but is the clinic's offer, not the patient's attempt: no patient limit
    applies to it, and it never counts toward their cap (_check_live_holds).
    """
    now = now or timezone.now()
    if source == Booking.Source.ONLINE:
        rate_limit_hit(scope=BOOKING_CREATE, ident=f"user:{patient.pk}")
        if offer_code:
            rate_limit_hit(scope=VALIDATE_USER, ident=str(patient.pk))
    try:
        return _hold(
            patient=patient, service=service, start=start, practitioner=practitioner, offer_code=offer_code,
            intake=intake, source=source, actor=actor, hold_minutes=hold_minutes, now=now,
        )
    except IntegrityError as error:
        # PostgreSQL's exclusion constraint: the practitioner lock makes this
        # rare, but the database has the last word. The transaction (or its
        # savepoint, inside a caller's) is rolled back by now, so the
        # alternatives can be read.
        if not _is_overlap_refusal(error):
            raise
        raise _slot_taken(service=service, start=start, practitioner=practitioner, now=now,
                          enforce_notice=source in ONLINE_SOURCES)


def booking_hold_is_live(booking_id: int, now: datetime) -> bool:
    """Does this booking still block its time (a live hold, or confirmed/attended)? Offers asks it
    of a code's holder (provided to offers.services in booking.apps).

    Reads the booking with its own query rather than through a join, so that
    after waiting on the code's row lock it sees the booking that the other
    transaction just committed.
    """
    holder = Booking.objects.filter(pk=booking_id).first()
    return holder is not None and holder.is_blocking(now)


def _check_live_holds(*, patient, now: datetime) -> None:
    """Lock the patient's row (first, before any practitioner: two holds by one patient queue
    here) and refuse a hold beyond the cap of live unpaid ones. The one home of what counts:
    every live unpaid hold of the patient's except the clinic's waitlist offers."""
    limit = settings.BOOKING_MAX_LIVE_HOLDS
    get_user_model().objects.select_for_update().filter(pk=patient.pk).first()
    live = Booking.objects.awaiting_payment(now).filter(patient=patient).exclude(source=Booking.Source.WAITLIST).count()
    if live >= limit:
        raise TooManyHolds(limit=limit)


@transaction.atomic
def _hold(*, patient, service, start, practitioner, offer_code, intake, source, actor, hold_minutes, now) -> Booking:
    online = source in ONLINE_SOURCES
    if not service.active or (online and not service.bookable_online):
        raise ServiceNotBookable()
    if source == Booking.Source.ONLINE:
        _check_live_holds(patient=patient, now=now)
    _check_start(start=start, now=now, enforce_notice=online)
    start = _utc(start)
    parsed_intake = parse_intake(service=service, intake=intake, required=online)

    end = start + timedelta(minutes=service.duration)
    blocks_until = start + timedelta(minutes=service.blocked_minutes)
    candidate_ids = _candidates(service=service, start=start, practitioner=practitioner, now=now, enforce_notice=online)
    if not candidate_ids:
        raise _slot_taken(service=service, start=start, practitioner=practitioner, now=now, enforce_notice=online)

    for pid in candidate_ids:
        chosen = _lock_practitioner_for(pid, service)
        _expire_lapsed_holds(practitioner_id=pid, start=start, end=blocks_until, now=now)
        if availability.is_free(service=service, practitioner=chosen, start=start, now=now, enforce_notice=online):
            break
    else:
        raise _slot_taken(service=service, start=start, practitioner=practitioner, now=now, enforce_notice=online)

    quote = None
    if offer_code:
        quote = offers.offer_code_reserve(code_text=offer_code, patient=patient, service=service, now=now)
    discount = quote.discount_pence if quote else 0
    minutes = hold_minutes or settings.BOOKING_HOLD_MINUTES
    # No savepoint around the insert: an exclusion-constraint refusal rolls the
    # whole hold back and booking_hold turns it into SlotTaken.
    booking = Booking.objects.create(
        patient=patient,
        practitioner=chosen,
        service=service,
        start=start,
        end=end,
        blocks_until=blocks_until,
        status=Status.HELD,
        hold_expires_at=now + timedelta(minutes=minutes),
        price_pence=service.price_pence,
        discount_pence=discount,
        amount_due_pence=service.price_pence - discount,
        offer_code=quote.code if quote else None,
        intake=parsed_intake.as_dict() if parsed_intake else {},
        flags=parsed_intake.flags() if parsed_intake else [],
        source=source,
        created_by=actor_or_none(actor),
    )
    calendar_changed_on_commit()
    if quote:
        offers.offer_code_attach(code=quote.code, booking=booking)
    assert booking.hold_expires_at is not None  # set just above: every hold has its expiry
    _log(booking, BookingEvent.Action.HELD, actor=actor or patient, reason=f"Booked {source}.",
         hold_expires_at=booking.hold_expires_at.isoformat())
    _scales_answered(booking=booking, intake=parsed_intake, actor=actor or patient, now=now)
    return booking


@transaction.atomic
def booking_confirm(*, booking: Booking, actor=None, reason: str = "", now: datetime | None = None) -> Booking:
    """Payment is in (Stripe's word, or paid at the clinic): the booking is confirmed.

    Idempotent: confirming a confirmed booking changes nothing. A payment that
    lands after the hold lapsed confirms if the slot is still free, else raises
    SlotLost so the payment side can refund it.
    """
    now = now or timezone.now()
    _lock_practitioners(booking.practitioner_id)
    booking = _lock_booking(booking)
    if booking.status in (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW):
        return booking
    previous = booking.status
    lapsed = booking.status in (Status.EXPIRED, Status.CANCELLED) or booking.hold_lapsed(now)
    if lapsed:
        _expire_lapsed_holds(
            practitioner_id=booking.practitioner_id, start=booking.start, end=booking.blocks_until, now=now,
            keep=booking,
        )
        clash = (
            Booking.objects.blocking(now)
            .filter(practitioner_id=booking.practitioner_id)
            .overlapping(booking.start, booking.blocks_until)
            .exclude(pk=booking.pk)
            .exists()
        )
        from .models import TimeOff

        blocked = TimeOff.objects.filter(
            practitioner_id=booking.practitioner_id, start__lt=booking.blocks_until, end__gt=booking.start
        ).exists()
        if clash or blocked:
            raise SlotLost()
    booking.status = Status.CONFIRMED
    booking.hold_expires_at = None
    try:
        with transaction.atomic():
            booking.save(update_fields=["status", "hold_expires_at", "updated_at"])
    except IntegrityError:
        raise SlotLost()
    calendar_changed_on_commit()
    offers.offer_code_redeem(booking=booking, now=now)
    _log(booking, BookingEvent.Action.CONFIRMED, actor=actor, from_status=previous, reason=reason)
    outbox_enqueue(task=notifications.send_booking_confirmed, kwargs={"booking_id": booking.pk}, key=f"booking_confirmed:{booking.pk}")
    return booking


def refund_due(*, booking: Booking, now: datetime) -> bool:
    """The patient's policy: free cancellation with full refund up to BOOKING_FREE_CANCEL_HOURS before."""
    return not policy.inside_policy_window(start=booking.start, now=now)


def _still_open(booking: Booking, now: datetime) -> bool:
    """Held (with its hold unexpired) or confirmed: the bookings a patient can still change."""
    return booking.status == Status.CONFIRMED or booking.awaiting_payment(now)


def _status_word(booking: Booking, now: datetime) -> str:
    """"confirmed", "expired", "no-show": the shown status in a sentence (a lapsed hold reads expired)."""
    shown = booking.shown_status(now)
    return "expired" if shown == Status.EXPIRED else Status(shown).label.lower()


def check_cancellable(*, booking: Booking, now: datetime, by_staff: bool = False) -> None:
    """Raise NotCancellable if this booking cannot be cancelled now. Pages ask it to show the button."""
    if not _still_open(booking, now):
        raise NotCancellable(f"This booking is {_status_word(booking, now)} and cannot be cancelled.")
    if booking.start <= now and not by_staff:
        raise NotCancellable("This appointment has already started.")


def check_movable(*, booking: Booking, now: datetime, by_staff: bool = False) -> None:
    """Raise NotReschedulable or InsidePolicyWindow if this booking cannot be moved now."""
    if not _still_open(booking, now) or (booking.start <= now and not by_staff):
        raise NotReschedulable(f"This booking is {_status_word(booking, now)} and cannot be moved.")
    if not by_staff and not refund_due(booking=booking, now=now):
        raise InsidePolicyWindow(
            f"Bookings cannot be moved online less than {settings.BOOKING_FREE_CANCEL_HOURS} hours before they start. "
            f"Please call the clinic on {settings.CLINIC_PHONE}."
        )


@dataclass(frozen=True)
class Cancellation:
    """What booking_cancel_record did: the money side (payments.services.booking_cancel) acts on it."""

    booking: Booking
    previous_status: str
    refund_pence: int


def booking_lock(*, booking: Booking) -> Booking:
    """The booking's row, locked (lock order: practitioner, offer code, booking, then its payments)."""
    return _lock_booking(booking)


def booking_cancel_record(
    *,
    booking: Booking,
    paid_pence: int,
    actor=None,
    reason: str = "",
    refund_pence: int | None = None,
    by_staff: bool = False,
    now: datetime | None = None,
) -> Cancellation:
    """Booking's half of a cancellation: the checks, the status, the offer code, the log, the email.

    Call it through payments.services.booking_cancel, which passes what was paid
    (under the booking's lock) and then refunds what this decided. refund_pence:
    None applies the patient policy (all that was paid outside the window, none
    inside); reception may pass any amount (payments checks it against what was
    paid) and must give a reason.
    """
    now = now or timezone.now()
    booking = _lock_booking(booking)
    check_cancellable(booking=booking, now=now, by_staff=by_staff)
    if by_staff and not reason.strip():
        raise NotCancellable("Give a reason for cancelling.", errors={"reason": "A reason is required."})
    previous = booking.status
    if refund_pence is None:
        refund_pence = paid_pence if refund_due(booking=booking, now=now) else 0
    booking.status = Status.CANCELLED
    booking.hold_expires_at = None
    booking.save(update_fields=["status", "hold_expires_at", "updated_at"])
    calendar_changed_on_commit()
    offers.offer_code_release(booking=booking)
    _log(booking, BookingEvent.Action.CANCELLED, actor=actor, from_status=previous, reason=reason,
         refund_pence=refund_pence)
    outbox_enqueue(task=notifications.send_booking_cancelled,
                   kwargs={"booking_id": booking.pk, "refund_pence": refund_pence, "by_clinic": by_staff, "reason": reason},
                   key=f"booking_cancelled:{booking.pk}")
    slot_freed_on_commit(practitioner_id=booking.practitioner_id, start=booking.start, end=booking.blocks_until)
    return Cancellation(booking=booking, previous_status=previous, refund_pence=refund_pence)


@transaction.atomic
def booking_reschedule(
    *,
    booking: Booking,
    start: datetime,
    practitioner: Practitioner | None = None,
    actor=None,
    reason: str = "",
    by_staff: bool = False,
    now: datetime | None = None,
) -> Booking:
    """Move a booking, keeping its payment. The new slot is taken before the old one is freed:
    one UPDATE of the row, checked by the same lock and constraint as a new hold."""
    now = now or timezone.now()
    current = Booking.objects.get(pk=booking.pk)
    target = practitioner or current.practitioner
    _lock_practitioners(current.practitioner_id, target.pk)
    booking = _lock_booking(current)
    check_movable(booking=booking, now=now, by_staff=by_staff)
    _check_start(start=start, now=now, enforce_notice=not by_staff)
    start = _utc(start)
    if not target.offers(booking.service):
        raise InvalidSlot(f"{target.name} does not offer {booking.service.name}.")
    service = booking.service
    blocks_until = start + timedelta(minutes=service.blocked_minutes)
    _expire_lapsed_holds(practitioner_id=target.pk, start=start, end=blocks_until, now=now)
    if not availability.is_free(
        service=service, practitioner=target, start=start, now=now, enforce_notice=not by_staff,
        exclude_booking_id=booking.pk,
    ):
        raise _slot_taken(service=service, start=start, practitioner=practitioner, now=now, enforce_notice=not by_staff)
    old_start, old_practitioner, old_until = booking.start, booking.practitioner, booking.blocks_until
    booking.start = start
    booking.end = start + timedelta(minutes=service.duration)
    booking.blocks_until = blocks_until
    booking.practitioner = target
    booking.reminder_sent_at = None
    try:
        with transaction.atomic():
            booking.save(update_fields=["start", "end", "blocks_until", "practitioner", "reminder_sent_at", "updated_at"])
    except IntegrityError:
        raise _slot_taken(service=service, start=start, practitioner=practitioner, now=now, enforce_notice=not by_staff)
    calendar_changed_on_commit()
    _log(booking, BookingEvent.Action.RESCHEDULED, actor=actor, from_status=booking.status, reason=reason,
         old_start=old_start.isoformat(), new_start=start.isoformat(),
         old_practitioner=old_practitioner.pk, new_practitioner=target.pk)
    outbox_enqueue(task=notifications.send_booking_rescheduled, kwargs={"booking_id": booking.pk, "old_start": old_start})
    slot_freed_on_commit(practitioner_id=old_practitioner.pk, start=old_start, end=old_until)
    return booking


@transaction.atomic
def booking_expire(*, booking: Booking, now: datetime | None = None) -> bool:
    """Mark one lapsed hold expired and release its offer code. False if it no longer applies."""
    now = now or timezone.now()
    booking = _lock_booking(booking)
    if not booking.hold_lapsed(now):
        return False
    _expire(booking, now=now)
    return True


@transaction.atomic
def booking_release_hold(*, booking: Booking, reason: str) -> bool:
    """End a hold before its time (the checkout expired or was abandoned)."""
    booking = _lock_booking(booking)
    if booking.status != Status.HELD:
        return False
    _expire(booking, now=timezone.now(), reason=reason)
    return True


def bookings_expire_lapsed(*, now: datetime | None = None) -> list[Booking]:
    """Expire every lapsed hold; safe to run often and concurrently."""
    now = now or timezone.now()
    expired = []
    for booking in Booking.objects.holds_lapsed(now):
        if booking_expire(booking=booking, now=now):
            expired.append(booking)
    return expired


def check_arrival_open(*, booking: Booking, now: datetime) -> None:
    """Raise InvalidStatusChange before ARRIVAL_WINDOW_MINUTES ahead of the start. Pages ask it to show the button."""
    opens = booking.start - timedelta(minutes=settings.ARRIVAL_WINDOW_MINUTES)
    if now < opens:
        raise InvalidStatusChange(
            f"A patient can be marked arrived from {settings.ARRIVAL_WINDOW_MINUTES} minutes before the start "
            f"({timezone.localtime(opens, availability.LONDON):%H:%M})."
        )


# Keyed by the action's value: callers pass plain strings (a str enum member hashes as its value).
_MARKS: dict[str, tuple[tuple[str, str], str]] = {
    # action: (allowed from, new status)
    BookingEvent.Action.ATTENDED: ((Status.CONFIRMED, Status.NO_SHOW), Status.ATTENDED),
    BookingEvent.Action.NO_SHOW: ((Status.CONFIRMED, Status.ATTENDED), Status.NO_SHOW),
}
MARK_ACTIONS = (BookingEvent.Action.ARRIVED, *_MARKS)


def check_markable(*, booking: Booking, action: str, now: datetime) -> None:
    """Raise InvalidStatusChange unless reception may mark this booking `action` now. Pages ask it to show buttons."""
    if action == BookingEvent.Action.ARRIVED:
        if booking.status != Status.CONFIRMED:
            raise InvalidStatusChange("Only a confirmed booking can be marked arrived.")
        if booking.arrived_at is not None:
            raise InvalidStatusChange(
                f"Already marked arrived at {timezone.localtime(booking.arrived_at, availability.LONDON):%H:%M}."
            )
        check_arrival_open(booking=booking, now=now)
        return
    if action not in _MARKS:
        raise InvalidStatusChange("Choose arrived, attended or no-show.")
    allowed, _ = _MARKS[action]
    if booking.status not in allowed:
        raise InvalidStatusChange(
            f"A {booking.get_status_display().lower()} booking cannot be marked {BookingEvent.Action(action).label.lower()}."
        )
    if booking.start > now:
        raise InvalidStatusChange("This appointment has not started yet.")


def booking_allowed_marks(*, booking: Booking, now: datetime) -> list[str]:
    """The mark actions (arrived, attended, no_show) check_markable allows now, in that order."""
    allowed = []
    for action in MARK_ACTIONS:
        try:
            check_markable(booking=booking, action=action, now=now)
        except InvalidStatusChange:
            continue
        allowed.append(str(action))
    return allowed


@transaction.atomic
def booking_mark(*, booking: Booking, action: str, actor, reason: str = "", now: datetime | None = None) -> Booking:
    """Reception marks a booking arrived, attended or no-show."""
    now = now or timezone.now()
    booking = _lock_booking(booking)
    check_markable(booking=booking, action=action, now=now)
    if action == BookingEvent.Action.ARRIVED:
        booking.arrived_at = now
        booking.save(update_fields=["arrived_at", "updated_at"])
        calendar_changed_on_commit()
        _log(booking, action, actor=actor, from_status=booking.status, reason=reason)
        return booking
    previous = booking.status
    booking.status = _MARKS[action][1]
    booking.save(update_fields=["status", "updated_at"])
    calendar_changed_on_commit()
    _log(booking, action, actor=actor, from_status=previous, reason=reason)
    return booking


def booking_note(*, booking: Booking, actor, reason: str) -> BookingEvent:
    """Something reception did about a booking without changing it (e.g. asked the patient to rebook)."""
    return _log(booking, BookingEvent.Action.NOTE, actor=actor, from_status=booking.status, reason=reason)


REMINDER_WINDOW_START = timedelta(hours=24)
REMINDER_WINDOW_END = timedelta(hours=26)


def bookings_remind(*, now: datetime | None = None) -> list[int]:
    """Email each confirmed booking starting in 24-26 hours, once: a conditional UPDATE
    on reminder_sent_at claims it, so two concurrent runs cannot both send; a send
    that fails un-claims it for the next run. Returns the ids reminded by this run."""
    now = now or timezone.now()
    due = Booking.objects.filter(
        status=Booking.Status.CONFIRMED,
        reminder_sent_at__isnull=True,
        start__gte=now + REMINDER_WINDOW_START,
        start__lt=now + REMINDER_WINDOW_END,
    ).values_list("pk", flat=True)
    sent = []
    for pk in list(due):
        claimed = Booking.objects.filter(
            pk=pk, status=Booking.Status.CONFIRMED, reminder_sent_at__isnull=True
        ).update(reminder_sent_at=now)
        if not claimed:
            continue  # another run got there first
        booking = Booking.objects.select_related("service", "practitioner__user", "patient").get(pk=pk)
        try:
            notifications.send_booking_reminder(booking)
        except Exception:
            log.exception("reminder for booking %s failed; it will be retried", pk)
            Booking.objects.filter(pk=pk, reminder_sent_at=now).update(reminder_sent_at=None)
            continue
        _log(booking, BookingEvent.Action.REMINDER, from_status=booking.status, reason="Reminder email sent.")
        sent.append(pk)
    return sent
