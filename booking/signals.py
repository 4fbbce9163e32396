"""Calendar writes make cached availability stale (booking.slot_cache)."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import Booking, Practitioner, Service, TimeOff, WorkingHours
from .slot_cache import calendar_changed


def _changed(sender, **kwargs):
    # After commit: a reader must not cache the old state under the new version.
    transaction.on_commit(calendar_changed)


def connect() -> None:
    for model in (Booking, TimeOff, WorkingHours, Practitioner, Service):
        post_save.connect(_changed, sender=model, dispatch_uid=f"slots-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"slots-delete-{model.__name__}")
    m2m_changed.connect(_changed, sender=Practitioner.services.through, dispatch_uid="slots-practitioner-services")
