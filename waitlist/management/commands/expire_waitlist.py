from django.core.management.base import BaseCommand

from waitlist.services import waitlist_entries_expire


class Command(BaseCommand):
    help = "Mark waitlist entries whose window is over as expired (idempotent; run daily or more often)."

    def handle(self, *args, **options):
        count = waitlist_entries_expire()
        self.stdout.write(f"{count} waitlist entr{'y' if count == 1 else 'ies'} expired.")
