"""Money in and out, by payment method, from the payments ledger (Payment and Refund rows).

The one place reports read amounts: if the ledger's shape changes (refund
rows keyed by Stripe refund id, issue 11), only this module follows.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Sum
from django.db.models.functions import Coalesce

from payments.models import Payment, Refund


def taken_by_method(*, start: datetime, end: datetime) -> dict[str, int]:
    """Pence captured in [start, end), by method: payments that succeeded (refunded later or not)."""
    rows = (
        Payment.objects.annotate(taken_at=Coalesce("paid_at", "created_at"))
        .filter(status__in=Payment.PAID_STATUSES, taken_at__gte=start, taken_at__lt=end)
        .values("method")
        .annotate(total=Sum("amount_pence"))
        .order_by()
    )
    return {row["method"]: row["total"] or 0 for row in rows}


def refunded_by_method(*, start: datetime, end: datetime) -> dict[str, int]:
    """Pence refunded in [start, end), by the method of the payment refunded; failed refunds do not count."""
    rows = (
        Refund.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status=Refund.Status.FAILED)
        .values("payment__method")
        .annotate(total=Sum("amount_pence"))
        .order_by()
    )
    return {row["payment__method"]: row["total"] or 0 for row in rows}
