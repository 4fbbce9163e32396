"""Scheduled money work: expire_holds, reconcile_payments, payments_audit.

Each asks the provider outside any transaction, then applies the answer
through payments.services (which lock and write). Idempotent: safe from cron.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from booking import services as booking_services
from booking.models import Booking

from . import gateway, services
from .models import Payment, Refund, StripeEvent

log = logging.getLogger(__name__)

# Stripe Checkout Sessions live 24 hours at most: after that a session can no longer change.
SESSION_LIFETIME = timedelta(hours=25)


@dataclass
class RunReport:
    applied: int = 0
    unreachable: int = 0
    refused: int = 0
    refunds_retried: int = 0
    expired_bookings: int = 0


def _holds_open(booking: Booking, now: datetime) -> bool:
    return booking.awaiting_payment(now)


def _apply_sessions(payments, *, report: RunReport, now: datetime) -> None:
    """Ask the provider about each payment's checkout and apply the answer. An open session of a
    booking that no longer waits for it is expired at the provider first."""
    for payment in payments:
        try:
            session = gateway.current().checkout_session_get(payment.checkout_session_id)
            if session.status == "open" and not _holds_open(payment.booking, now):
                session = gateway.current().checkout_session_expire(payment.checkout_session_id)
        except gateway.GatewayRefused as exc:
            report.refused += 1
            services.payment_unknown_at_provider(payment_id=payment.pk, reason=str(exc))
            continue
        except gateway.GatewayUnavailable:
            report.unreachable += 1
            continue
        services.payment_apply_session(session=session, now=now)
        report.applied += 1


def payments_expire_lapsed(*, now: datetime | None = None) -> RunReport:
    """expire_holds: lapsed holds expire (codes released), and their checkouts are closed at the
    provider. A session that turns out to be paid goes through the completed path. Idempotent."""
    now = now or timezone.now()
    report = RunReport(expired_bookings=len(booking_services.bookings_expire_lapsed(now=now)))
    stale = (
        Payment.objects.filter(status=Payment.Status.PENDING).exclude(checkout_session_id="")
        .exclude(booking__status=Booking.Status.HELD, booking__hold_expires_at__gt=now)
        .select_related("booking")
    )
    _apply_sessions(stale, report=report, now=now)
    return report


def payments_reconcile(*, older_than_minutes: int = 5, now: datetime | None = None) -> RunReport:
    """reconcile_payments: ask the provider about everything whose state there can still change.

    - checkouts still pending after a few minutes (at once for bookings no longer held), and
      checkouts marked expired within a session's lifetime (paid after all?);
    - refunds unsent (outage), pending at Stripe, or failed (retried, MAX_REFUND_ATTEMPTS);
    - payments whose Stripe refund total is ahead of our rows (rows fetched by id);
    - refund events kept waiting for a payment that has appeared since.
    """
    now = now or timezone.now()
    report = RunReport()
    cutoff = now - timedelta(minutes=older_than_minutes)
    sessions = (
        Payment.objects.exclude(checkout_session_id="")
        .filter(
            Q(status=Payment.Status.PENDING, created_at__lte=cutoff)
            | Q(status=Payment.Status.PENDING, booking__status__in=[Booking.Status.CANCELLED, Booking.Status.EXPIRED])
            | Q(status=Payment.Status.EXPIRED, created_at__gte=now - SESSION_LIFETIME)
        )
        .select_related("booking")
    )
    _apply_sessions(sessions, report=report, now=now)
    _apply_waiting_events()
    for refund in Refund.objects.filter(status=Refund.Status.FAILED, retry__isnull=True).exclude(
        payment__method__in=services.CLINIC_METHODS
    ).select_related("payment"):
        # Stripe's own refunds first (one made in the dashboard meanwhile), so a retry gives only what is left.
        if not _sync_refunds(refund.payment, report=report):
            continue
        services.refund_retry(refund_id=refund.pk)
    unsent = Refund.objects.filter(status=Refund.Status.PENDING, stripe_refund_id="").exclude(
        payment__method__in=services.CLINIC_METHODS
    )
    for refund in unsent:
        if services.refund_send(refund_id=refund.pk).stripe_refund_id:
            report.refunds_retried += 1
    for refund in Refund.objects.filter(status=Refund.Status.PENDING).exclude(stripe_refund_id=""):
        try:
            services.refund_record_from_provider(result=gateway.current().refund_get(refund.stripe_refund_id))
        except gateway.GatewayError:
            report.unreachable += 1
    behind = Payment.objects.filter(status__in=Payment.PAID_STATUSES, provider_refunded_pence__gt=0).exclude(payment_intent_id="")
    for payment in behind:
        if payment.provider_refunded_pence > payment.provider_accepted_refund_pence:
            _sync_refunds(payment, report=report)
    return report


def _sync_refunds(payment: Payment, *, report: RunReport) -> bool:
    """Record every refund Stripe holds for a payment, by id. False if Stripe could not be asked."""
    if not payment.payment_intent_id:
        return True
    try:
        listed = gateway.current().refund_list(payment.payment_intent_id)
    except gateway.GatewayError:
        report.unreachable += 1
        return False
    for result in listed:
        services.refund_record_from_provider(result=result)
    return True


def _apply_waiting_events() -> None:
    """Refund events whose payment appeared after they arrived (a race with the completed event)."""
    intents = set(StripeEvent.objects.exclude(waiting_for="").values_list("waiting_for", flat=True))
    for intent in intents:
        if services.payment_known(payment_intent_id=intent):
            services.payment_apply_waiting(payment_intent_id=intent)


@dataclass
class Discrepancy:
    payment_id: int
    booking_id: int
    what: str
    ours: int
    stripe: int

    def __str__(self) -> str:
        return (f"payment {self.payment_id} (booking {self.booking_id}): {self.what} ours {self.ours} pence, "
                f"Stripe {self.stripe} pence")


@dataclass
class AuditReport:
    checked: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    unreachable: int = 0


def payments_audit() -> AuditReport:
    """Compare every provider payment's captured and refunded amounts with the provider's."""
    report = AuditReport()
    provider_methods = [Payment.Method.STRIPE_CHECKOUT, Payment.Method.LOCAL_TEST]
    for payment in Payment.objects.filter(method__in=provider_methods).order_by("pk"):
        report.checked += 1
        try:
            if payment.payment_intent_id:
                totals = gateway.current().charge_totals(payment.payment_intent_id)
            elif payment.checkout_session_id:
                session = gateway.current().checkout_session_get(payment.checkout_session_id)
                paid = session.status == "complete" and session.payment_status == "paid"
                totals = gateway.ChargeTotals(captured=session.amount_total if paid else 0, refunded=0)
            else:
                totals = gateway.ChargeTotals(captured=0, refunded=0)
        except gateway.GatewayRefused:
            totals = gateway.ChargeTotals(captured=0, refunded=0)
        except gateway.GatewayUnavailable:
            report.unreachable += 1
            continue
        ours = (payment.captured_pence, payment.provider_accepted_refund_pence)
        if ours[0] != totals.captured:
            report.discrepancies.append(Discrepancy(payment.pk, payment.booking_id, "captured", ours[0], totals.captured))
        if ours[1] != totals.refunded:
            report.discrepancies.append(Discrepancy(payment.pk, payment.booking_id, "refunded", ours[1], totals.refunded))
    return report

