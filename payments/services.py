"""Payments: start a checkout, apply what the provider says, refund.

Every function here talks to the provider only through payments.gateway.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from booking import services as booking_services
from booking.exceptions import RefundTooLarge, SlotLost
from booking.models import Booking, BookingEvent

from . import gateway
from .models import Payment, Refund

log = logging.getLogger(__name__)


def paid_pence(*, booking: Booking) -> int:
    """What the patient has paid for this booking and not yet had back."""
    paid = (
        Payment.objects.filter(booking=booking, status__in=Payment.PAID_STATUSES).aggregate(total=Sum("amount_pence"))[
            "total"
        ]
        or 0
    )
    refunded = (
        Refund.objects.filter(payment__booking=booking)
        .exclude(status=Refund.Status.FAILED)
        .aggregate(total=Sum("amount_pence"))["total"]
        or 0
    )
    return paid - refunded


def _checkout_request(booking: Booking, *, idempotency_key: str) -> gateway.CheckoutRequest:
    when = timezone.localtime(booking.start)
    booking_url = settings.SITE_URL + reverse("booking:my_booking", args=[booking.pk])
    return gateway.CheckoutRequest(
        amount_pence=booking.amount_due_pence,
        currency="gbp",
        description=f"{booking.service.name} with {booking.practitioner.name}, {when:%a %-d %b %Y %H:%M} London time",
        customer_email=booking.patient.email,
        booking_id=booking.pk,
        offer_code=booking.offer_code.code if booking.offer_code_id else "",
        expires_at=booking.hold_expires_at,
        success_url=settings.SITE_URL + reverse("payments:success", args=[booking.pk]) + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=booking_url,
        idempotency_key=idempotency_key,
    )


def payment_start(*, booking: Booking, actor=None) -> Payment:
    """Open a checkout for a held booking; the Payment row is saved before the patient leaves.

    Raises gateway.GatewayUnavailable if the provider cannot be reached; the
    hold stays and nothing else is written, so a retry works.
    """
    booking = Booking.objects.select_related("service", "practitioner__user", "patient", "offer_code").get(pk=booking.pk)
    open_payment = booking.payments.filter(status=Payment.Status.PENDING).exclude(checkout_url="").first()
    if open_payment:
        return open_payment
    key = f"booking-{booking.pk}-attempt-{uuid.uuid4().hex}"
    session = gateway.current().checkout_session_create(_checkout_request(booking, idempotency_key=key))
    return Payment.objects.create(
        booking=booking,
        method=Payment.Method.LOCAL_TEST if gateway.is_local_mode() else Payment.Method.STRIPE_CHECKOUT,
        amount_pence=booking.amount_due_pence,
        checkout_session_id=session.id,
        checkout_url=session.url,
        idempotency_key=key,
        expires_at=booking.hold_expires_at,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


@transaction.atomic
def payment_checkout_completed(*, session: gateway.CheckoutSession, now: datetime | None = None) -> Payment | None:
    """The provider says a checkout was paid: record it and confirm the booking.

    Idempotent and order independent: a second call finds the payment already
    succeeded and changes nothing.
    """
    now = now or timezone.now()
    payment = Payment.objects.select_for_update().filter(checkout_session_id=session.id).first()
    if payment is None:
        log.warning("checkout %s completed with no payment row", session.id)
        return None
    if session.payment_status != "paid" or payment.status in Payment.PAID_STATUSES:
        return payment
    payment.status = Payment.Status.SUCCEEDED
    payment.payment_intent_id = session.payment_intent_id
    payment.paid_at = now
    payment.save(update_fields=["status", "payment_intent_id", "paid_at", "updated_at"])
    BookingEvent.objects.create(
        booking=payment.booking, action=BookingEvent.Action.PAYMENT, to_status=payment.booking.status,
        reason=f"Paid {payment.amount_pence} pence ({payment.get_method_display()}).",
        data={"payment_id": payment.pk},
    )
    try:
        with transaction.atomic():
            booking_services.booking_confirm(booking=payment.booking, reason="Payment received.", now=now)
    except SlotLost:
        payment.auto_refunded = True
        payment.save(update_fields=["auto_refunded", "updated_at"])
        booking_refund(
            booking=payment.booking,
            amount_pence=payment.amount_pence,
            reason="Automatic refund: the time was taken before the payment arrived.",
        )
    return payment


@transaction.atomic
def payment_checkout_expired(*, session_id: str, now: datetime | None = None) -> None:
    """The checkout lapsed unpaid: the hold (and its offer reservation) goes."""
    payment = Payment.objects.select_for_update().filter(checkout_session_id=session_id).first()
    if payment is None or payment.status != Payment.Status.PENDING:
        return
    payment.status = Payment.Status.EXPIRED
    payment.save(update_fields=["status", "updated_at"])
    booking = payment.booking
    if booking.status == Booking.Status.HELD and not booking.payments.filter(status=Payment.Status.PENDING).exists():
        booking_services.booking_release_hold(booking=booking, reason="Checkout expired unpaid.")


def payment_abandon(*, booking: Booking) -> None:
    """A held booking was cancelled: close its open checkouts (after commit)."""
    sessions = list(
        booking.payments.filter(status=Payment.Status.PENDING).exclude(checkout_session_id="").values_list(
            "checkout_session_id", flat=True
        )
    )
    booking.payments.filter(status=Payment.Status.PENDING).update(status=Payment.Status.EXPIRED)

    def expire_at_provider():
        for session_id in sessions:
            try:
                gateway.current().checkout_session_expire(session_id)
            except gateway.GatewayUnavailable:
                log.warning("could not expire checkout %s; it lapses on its own", session_id)

    transaction.on_commit(expire_at_provider)


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


@transaction.atomic
def booking_refund(*, booking: Booking, amount_pence: int, reason: str, actor=None) -> list[Refund]:
    """Refund up to what was paid, newest payment first. We check the limit; Stripe is not asked to."""
    if amount_pence <= 0:
        return []
    payments = list(
        Payment.objects.select_for_update().filter(booking=booking, status__in=Payment.PAID_STATUSES).order_by("-paid_at")
    )
    available = sum(p.refundable_pence for p in payments)
    if amount_pence > available:
        raise RefundTooLarge(
            f"At most {available} pence can be refunded for this booking.", errors={"refund_pence": "Too large."}
        )
    refunds = []
    remaining = amount_pence
    for payment in payments:
        part = min(remaining, payment.refundable_pence)
        if part <= 0:
            continue
        refund = Refund.objects.create(payment=payment, amount_pence=part, reason=reason,
                                       created_by=actor if getattr(actor, "is_authenticated", False) else None)
        if payment.method in (Payment.Method.CARD_TERMINAL, Payment.Method.CASH):
            # Money handed back at the desk: nothing for a provider to do.
            refund.status = Refund.Status.SUCCEEDED
            refund.save(update_fields=["status"])
        else:
            transaction.on_commit(lambda r=refund: refund_send(refund_id=r.pk))
        payment.status = (
            Payment.Status.REFUNDED if payment.refundable_pence == 0 else Payment.Status.PARTIALLY_REFUNDED
        )
        payment.save(update_fields=["status", "updated_at"])
        refunds.append(refund)
        remaining -= part
        if remaining == 0:
            break
    BookingEvent.objects.create(
        booking=booking, action=BookingEvent.Action.REFUND, to_status=booking.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None, reason=reason,
        data={"amount_pence": amount_pence},
    )
    return refunds


def refund_send(*, refund_id: int) -> Refund:
    """Ask the provider to pay a refund row back (after the refund row is committed)."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.stripe_refund_id:
        return refund
    try:
        result = gateway.current().refund_create(
            payment_intent_id=refund.payment.payment_intent_id,
            amount_pence=refund.amount_pence,
            idempotency_key=f"refund-{refund.pk}",
        )
    except gateway.GatewayUnavailable:
        log.exception("refund %s could not reach the provider; reconcile_payments retries it", refund.pk)
        return refund
    refund.stripe_refund_id = result.id
    refund.status = result.status if result.status in Refund.Status.values else Refund.Status.PENDING
    refund.save(update_fields=["stripe_refund_id", "status"])
    return refund
