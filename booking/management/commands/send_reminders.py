"""Email everyone whose confirmed booking starts in 24 to 26 hours, exactly once.

Safe from cron (every 15 minutes or hourly) and from two runs at once:
booking.services.bookings_remind claims each booking with a conditional UPDATE.
"""

from django.core.management.base import BaseCommand

from booking.services import bookings_remind


class Command(BaseCommand):
    help = "Email reminders for confirmed bookings starting in 24 to 26 hours (each booking once)."

    def handle(self, *args, **options):
        sent = bookings_remind()
        self.stdout.write(f"Sent {len(sent)} reminder(s).")
