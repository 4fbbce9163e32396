from django.core.management.base import BaseCommand

from outbox.services import outbox_sweep


class Command(BaseCommand):
    help = "Queue (or, with no broker, run) every outbox row that is due and not done."

    def handle(self, *args, **options):
        count = outbox_sweep()
        self.stdout.write(f"{count} outbox task(s) queued")
