"""Calendar signals.

Calendar writes make cached availability stale (booking.slot_cache: the services
say so themselves, the model signals here are a safety net for the admin); and
`slot_freed` tells higher apps (the waitlist) that time a patient could book
has come free: a cancellation, a move, a lapsed hold, time off removed, hours
extended. It is sent on commit, so a rolled-back action frees nothing.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal

from .models import Booking, Practitioner, Service, TimeOff, WorkingHours
from .slot_cache import calendar_changed_on_commit

log = logging.getLogger(__name__)

# kwargs: practitioner_id, start, end (aware datetimes; [start, end) came free).
slot_freed = Signal()


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
    # The staff day view (booking/staff/day_cache.py) shows patients' names and what is still to pay.
    from django.contrib.auth import get_user_model

    post_save.connect(_changed, sender=get_user_model(), dispatch_uid="slots-save-user")
    payment = Booking._meta.get_field("payments").related_model
    post_save.connect(_changed, sender=payment, dispatch_uid="slots-save-payment")
