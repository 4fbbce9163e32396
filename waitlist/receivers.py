"""Signal receivers: the booking core tells the waitlist what happened, the waitlist acts."""

from booking.models import Booking
from outbox.services import outbox_enqueue

from . import services


def offer_freed_time(sender, *, practitioner_id, start, end, **kwargs):
    # Through the outbox: matching and offering run on a worker (in process without one), and are
    # retried if they fail, so a freed slot is never silently not offered.
    outbox_enqueue(task=services.waitlist_offer_freed_time,
                   kwargs={"practitioner_id": practitioner_id, "start": start, "end": end})


def booking_saved(sender, instance: Booking, update_fields=None, **kwargs):
    # Only a confirmation (booking_confirm saves status with update_fields) can end a wait.
    if instance.status == Booking.Status.CONFIRMED and update_fields and "status" in update_fields:
        services.waitlist_entry_booked(booking=instance)
