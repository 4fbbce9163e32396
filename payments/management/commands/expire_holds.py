from django.core.management.base import BaseCommand

from payments.reconcile import payments_expire_lapsed


class Command(BaseCommand):
    help = (
        "Expire lapsed holds (releasing their offer codes) and close their checkouts at the payment "
        "provider. Idempotent: safe to run from cron every few minutes."
    )

    def handle(self, *args, **options):
        report = payments_expire_lapsed()
        self.stdout.write(
            f"expired {report.expired_bookings} hold(s), closed {report.applied} checkout(s), "
            f"{report.unreachable} provider call(s) failed (retried next run)"
        )
