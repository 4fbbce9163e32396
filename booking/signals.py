"""Calendar signals.

Calendar writes make cached availability stale (booking.slot_cache); and
`slot_freed` tells higher apps (the waitlist) that time a patient could book
has come free: a cancellation, a move, a lapsed hold, time off removed, hours
extended. It is sent on commit, so a rolled-back action frees nothing.
`intake_scales_answered` hands the intake's outcome scales to the outcomes app.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal

from .models import Booking, Practitioner, Service, TimeOff, WorkingHours
from .slot_cache import calendar_changed

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
    # Now, so this transaction's own later reads (and a test's, which never
    # commits) see no answer cached before the write; and again after commit,
    # so a reader cannot keep the old state cached under the new version.
    calendar_changed()
    transaction.on_commit(calendar_changed)


def connect() -> None:
    for model in (Booking, TimeOff, WorkingHours, Practitioner, Service):
        post_save.connect(_changed, sender=model, dispatch_uid=f"slots-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"slots-delete-{model.__name__}")
    m2m_changed.connect(_changed, sender=Practitioner.services.through, dispatch_uid="slots-practitioner-services")
    # The staff day view (booking/staff/day_cache.py) shows patients' names and what is still to pay.
    from django.contrib.auth import get_user_model

    post_save.connect(_changed, sender=get_user_model(), dispatch_uid="slots-save-user")
    payment = Booking._meta.get_field("payments").related_model
    post_save.connect(_changed, sender=payment, dispatch_uid="slots-save-payment")
