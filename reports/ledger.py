"""Money in and out, by payment method, from the payments ledger (Payment and Refund rows).

The one place reports read amounts: if the ledger's shape changes (refund
rows keyed by Stripe refund id, issue 11), only this module follows.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Sum
from django.db.models.functions import Coalesce

from payments.models import Payment, Refund

from .definitions import Ranges, in_ranges


def payments_taken(ranges: Ranges):
    """Payments that succeeded (refunded later or not), taken in the ranges; `taken_at` annotated."""
    return Payment.objects.annotate(taken_at=Coalesce("paid_at", "created_at")).filter(
        in_ranges("taken_at", ranges), status__in=Payment.PAID_STATUSES
    )


def refunds_made(ranges: Ranges):
    """Refunds made in the ranges; failed refunds do not count. Counted by the refunded payment's method."""
    return Refund.objects.filter(in_ranges("created_at", ranges)).exclude(status=Refund.Status.FAILED)


def taken_by_method(*, start: datetime, end: datetime) -> dict[str, int]:
    """Pence captured in [start, end), by method."""
    rows = payments_taken([(start, end)]).values("method").annotate(total=Sum("amount_pence")).order_by()
    return {row["method"]: row["total"] or 0 for row in rows}


def refunded_by_method(*, start: datetime, end: datetime) -> dict[str, int]:
    """Pence refunded in [start, end), by the method of the payment refunded."""
    rows = refunds_made([(start, end)]).values("payment__method").annotate(total=Sum("amount_pence")).order_by()
    return {row["payment__method"]: row["total"] or 0 for row in rows}
