from django.core.management.base import BaseCommand

from payments.reconcile import payments_reconcile


class Command(BaseCommand):
    help = (
        "Ask the payment provider about everything whose state there can still change and apply its "
        "answer: checkouts pending after --minutes (at once for cancelled or lapsed bookings, whose open "
        "sessions are expired), checkouts marked expired in the last 25 hours, refunds unsent, pending or "
        "failed (retried), refund totals ahead of our rows. Idempotent: safe to run from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=5, help="Only payments pending at least this long (default 5).")

    def handle(self, *args, **options):
        report = payments_reconcile(older_than_minutes=options["minutes"])
        self.stdout.write(
            f"applied {report.applied} checkout(s), sent {report.refunds_retried} refund(s), "
            f"{report.unreachable} provider call(s) failed (retried next run), "
            f"{report.refused} checkout(s) unknown at the provider (listed for reception)"
        )
        if report.unreachable:
            self.stderr.write("some provider calls failed; see the log")
