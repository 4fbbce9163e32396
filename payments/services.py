"""Payments: start a checkout, apply what the provider says, refund, reconcile.

Every function here talks to the provider only through payments.gateway.
Provider calls never run while we hold row locks for a money change: they run
before the transaction (payment_start) or after commit (refund_send).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from booking import services as booking_services
from booking.exceptions import BookingError, InvalidStatusChange, RefundTooLarge, SlotLost
from booking.models import Booking, BookingEvent, Practitioner
from outbox.services import outbox_enqueue

from . import gateway, notifications
from .models import Payment, Refund

log = logging.getLogger(__name__)

# Stripe refuses a Checkout Session that expires sooner than 30 minutes after creation.
MIN_CHECKOUT_MINUTES = 31
CLINIC_METHODS = (Payment.Method.CARD_TERMINAL, Payment.Method.CASH)


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def paid_pence(*, booking: Booking) -> int:
    """What the patient has paid for this booking and not yet had back."""
    paid = (
        Payment.objects.filter(booking=booking, status__in=Payment.PAID_STATUSES).aggregate(total=Sum("amount_pence"))[
            "total"
        ]
        or 0
    )
    return paid - refunded_pence(booking=booking)


def refunded_pence(*, booking: Booking) -> int:
    """Refunded (or on its way back) for this booking; failed refunds do not count."""
    return (
        Refund.objects.filter(payment__booking=booking, payment__status__in=Payment.PAID_STATUSES)
        .exclude(status=Refund.Status.FAILED)
        .aggregate(total=Sum("amount_pence"))["total"]
        or 0
    )


# --- Checkout ---------------------------------------------------------------------------


def _checkout_request(booking: Booking, *, idempotency_key: str, expires_at: datetime) -> gateway.CheckoutRequest:
    when = timezone.localtime(booking.start)
    booking_url = settings.SITE_URL + reverse("booking:my_booking", args=[booking.pk])
    return gateway.CheckoutRequest(
        amount_pence=booking.amount_due_pence,
        currency="gbp",
        description=f"{booking.service.name} with {booking.practitioner.name}, {when:%a %-d %b %Y %H:%M} London time",
        customer_email=booking.patient.email,
        booking_id=booking.pk,
        offer_code=booking.offer_code.code if booking.offer_code_id else "",
        expires_at=expires_at,
        success_url=settings.SITE_URL + reverse("payments:success", args=[booking.pk]) + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=booking_url,
        idempotency_key=idempotency_key,
    )


def payment_start(*, booking: Booking, actor=None, now: datetime | None = None) -> Payment:
    """Open a checkout for a held booking; the Payment row is saved before the patient leaves.

    The provider is called first and the row written only once it answered, so
    if the provider cannot be reached (gateway.GatewayUnavailable) nothing is
    written, the hold stays, and a retry simply starts again.
    """
    now = now or timezone.now()
    booking = Booking.objects.select_related("service", "practitioner__user", "patient", "offer_code").get(pk=booking.pk)
    if booking.status != Booking.Status.HELD or not booking.is_blocking(now):
        raise InvalidStatusChange("This booking is no longer held for payment. Please choose a time again.")
    open_payment = (
        booking.payments.filter(status=Payment.Status.PENDING, expires_at__gt=now).exclude(checkout_url="").first()
    )
    if open_payment:
        return open_payment
    # The session lives at least as long as the hold (Stripe's 30-minute minimum may make it
    # outlive it; expire_holds closes it at the provider once the hold lapses).
    expires_at = max(booking.hold_expires_at, now + timedelta(minutes=MIN_CHECKOUT_MINUTES))
    key = f"booking-{booking.pk}-attempt-{uuid.uuid4().hex}"
    session = gateway.current().checkout_session_create(
        _checkout_request(booking, idempotency_key=key, expires_at=expires_at)
    )
    return Payment.objects.create(
        booking=booking,
        method=Payment.Method.LOCAL_TEST if gateway.is_local_mode() else Payment.Method.STRIPE_CHECKOUT,
        amount_pence=booking.amount_due_pence,
        checkout_session_id=session.id,
        checkout_url=session.url,
        idempotency_key=key,
        expires_at=expires_at,
        created_by=_user(actor),
    )


def _lock_session_payment(session_id: str) -> Payment | None:
    """Lock practitioner, booking, then payment: the house lock order (booking_cancel locks the
    booking before its payments), so a webhook and a cancellation cannot deadlock."""
    row = (
        Payment.objects.filter(checkout_session_id=session_id)
        .values("booking_id", "booking__practitioner_id")
        .first()
    )
    if row is None:
        return None
    Practitioner.objects.select_for_update().filter(pk=row["booking__practitioner_id"]).values_list("pk").first()
    Booking.objects.select_for_update().filter(pk=row["booking_id"]).values_list("pk").first()
    return Payment.objects.select_for_update().select_related("booking").get(checkout_session_id=session_id)


def _payment_for_session(session: gateway.CheckoutSession) -> Payment | None:
    """The locked Payment row for a session; recreated from the session's metadata if it is
    missing (the process died between the provider's answer and our insert)."""
    payment = _lock_session_payment(session.id)
    if payment is not None:
        return payment
    booking = Booking.objects.filter(pk=(session.metadata or {}).get("booking_id") or 0).first()
    if booking is None:
        log.warning("checkout %s has no payment row and no known booking", session.id)
        return None
    return Payment.objects.create(
        booking=booking,
        method=Payment.Method.LOCAL_TEST if session.id.startswith("cs_local_") else Payment.Method.STRIPE_CHECKOUT,
        amount_pence=session.amount_total or booking.amount_due_pence,
        checkout_session_id=session.id,
        idempotency_key=f"session-{session.id}"[:64],
    )


@transaction.atomic
def payment_checkout_completed(*, session: gateway.CheckoutSession, now: datetime | None = None) -> Payment | None:
    """The provider says a checkout was paid: record it and confirm the booking.

    Idempotent and order independent: a second call finds the payment already
    succeeded and changes nothing; after an `expired` it still confirms if the
    slot is free, else refunds in full automatically.
    """
    now = now or timezone.now()
    if session.status != "complete" or session.payment_status not in ("paid", "no_payment_required"):
        # Completed but not yet paid (bank debits): async_payment_succeeded will follow.
        return Payment.objects.filter(checkout_session_id=session.id).first()
    payment = _payment_for_session(session)
    if payment is None or payment.status in Payment.PAID_STATUSES:
        return payment
    booking = payment.booking
    # Two checkouts of one booking both paid (two tabs): keep the first, give this one back.
    duplicate = booking.payments.filter(status__in=Payment.PAID_STATUSES, auto_refunded=False).exclude(pk=payment.pk).exists()
    payment.auto_refunded = duplicate
    payment.status = Payment.Status.SUCCEEDED
    payment.payment_intent_id = session.payment_intent_id
    if session.amount_total:
        payment.amount_pence = session.amount_total  # what was actually taken
    payment.paid_at = now
    payment.save(update_fields=["status", "auto_refunded", "payment_intent_id", "amount_pence", "paid_at", "updated_at"])
    BookingEvent.objects.create(
        booking=booking, action=BookingEvent.Action.PAYMENT, to_status=booking.status,
        reason=f"Paid {payment.amount_pence} pence ({payment.get_method_display()}).",
        data={"payment_id": payment.pk, "checkout_session_id": session.id},
    )
    if duplicate:
        _auto_refund(payment, reason="Automatic refund: this booking had already been paid.")
        return payment
    if booking.status == Booking.Status.CANCELLED:
        # The patient cancelled while the checkout was still open: give it back, do not rebook.
        _auto_refund(payment, reason="Automatic refund: the booking was cancelled before the payment arrived.")
        return payment
    try:
        with transaction.atomic():
            booking_services.booking_confirm(booking=booking, reason="Payment received.", now=now)
    except SlotLost:
        _auto_refund(payment, reason="Automatic refund: the time was taken before the payment arrived.")
    return payment


def _auto_refund(payment: Payment, *, reason: str) -> None:
    payment.auto_refunded = True
    payment.save(update_fields=["auto_refunded", "updated_at"])
    booking_refund(booking=payment.booking, amount_pence=payment.refundable_pence, reason=reason, auto=True)
    outbox_enqueue(task=notifications.send_payment_auto_refunded, kwargs={"payment_id": payment.pk}, key=f"payment_auto_refunded:{payment.pk}")


def _release_if_no_other_attempt(booking: Booking, reason: str) -> None:
    if booking.status == Booking.Status.HELD and not booking.payments.filter(status=Payment.Status.PENDING).exists():
        booking_services.booking_release_hold(booking=booking, reason=reason)


@transaction.atomic
def payment_checkout_expired(*, session_id: str, now: datetime | None = None) -> Payment | None:
    """The checkout lapsed unpaid: the hold (and its offer reservation) goes.

    A session that was already paid is left alone (events in any order).
    """
    payment = _lock_session_payment(session_id)
    if payment is None or payment.status != Payment.Status.PENDING:
        return payment
    payment.status = Payment.Status.EXPIRED
    payment.save(update_fields=["status", "updated_at"])
    _release_if_no_other_attempt(payment.booking, "Checkout expired unpaid.")
    return payment


@transaction.atomic
def payment_checkout_failed(*, session_id: str, reason: str = "The payment failed.") -> Payment | None:
    """A delayed payment method (bank debit) failed after checkout: release the hold."""
    payment = _lock_session_payment(session_id)
    if payment is None or payment.status != Payment.Status.PENDING:
        return payment
    payment.status = Payment.Status.FAILED
    payment.failure_reason = reason[:255]
    payment.save(update_fields=["status", "failure_reason", "updated_at"])
    _release_if_no_other_attempt(payment.booking, "Payment failed.")
    return payment


def payment_apply_session(*, session: gateway.CheckoutSession, now: datetime | None = None) -> Payment | None:
    """Apply a session as retrieved from the provider (success page, reconcile, expire_holds)."""
    if session.status == "complete":
        return payment_checkout_completed(session=session, now=now)
    if session.status == "expired":
        return payment_checkout_expired(session_id=session.id, now=now)
    return Payment.objects.filter(checkout_session_id=session.id).first()


def payment_abandon(*, booking: Booking) -> None:
    """A held booking was cancelled: close its open checkouts (after commit)."""
    sessions = list(
        booking.payments.filter(status=Payment.Status.PENDING).exclude(checkout_session_id="").values_list(
            "checkout_session_id", flat=True
        )
    )
    booking.payments.filter(status=Payment.Status.PENDING).update(status=Payment.Status.EXPIRED)

    for session_id in sessions:
        outbox_enqueue(task=checkout_session_expire_at_provider, kwargs={"session_id": session_id},
                       key=f"checkout_expire:{session_id}")


def checkout_session_expire_at_provider(*, session_id: str) -> None:
    """Close a checkout at the provider (outbox work, after commit). Safe to repeat."""
    try:
        gateway.current().checkout_session_expire(session_id)
    except gateway.GatewayUnavailable:
        log.warning("could not expire checkout %s; it lapses on its own", session_id)


@transaction.atomic
def payment_record_at_clinic(*, booking: Booking, method: str, actor) -> Payment:
    """Reception took the money on the card terminal or in cash: paid, confirmed at once."""
    payment = Payment.objects.create(
        booking=booking,
        method=method,
        status=Payment.Status.SUCCEEDED,
        amount_pence=booking.amount_due_pence,
        idempotency_key=f"booking-{booking.pk}-clinic-{uuid.uuid4().hex}",
        paid_at=timezone.now(),
        created_by=actor,
    )
    booking_services.booking_confirm(booking=booking, actor=actor, reason=f"Paid at the clinic ({payment.get_method_display()}).")
    return payment


# --- Refunds ----------------------------------------------------------------------------


def _payment_status_refresh(payment: Payment) -> None:
    if payment.status not in Payment.PAID_STATUSES:
        return
    refunded = payment.refunded_pence
    status = (
        Payment.Status.SUCCEEDED if refunded == 0
        else Payment.Status.REFUNDED if refunded >= payment.amount_pence
        else Payment.Status.PARTIALLY_REFUNDED
    )
    if status != payment.status:
        payment.status = status
        payment.save(update_fields=["status", "updated_at"])


@transaction.atomic
def booking_refund(*, booking: Booking, amount_pence: int, reason: str, actor=None, auto: bool = False) -> list[Refund]:
    """Refund up to what was paid, newest payment first. We check the limit; Stripe is not asked to.

    The provider is asked after commit (refund_send); if it cannot be reached
    the row stays pending and reconcile_payments retries it with the same
    idempotency key.
    """
    if amount_pence <= 0:
        return []
    if not reason.strip():
        raise BookingError("Give a reason for the refund.", errors={"reason": "A reason is required."})
    payments = list(
        Payment.objects.select_for_update().filter(booking=booking, status__in=Payment.PAID_STATUSES).order_by("-paid_at")
    )
    available = sum(p.refundable_pence for p in payments)
    if amount_pence > available:
        raise RefundTooLarge(
            f"At most £{available / 100:.2f} can be refunded for this booking.", errors={"refund_pence": "Too large."}
        )
    refunds = []
    remaining = amount_pence
    for payment in payments:
        part = min(remaining, payment.refundable_pence)
        if part <= 0:
            continue
        refund = Refund.objects.create(payment=payment, amount_pence=part, reason=reason, created_by=_user(actor))
        if payment.method in CLINIC_METHODS:
            # Money handed back at the desk: nothing for a provider to do.
            refund.status = Refund.Status.SUCCEEDED
            refund.save(update_fields=["status"])
        else:
            outbox_enqueue(task=refund_send, kwargs={"refund_id": refund.pk}, key=f"refund_send:{refund.pk}")
        _payment_status_refresh(payment)
        refunds.append(refund)
        remaining -= part
        if remaining == 0:
            break
    BookingEvent.objects.create(
        booking=booking, action=BookingEvent.Action.REFUND, to_status=booking.status,
        actor=_user(actor), reason=reason,
        data={"amount_pence": amount_pence, "refund_ids": [r.pk for r in refunds], "auto_refunded": auto},
    )
    return refunds


_REFUND_STATUS = {"succeeded": Refund.Status.SUCCEEDED, "failed": Refund.Status.FAILED, "canceled": Refund.Status.FAILED}


def refund_send(*, refund_id: int) -> Refund:
    """Ask the provider to pay a committed refund row back. Safe to call again (same idempotency key)."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.stripe_refund_id or refund.status != Refund.Status.PENDING:
        return refund
    try:
        result = gateway.current().refund_create(
            payment_intent_id=refund.payment.payment_intent_id,
            amount_pence=refund.amount_pence,
            idempotency_key=f"refund-{refund.pk}",
            metadata={"refund_id": str(refund.pk), "booking_id": str(refund.payment.booking_id)},
        )
    except gateway.GatewayRefused as exc:
        log.error("refund %s refused by the provider: %s", refund.pk, exc)
        refund_mark_failed(refund_id=refund.pk, reason=str(exc))
        refund.refresh_from_db()
        return refund
    except gateway.GatewayUnavailable:
        log.exception("refund %s could not reach the provider; reconcile_payments retries it", refund.pk)
        return refund
    # A webhook may have matched the row first: only fill an empty id.
    Refund.objects.filter(pk=refund.pk, stripe_refund_id="").update(
        stripe_refund_id=result.id, status=_REFUND_STATUS.get(result.status, Refund.Status.PENDING)
    )
    refund.refresh_from_db()
    return refund


@transaction.atomic
def refund_mark_failed(*, refund_id: int, reason: str) -> None:
    refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
    if refund.status == Refund.Status.FAILED:
        return
    refund.status = Refund.Status.FAILED
    refund.save(update_fields=["status"])
    payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
    _payment_status_refresh(payment)
    BookingEvent.objects.create(
        booking=payment.booking, action=BookingEvent.Action.NOTE, to_status=payment.booking.status,
        reason=f"Refund of {refund.amount_pence} pence failed at the provider: {reason}"[:1000],
        data={"refund_id": refund.pk},
    )


@transaction.atomic
def refund_record_from_provider(
    *, result: gateway.RefundResult, reason: str = "Refunded in the Stripe dashboard."
) -> Refund | None:
    """A refund the provider told us about (refund.* / charge.refunded events, reconcile).

    Ours: update its status. Made in the Stripe dashboard: record it, so what
    we think was paid matches what Stripe holds.
    """
    refund = Refund.objects.select_for_update().filter(stripe_refund_id=result.id).first()
    if refund is None:
        payment = (
            Payment.objects.select_for_update().filter(payment_intent_id=result.payment_intent_id).first()
            if result.payment_intent_id else None
        )
        if payment is None:
            log.info("refund %s matches no payment of ours", result.id)
            return None
        # Our own refund whose provider id is not saved yet (the webhook beat refund_send).
        refund = (
            payment.refunds.select_for_update()
            .filter(stripe_refund_id="", amount_pence=result.amount, status=Refund.Status.PENDING)
            .first()
        )
        if refund is None:
            if result.status in ("failed", "canceled") or result.amount <= 0:
                return None
            refund = Refund.objects.create(
                payment=payment, amount_pence=result.amount, stripe_refund_id=result.id, reason=reason,
                status=_REFUND_STATUS.get(result.status, Refund.Status.PENDING),
            )
            BookingEvent.objects.create(
                booking=payment.booking, action=BookingEvent.Action.REFUND, to_status=payment.booking.status,
                reason=reason, data={"amount_pence": result.amount, "refund_ids": [refund.pk], "stripe_refund_id": result.id},
            )
            _payment_status_refresh(payment)
            return refund
        refund.stripe_refund_id = result.id
    status = _REFUND_STATUS.get(result.status, Refund.Status.PENDING)
    if status == Refund.Status.FAILED and refund.status != Refund.Status.FAILED:
        refund.save(update_fields=["stripe_refund_id"])
        refund_mark_failed(refund_id=refund.pk, reason=f"Stripe reports the refund {result.status}.")
        refund.refresh_from_db()
        return refund
    refund.status = status
    refund.save(update_fields=["stripe_refund_id", "status"])
    return refund


@transaction.atomic
def payment_charge_refunded(*, payment_intent_id: str, amount_refunded: int, refunds: list[gateway.RefundResult]) -> None:
    """charge.refunded: record each listed refund; if Stripe's total is still above ours
    (the list is not always included), record the difference as a dashboard refund."""
    for result in refunds:
        refund_record_from_provider(result=result)
    payment = Payment.objects.select_for_update().filter(payment_intent_id=payment_intent_id).first() if payment_intent_id else None
    if payment is None:
        return
    missing = amount_refunded - payment.refunded_pence
    if missing > 0:
        Refund.objects.create(
            payment=payment, amount_pence=missing, status=Refund.Status.SUCCEEDED,
            reason="Refunded in the Stripe dashboard.",
        )
        BookingEvent.objects.create(
            booking=payment.booking, action=BookingEvent.Action.REFUND, to_status=payment.booking.status,
            reason="Refunded in the Stripe dashboard.", data={"amount_pence": missing},
        )
    _payment_status_refresh(payment)


# --- Scheduled work ---------------------------------------------------------------------


@dataclass
class RunReport:
    applied: int = 0
    unreachable: int = 0
    refunds_retried: int = 0
    expired_bookings: int = 0


def payments_expire_lapsed(*, now: datetime | None = None) -> RunReport:
    """expire_holds: lapsed holds expire (codes released), and their checkouts are closed at the
    provider. A session that turns out to be paid goes through the completed path. Idempotent."""
    now = now or timezone.now()
    report = RunReport(expired_bookings=len(booking_services.bookings_expire_lapsed(now=now)))
    stale = (
        Payment.objects.filter(status=Payment.Status.PENDING)
        .exclude(checkout_session_id="")
        .exclude(booking__status=Booking.Status.HELD, booking__hold_expires_at__gt=now)
    )
    _apply_from_provider(stale, gateway.current().checkout_session_expire, report=report, now=now)
    return report


def _apply_from_provider(payments, ask, *, report: RunReport, now: datetime) -> None:
    """For each payment, ask the provider about its checkout and apply the answer."""
    for payment in payments:
        try:
            session = ask(payment.checkout_session_id)
        except gateway.GatewayUnavailable:
            report.unreachable += 1
            continue
        payment_apply_session(session=session, now=now)
        report.applied += 1


def payments_reconcile(*, older_than_minutes: int = 5, now: datetime | None = None) -> RunReport:
    """reconcile_payments: ask the provider about every payment still pending after a few
    minutes and apply its answer; retry refunds whose provider call failed; refresh pending refunds."""
    now = now or timezone.now()
    report = RunReport()
    cutoff = now - timedelta(minutes=older_than_minutes)
    pending = Payment.objects.filter(status=Payment.Status.PENDING, created_at__lte=cutoff).exclude(checkout_session_id="")
    _apply_from_provider(pending, gateway.current().checkout_session_get, report=report, now=now)
    unsent = Refund.objects.filter(status=Refund.Status.PENDING, stripe_refund_id="").exclude(
        payment__method__in=CLINIC_METHODS
    )
    for refund in unsent:
        if refund_send(refund_id=refund.pk).stripe_refund_id:
            report.refunds_retried += 1
    for refund in Refund.objects.filter(status=Refund.Status.PENDING).exclude(stripe_refund_id=""):
        try:
            refund_record_from_provider(result=gateway.current().refund_get(refund.stripe_refund_id))
        except gateway.GatewayUnavailable:
            report.unreachable += 1
    return report
