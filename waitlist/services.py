"""The waitlist's actions: join, leave, offer a freed slot, accept an offer, expire.

An offer's hold is a real booking hold made by booking.services.booking_hold
(hold_minutes=WAITLIST_OFFER_MINUTES): availability, the practitioner lock and
PostgreSQL's exclusion constraint decide, exactly as for any booking, so a slot
is never held for two patients at once and never double-booked. When the hold
lapses, booking.services marks it expired and sends slot_freed, and the next
waiting patient is offered the time (receivers.offer_freed_time).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.clock import london_date
from common.actor import actor_or_none
from common.errors import DomainError
from booking import availability
from booking import services as booking_services
from booking.exceptions import InvalidSlot, SlotTaken, UnknownPractitioner
from booking.models import Booking, Practitioner, Service
from outbox.services import outbox_enqueue

from . import notifications
from .exceptions import InvalidWindow, NotWaiting, OfferGone
from .models import TIMES_OF_DAY, WaitlistEntry, WaitlistOffer

log = logging.getLogger(__name__)
Status = WaitlistEntry.Status


def _today(now: datetime) -> date:
    return london_date(now)


def waitlist_join(
    *,
    patient,
    service: Service,
    date_from: date,
    date_to: date,
    practitioner: Practitioner | None = None,
    weekdays: list[int] | None = None,
    times_of_day: list[str] | None = None,
    intake: dict | None = None,
    now: datetime | None = None,
) -> WaitlistEntry:
    now = now or timezone.now()
    today = _today(now)
    if not service.active or not service.bookable_online:
        raise InvalidWindow(f"{service.name} cannot be booked online.")
    if date_from < today:
        raise InvalidWindow("The first day cannot be in the past.")
    if date_to < date_from:
        raise InvalidWindow("The last day must be on or after the first.")
    if date_to > today + timedelta(days=settings.BOOKING_HORIZON_DAYS):
        raise InvalidWindow(f"Choose dates within the next {settings.BOOKING_HORIZON_DAYS} days.")
    weekdays = sorted(set(weekdays or []))
    if any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in weekdays):
        raise InvalidWindow("Days of the week are 0 (Monday) to 6 (Sunday).")
    times_of_day = sorted(set(times_of_day or []))
    if any(t not in TIMES_OF_DAY for t in times_of_day):
        raise InvalidWindow('Times of day are "morning" and "afternoon".')
    if practitioner is not None and not practitioner.offers(service):
        raise UnknownPractitioner(f"{practitioner.name} does not offer {service.name}.")
    # Red flags stop here too: nobody is put on a list who should be seeking urgent care.
    parsed = booking_services.parse_intake(service=service, intake=intake, required=True)
    return WaitlistEntry.objects.create(
        patient=patient, service=service, practitioner=practitioner, date_from=date_from, date_to=date_to,
        weekdays=weekdays, times_of_day=times_of_day, intake=parsed.as_dict() if parsed else {}, created_at=now,
    )


def _live_offer(entry: WaitlistEntry, now: datetime) -> WaitlistOffer | None:
    return next((o for o in entry.offers.all() if o.state(now) == "holding"), None)


@transaction.atomic
def waitlist_leave(*, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """Leave the list; a slot still held for this patient by an offer goes straight to the next one.

    Locks the held booking before the entry, the order booking_confirm takes them (its
    confirmation marks the entry booked), so the two can never deadlock.
    """
    now = now or timezone.now()
    entry = WaitlistEntry.objects.get(pk=entry.pk)
    if entry.status != Status.WAITING:
        return entry
    live = _live_offer(entry, now)
    if live is not None:
        booking_services.booking_release_hold(booking=live.booking, reason="Left the waitlist.")
    WaitlistEntry.objects.filter(pk=entry.pk, status=Status.WAITING).update(status=Status.LEFT, updated_at=now)
    entry.refresh_from_db()
    return entry


def waitlist_offer_make(
    *, entry: WaitlistEntry, practitioner: Practitioner, start: datetime, actor=None, now: datetime | None = None
) -> WaitlistOffer:
    """Hold a slot for a waiting patient and tell them (email, and SMS where they agreed).

    Raises SlotTaken (someone holds it), InvalidSlot (too soon, past), NotWaiting.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # No lock on the entry: booking_hold's practitioner lock and the database decide the slot, and the
        # unique (entry, practitioner, start) constraint stops a duplicate offer.
        entry = WaitlistEntry.objects.select_related("service", "patient").get(pk=entry.pk)
        if entry.status != Status.WAITING or entry.date_to < _today(now):
            raise NotWaiting()
        if WaitlistOffer.objects.filter(entry=entry, practitioner=practitioner, start=start).exists():
            raise NotWaiting("This patient has already been offered that time.")
        booking = booking_services.booking_hold(
            patient=entry.patient, service=entry.service, start=start, practitioner=practitioner,
            intake=entry.intake or None, actor=actor or entry.patient, source=Booking.Source.WAITLIST,
            hold_minutes=settings.WAITLIST_OFFER_MINUTES, now=now,
        )
        offer = WaitlistOffer.objects.create(
            entry=entry, practitioner=practitioner, start=start, booking=booking, offered_at=now,
            offered_by=actor_or_none(actor),
        )
        outbox_enqueue(task=notifications.send_offer, kwargs={"offer_id": offer.pk}, key=f"waitlist_offer:{offer.pk}")
    return offer


def waitlist_offer_accept(*, offer: WaitlistOffer, now: datetime | None = None) -> Booking:
    """The patient takes the offered time: their held booking, ready to pay.

    If the hold has lapsed, the first to come back still gets the time when it
    is free: a fresh hold through booking_hold, so two acceptances at once give
    one booking (the database decides); the other gets OfferGone.
    """
    now = now or timezone.now()
    offer = WaitlistOffer.objects.select_related("booking", "entry__service", "entry__patient").get(pk=offer.pk)
    state = offer.state(now)
    if state != "lapsed":
        return offer.booking
    if offer.entry.status not in (Status.WAITING, Status.BOOKED):
        raise NotWaiting()
    try:
        booking = booking_services.booking_hold(
            patient=offer.entry.patient, service=offer.entry.service, start=offer.start,
            practitioner=offer.practitioner, intake=offer.entry.intake or None, actor=offer.entry.patient,
            source=Booking.Source.WAITLIST, hold_minutes=settings.WAITLIST_OFFER_MINUTES, now=now,
        )
    except (SlotTaken, InvalidSlot) as refused:
        raise OfferGone() from refused
    WaitlistOffer.objects.filter(pk=offer.pk).update(booking=booking)
    return booking


def waitlist_entry_booked(*, booking: Booking) -> int:
    """A booking made from an offer was confirmed: its entry stops waiting."""
    return WaitlistEntry.objects.filter(offers__booking=booking, status=Status.WAITING).update(
        status=Status.BOOKED, updated_at=timezone.now()
    )


def waitlist_offer_freed_time(*, practitioner_id: int, start: datetime, end: datetime,
                              now: datetime | None = None) -> list[WaitlistOffer]:
    """Offer time that came free to waiting patients, first come first offered.

    Each matching entry (window, days, time of day, practitioner or any) that is
    not already holding an offer is offered the earliest free start in
    [start, end) it has not been offered before; the exact freed start first.
    """
    now = now or timezone.now()
    practitioner = Practitioner.objects.filter(pk=practitioner_id, active=True).first()
    if practitioner is None:
        return []
    first_day = _today(max(start, now))
    last_day = timezone.localtime(end - timedelta(microseconds=1), availability.LONDON).date()
    if last_day < first_day:
        return []
    entries = list(
        WaitlistEntry.objects.waiting(now)
        .filter(service__in=practitioner.services.filter(active=True, bookable_online=True),
                date_from__lte=last_day, date_to__gte=first_day)
        .filter(Q(practitioner__isnull=True) | Q(practitioner_id=practitioner_id))
        .select_related("service", "patient")
        .prefetch_related("offers__booking")
    )
    slots_by_service: dict[int, list] = {}
    taken: list[tuple[datetime, datetime]] = []
    made = []
    for entry in entries:
        if _live_offer(entry, now) is not None:
            continue  # one held slot per patient at a time
        if entry.service_id not in slots_by_service:
            slots = availability.free_slots(service=entry.service, date_from=first_day, date_to=last_day,
                                            practitioner_ids=[practitioner_id], now=now)
            slots_by_service[entry.service_id] = sorted(
                (s for s in slots if start <= s.start < end), key=lambda s: (s.start != start, s.start)
            )
        blocked = timedelta(minutes=entry.service.blocked_minutes)
        # A patient whose hold on this time lapsed is not offered it again, nor a start overlapping it.
        offered_before = [(o.start, o.start + blocked) for o in entry.offers.all() if o.practitioner_id == practitioner_id]
        for slot in slots_by_service[entry.service_id]:
            if not entry.matches(slot.local_start):
                continue
            if any(slot.start < t_end and t_start < slot.start + blocked for t_start, t_end in taken + offered_before):
                continue
            try:
                offer = waitlist_offer_make(entry=entry, practitioner=practitioner, start=slot.start, now=now)
            except DomainError as refused:
                log.info("waitlist entry %s not offered %s: %s", entry.pk, slot.start, refused.message)
                continue
            taken.append((slot.start, slot.start + blocked))
            made.append(offer)
            break
    return made


def waitlist_entries_expire(*, now: datetime | None = None) -> int:
    """Entries whose window is over expire (the scheduled tidy-up; matching already ignores them)."""
    now = now or timezone.now()
    return WaitlistEntry.objects.filter(status=Status.WAITING, date_to__lt=_today(now)).update(
        status=Status.EXPIRED, updated_at=now
    )
