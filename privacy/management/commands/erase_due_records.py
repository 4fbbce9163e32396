from django.core.management.base import BaseCommand

from privacy.services import records_erase_due


class Command(BaseCommand):
    help = "Erase erased patients' kept records whose retention end date has passed (run daily; idempotent)."

    def handle(self, *args, **options):
        done = records_erase_due()
        self.stdout.write(
            f"Erased {done['bookings']} kept bookings, the payment records of {done['payments_records']} more, "
            f"and {done['patients']} anonymised patient accounts with nothing left."
        )
