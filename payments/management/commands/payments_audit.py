from django.core.management.base import BaseCommand, CommandError

from payments.reconcile import payments_audit


class Command(BaseCommand):
    help = (
        "Compare every payment's captured and refunded amounts with the payment provider's and print "
        "each discrepancy. Exit status 1 when any exist (or the provider could not be asked), so cron "
        "can alert."
    )

    def handle(self, *args, **options):
        report = payments_audit()
        for discrepancy in report.discrepancies:
            self.stdout.write(f"DISCREPANCY {discrepancy}")
        self.stdout.write(
            f"checked {report.checked} payment(s): {len(report.discrepancies)} discrepancy(ies), "
            f"{report.unreachable} not checked (provider unreachable)"
        )
        if report.discrepancies or report.unreachable:
            raise CommandError("payments disagree with the provider" if report.discrepancies
                               else "the provider could not be asked about every payment", returncode=1)
