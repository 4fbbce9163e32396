from django.core.management.base import BaseCommand

from payments.services import payments_reconcile


class Command(BaseCommand):
    help = (
        "Ask the payment provider about every payment still pending after --minutes and apply its "
        "answer (a missed webhook never loses a paid booking); retry refunds whose provider call "
        "failed. Idempotent: safe to run from cron every few minutes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=5, help="Only payments pending at least this long (default 5).")

    def handle(self, *args, **options):
        report = payments_reconcile(older_than_minutes=options["minutes"])
        self.stdout.write(
            f"applied {report.applied} checkout(s), sent {report.refunds_retried} refund(s), "
            f"{report.unreachable} provider call(s) failed (retried next run)"
        )
        if report.unreachable:
            self.stderr.write("some provider calls failed; see the log")
