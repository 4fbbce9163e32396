"""Calendar signals.

Calendar writes make cached availability stale (booking.slot_cache: the services
say so themselves, the model signals here are a safety net for the admin); and
`slot_freed` tells higher apps (the waitlist) that time a patient could book
has come free: a cancellation, a move, a lapsed hold, time off removed, hours
extended. It is sent on commit, so a rolled-back action frees nothing.
`intake_scales_answered` hands the intake's outcome scales to the outcomes app.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.dispatch import Signal

from .models import Booking, Practitioner, Service, TimeOff, WorkingHours
from .slot_cache import calendar_changed_on_commit

log = logging.getLogger(__name__)

# kwargs: practitioner_id, start, end (aware datetimes; [start, end) came free).
slot_freed = Signal()

# The intake's two 0-10 scales were answered for a booking (the outcomes app records them as the visit's
# scores). kwargs: booking, leg_pain, activity_limit, actor, now. Sent inside the transaction that writes the
# booking or its intake, so the scores and the booking are kept together or not at all.
intake_scales_answered = Signal()


def slot_freed_on_commit(*, practitioner_id: int, start: datetime, end: datetime) -> None:
    def send():
        for receiver, result in slot_freed.send_robust(sender=Booking, practitioner_id=practitioner_id,
                                                       start=start, end=end):
            if isinstance(result, Exception):
                # The calendar change stands; a receiver's failure must not undo or hide it.
                log.error("slot_freed receiver %r failed", receiver, exc_info=result)

    transaction.on_commit(send)


def _changed(sender, **kwargs):
    calendar_changed_on_commit()


def connect() -> None:
    """A safety net for writes outside the services (the admin, a shell): the services clear the
    cache themselves (slot_cache.calendar_changed_on_commit), including for bulk writes, which send
    no signals. Practitioners, services, patients' names and payments are written here only."""
    for model in (Booking, TimeOff, WorkingHours, Practitioner, Service):
        post_save.connect(_changed, sender=model, dispatch_uid=f"slots-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"slots-delete-{model.__name__}")
    m2m_changed.connect(_changed, sender=Practitioner.services.through, dispatch_uid="slots-practitioner-services")
    # The staff day view (booking/staff/day_cache.py) also shows people's names and contacts and
    # what is still to pay: only a change to those makes it stale, not every save (a login saves
    # last_login; a checkout creates a pending payment).
    from django.contrib.auth import get_user_model

    # A new user is on no calendar yet; a new payment may already count as taken.
    watched: list[tuple[Any, Callable, bool]] = [
        (get_user_model(), _user_shown, False),
        (Booking._meta.get_field("payments").related_model, _payment_shown, True),
    ]
    for other, shown, new_shows in watched:
        post_init.connect(_remember_shown(shown), sender=other, dispatch_uid=f"calendar-shown-{other.__name__}", weak=False)
        post_save.connect(_changed_if_shown(shown, new_shows), sender=other, dispatch_uid=f"slots-save-{other.__name__}",
                          weak=False)


_SHOWN = "_calendar_shown"


def _user_shown(user) -> tuple | None:
    """What of a user the calendar shows (a patient's or practitioner's name, a patient's contacts).

    None: not known (a deferred field), so any save counts as a change.
    """
    values = user.__dict__  # never load a deferred field here
    if not all(name in values for name in ("first_name", "last_name", "email", "phone")):
        return None
    return values["first_name"], values["last_name"], values["email"], values["phone"]


def _payment_shown(payment) -> tuple | None:
    """The money a payment counts as taken towards its booking (as with_taken_pence sums it): the "due" badge."""
    values = payment.__dict__
    if not all(name in values for name in ("booking_id", "status", "amount_pence", "auto_refunded")):
        return None
    if values["status"] not in payment.PAID_STATUSES or values["auto_refunded"]:
        return ()
    return values["booking_id"], values["amount_pence"]


def _remember_shown(shown):
    def receiver(sender, instance, **kwargs):
        instance.__dict__[_SHOWN] = shown(instance)

    return receiver


def _changed_if_shown(shown, new_shows: bool):
    def receiver(sender, instance, created, **kwargs):
        before, now = () if created else instance.__dict__.get(_SHOWN), shown(instance)
        instance.__dict__[_SHOWN] = now
        if created and not new_shows:
            return
        if before is None or now is None or before != now:
            _changed(sender)

    return receiver
