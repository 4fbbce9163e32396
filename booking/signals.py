"""Calendar writes make cached availability stale (booking.slot_cache)."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import Booking, Practitioner, Service, TimeOff, WorkingHours
from .slot_cache import calendar_changed


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
