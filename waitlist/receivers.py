"""Signal receivers: the booking core tells the waitlist what happened, the waitlist acts."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from booking.models import Booking
from booking.signals import slot_freed
from outbox.services import outbox_enqueue

from . import services


@receiver(slot_freed, dispatch_uid="waitlist-offer-freed-time")
def offer_freed_time(sender, *, practitioner_id, start, end, **kwargs):
    # Through the outbox: matching and offering run on a worker (in process without one), and are
    # retried if they fail, so a freed slot is never silently not offered.
    outbox_enqueue(task=services.waitlist_offer_freed_time,
                   kwargs={"practitioner_id": practitioner_id, "start": start, "end": end})


@receiver(post_save, sender=Booking, dispatch_uid="waitlist-booking-saved")
def booking_saved(sender, instance: Booking, update_fields=None, **kwargs):
    # Only a confirmation (booking_confirm saves status with update_fields) can end a wait.
    if instance.status == Booking.Status.CONFIRMED and update_fields and "status" in update_fields:
        services.waitlist_entry_booked(booking=instance)
