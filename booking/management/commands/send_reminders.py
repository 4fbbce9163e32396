"""Email everyone whose confirmed booking starts in 24 to 26 hours, exactly once.

Safe from cron and from two runs at once: each booking is claimed with a
conditional UPDATE (reminder_sent_at IS NULL), so only one run can win it.
A send that fails un-claims the booking so the next run tries again.
"""

import logging
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from booking import notifications
from booking.models import Booking, BookingEvent

log = logging.getLogger(__name__)

WINDOW_START = timedelta(hours=24)
WINDOW_END = timedelta(hours=26)


def bookings_remind(*, now=None) -> list[int]:
    """Send the due reminders; return the ids reminded by this run."""
    now = now or timezone.now()
    due = Booking.objects.filter(
        status=Booking.Status.CONFIRMED,
        reminder_sent_at__isnull=True,
        start__gte=now + WINDOW_START,
        start__lt=now + WINDOW_END,
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
        BookingEvent.objects.create(
            booking=booking, action=BookingEvent.Action.REMINDER, from_status=booking.status,
            to_status=booking.status, reason="Reminder email sent.",
        )
        sent.append(pk)
    return sent


class Command(BaseCommand):
    help = "Email reminders for confirmed bookings starting in 24 to 26 hours (each booking once)."

    def handle(self, *args, **options):
        sent = bookings_remind()
        self.stdout.write(f"Sent {len(sent)} reminder(s).")
