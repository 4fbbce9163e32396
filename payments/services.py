"""Payments: start a checkout, apply what the provider says, refund, reconcile.

Every function here talks to the provider only through payments.gateway.
Provider calls never run while we hold row locks for a money change: they run
before the transaction (payment_start) or after commit (refund_send).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from common.actor import actor_or_none
from common.errors import DomainError
from booking import services as booking_services
from booking.exceptions import (
    InvalidPaymentMethod,
    InvalidStatusChange,
    NothingToPay,
    RefundTooLarge,
    SlotLost,
)
from booking.models import Booking, BookingEvent, Practitioner
from outbox.services import outbox_enqueue

from . import gateway, notifications
from .models import Attention, Payment, Refund

log = logging.getLogger(__name__)

# Stripe refuses a Checkout Session that expires sooner than 30 minutes after creation.
MIN_CHECKOUT_MINUTES = 31
CLINIC_METHODS = (Payment.Method.CARD_TERMINAL, Payment.Method.CASH)
# A refund Stripe fails is retried by reconcile_payments, this many attempts in all; then only a person.
MAX_REFUND_ATTEMPTS = 3


def has_had_first_session(patient) -> bool:
    """Has this patient been to the clinic? (the first-session offer's rule; provided to
    offers.services in payments.apps). A paid, attended or no-show booking counts; a cancelled
    unpaid one (or a lapsed hold) does not. Confirmed counts too: a booking is confirmed only
    once paid (online or at the clinic).
    """
    return (
        Booking.objects.filter(
            patient=patient,
            status__in=[Booking.Status.ATTENDED, Booking.Status.NO_SHOW, Booking.Status.CONFIRMED],
        ).exists()
        or Payment.objects.filter(booking__patient=patient, status__in=Payment.PAID_STATUSES).exists()
    )


def paid_pence(*, booking: Booking) -> int:
    """What the patient has paid for this booking and not yet had back."""
    paid = (
        Payment.objects.filter(booking=booking, status__in=Payment.PAID_STATUSES).aggregate(total=Sum("amount_pence"))[
            "total"
        ]
        or 0
    )
    return paid - refunded_pence(booking=booking)


def attention_raise(
    *, key: str, kind: str, message: str, booking: Booking | None = None, payment: Payment | None = None,
    refund: Refund | None = None, amount_pence: int = 0,
) -> Attention:
    """Put money that needs a person on reception's list, once per problem (key)."""
    item, _ = Attention.objects.get_or_create(
        key=key[:255],
        defaults={
            "kind": kind, "message": message[:500], "amount_pence": amount_pence, "refund": refund,
            "payment": payment, "booking": booking or (payment.booking if payment else None),
        },
    )
    return item


def attention_resolve(*, key: str, resolution: str, actor=None) -> None:
    Attention.objects.filter(key=key, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolved_by=actor_or_none(actor), resolution=resolution[:500]
    )


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
        offer_code=booking.offer_code.code if booking.offer_code is not None else "",
        expires_at=expires_at,
        success_url=settings.SITE_URL + reverse("payments:success", args=[booking.pk]) + "?session_id={CHECKOUT_SESSION_ID}",
        cancel_url=booking_url,
        idempotency_key=idempotency_key,
    )


def payment_start(*, booking: Booking, actor=None, now: datetime | None = None) -> Payment:
    """Open a checkout for a held booking; the Payment row is saved before the patient leaves.

    The provider is called first and the row written only once it answered, so
    if the provider cannot be reached (gateway.GatewayUnavailable) nothing is
    written, the hold stays, and a retry simply starts again. Nothing to pay
    (an offer took the whole price): confirmed at once, without the provider;
    the returned payment has no checkout_url.
    """
    now = now or timezone.now()
    booking = Booking.objects.select_related("service", "practitioner__user", "patient", "offer_code").get(pk=booking.pk)
    if not booking.awaiting_payment(now):
        raise InvalidStatusChange("This booking is no longer held for payment. Please choose a time again.")
    if booking.amount_due_pence == 0:
        return payment_none_due(booking=booking, actor=actor, now=now)
    open_payment = (
        booking.payments.filter(status=Payment.Status.PENDING, expires_at__gt=now).exclude(checkout_url="").first()
    )
    if open_payment:
        return open_payment
    # The session lives at least as long as the hold (Stripe's 30-minute minimum may make it
    # outlive it; expire_holds closes it at the provider once the hold lapses).
    assert booking.hold_expires_at is not None  # awaiting payment: held, with an expiry in the future
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
        created_by=actor_or_none(actor),
    )


@transaction.atomic
def payment_none_due(*, booking: Booking, actor=None, now: datetime | None = None) -> Payment:
    """£0 due: a zero payment is recorded (so the books show why it is confirmed) and the booking
    confirmed. Stripe is not asked (it refuses a £0 Checkout in payment mode). Idempotent."""
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    existing = booking.payments.filter(method=Payment.Method.NONE_DUE, status=Payment.Status.SUCCEEDED).first()
    if existing:
        return existing
    if booking.amount_due_pence != 0:
        raise InvalidStatusChange("This booking has an amount to pay.")
    payment = Payment.objects.create(
        booking=booking, method=Payment.Method.NONE_DUE, status=Payment.Status.SUCCEEDED, amount_pence=0,
        idempotency_key=f"booking-{booking.pk}-none-due", paid_at=now or timezone.now(), created_by=actor_or_none(actor),
    )
    booking_services.booking_confirm(booking=booking, actor=actor_or_none(actor), reason="Nothing to pay.", now=now)
    return payment


def _lock_payment(**lookup) -> Payment | None:
    """Lock practitioner, booking, then payment: the house lock order (booking_cancel locks the
    booking before its payments), so a webhook and a cancellation cannot deadlock."""
    row = Payment.objects.filter(**lookup).values("booking_id", "booking__practitioner_id").first()
    if row is None:
        return None
    Practitioner.objects.select_for_update().filter(pk=row["booking__practitioner_id"]).values_list("pk").first()
    Booking.objects.select_for_update().filter(pk=row["booking_id"]).values_list("pk").first()
    return Payment.objects.select_for_update().select_related("booking").filter(**lookup).first()


def _lock_refund_payment(refund: Refund) -> Payment:
    """A refund's payment, locked in the house order (it exists: Refund.payment is PROTECT, not null)."""
    payment = _lock_payment(pk=refund.payment_id)
    assert payment is not None
    return payment


def _lock_session_payment(session_id: str) -> Payment | None:
    return _lock_payment(checkout_session_id=session_id)


def _mismatch(payment: Payment, session: gateway.CheckoutSession) -> str:
    if session.amount_total != payment.amount_pence or (session.currency or "gbp") != payment.currency:
        return (
            f"Stripe reports {session.amount_total} pence in {session.currency.upper() or '?'} for checkout "
            f"{session.id}; we asked for {payment.amount_pence} pence in {payment.currency.upper()}."
        )
    return ""


@transaction.atomic
def payment_checkout_completed(*, session: gateway.CheckoutSession, now: datetime | None = None) -> Payment | None:
    """The provider says a checkout was paid: record it and confirm the booking.

    Only our own sessions count, for the amount and currency we asked: anything
    else confirms nothing and goes on reception's "needs attention" list.
    Idempotent and order independent: a second call finds the payment already
    succeeded and changes nothing; after an `expired` it still confirms if the
    slot is free, else refunds in full automatically; refunds Stripe reported
    before this (kept waiting) are applied now, and a payment Stripe already
    refunded in full confirms nothing.
    """
    now = now or timezone.now()
    if session.status != "complete" or session.payment_status not in ("paid", "no_payment_required"):
        # Completed but not yet paid (bank debits): async_payment_succeeded will follow.
        return Payment.objects.filter(checkout_session_id=session.id).first()
    payment = _lock_session_payment(session.id)
    if payment is None:
        log.error("checkout %s was paid but is not one of ours", session.id)
        attention_raise(
            key=f"unknown_session:{session.id}", kind=Attention.Kind.UNKNOWN_SESSION, amount_pence=session.amount_total,
            message=f"Stripe reports checkout {session.id} paid ({session.amount_total} pence, metadata "
                    f"{session.metadata}); we never created it. Check it in the Stripe dashboard.",
        )
        return None
    if payment.status in Payment.PAID_STATUSES:
        return payment
    problem = _mismatch(payment, session)
    if problem:
        log.error("checkout %s: %s", session.id, problem)
        if payment.status == Payment.Status.PENDING:
            payment.status = Payment.Status.FAILED
            payment.failure_reason = "Amount or currency mismatch."
            payment.payment_intent_id = session.payment_intent_id
            payment.save(update_fields=["status", "failure_reason", "payment_intent_id", "updated_at"])
        attention_raise(key=f"mismatch:{session.id}", kind=Attention.Kind.MISMATCH, payment=payment,
                        amount_pence=session.amount_total, message=problem)
        _release_if_no_other_attempt(payment.booking, "The payment did not match the amount due.")
        return payment
    booking = payment.booking
    # Two checkouts of one booking both paid (two tabs): keep the first, give this one back.
    duplicate = booking.payments.filter(status__in=Payment.PAID_STATUSES, auto_refunded=False).exclude(pk=payment.pk).exists()
    payment.auto_refunded = duplicate
    payment.status = Payment.Status.SUCCEEDED
    payment.payment_intent_id = session.payment_intent_id
    payment.paid_at = now
    payment.save(update_fields=["status", "auto_refunded", "payment_intent_id", "paid_at", "updated_at"])
    BookingEvent.objects.create(
        booking=booking, action=BookingEvent.Action.PAYMENT, to_status=booking.status,
        reason=f"Paid {payment.amount_pence} pence ({payment.get_method_display()}).",
        data={"payment_id": payment.pk, "checkout_session_id": session.id},
    )
    _apply_waiting_events(payment)
    payment.refresh_from_db()
    if _refunded_in_full_at_provider(payment):
        # Stripe gave it all back before we heard of the payment: there is nothing to confirm with.
        _release_if_no_other_attempt(booking, "Refunded in full at Stripe before the payment was recorded.", pending_ok=True)
        _refunded_at_provider_flag(payment)
        return payment
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
    outbox_enqueue(task=notifications.send_payment_receipt, kwargs={"payment_id": payment.pk}, key=f"payment_receipt:{payment.pk}")
    return payment


def _refunded_in_full_at_provider(payment: Payment) -> bool:
    return payment.amount_pence > 0 and max(payment.provider_refunded_pence, payment.provider_accepted_refund_pence) >= payment.amount_pence


def _refunded_at_provider_flag(payment: Payment) -> None:
    attention_raise(
        key=f"refunded_at_stripe:{payment.pk}", kind=Attention.Kind.REFUNDED_AT_STRIPE, payment=payment,
        amount_pence=payment.amount_pence,
        message=f"Payment {payment.pk} was refunded in full at Stripe; booking {payment.booking_id} is not kept.",
    )


def _apply_waiting_events(payment: Payment) -> None:
    """Refund events that came before their payment was known (kept by webhooks.dispatch)."""
    from .models import StripeEvent

    if not payment.payment_intent_id:
        return
    for event in StripeEvent.objects.select_for_update().filter(waiting_for=payment.payment_intent_id).order_by("received_at", "pk"):
        obj = event.payload["data"]["object"]
        if event.type == "charge.refunded":
            payment_charge_refunded(payment_intent_id=payment.payment_intent_id,
                                    amount_refunded=int(obj.get("amount_refunded") or 0), refunds=[])
        else:
            refund_record_from_provider(result=gateway.refund_from_dict(obj))
        event.waiting_for = ""
        event.save(update_fields=["waiting_for"])


@transaction.atomic
def payment_apply_waiting(*, payment_intent_id: str) -> None:
    payment = _lock_payment(payment_intent_id=payment_intent_id)
    if payment is not None:
        _apply_waiting_events(payment)
        _after_provider_refund(payment)


def _auto_refund(payment: Payment, *, reason: str) -> None:
    """Give a payment back in full; the patient is emailed once Stripe accepts the refund."""
    payment.auto_refunded = True
    payment.save(update_fields=["auto_refunded", "updated_at"])
    booking_refund(booking=payment.booking, amount_pence=payment.refundable_pence, reason=reason, auto=True,
                   payments=[payment])


def _release_if_no_other_attempt(booking: Booking, reason: str, *, pending_ok: bool = False) -> None:
    others = booking.payments.filter(status=Payment.Status.PENDING)
    if booking.status == Booking.Status.HELD and (pending_ok or not others.exists()):
        booking_services.booking_release_hold(booking=booking, reason=reason)


@transaction.atomic
def payment_checkout_expired(*, session_id: str, now: datetime | None = None) -> Payment | None:
    """The provider says the checkout closed unpaid: the hold (and its offer reservation) goes.

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


@transaction.atomic
def payment_unknown_at_provider(*, payment_id: int, reason: str) -> None:
    """The provider refuses to know the checkout (no such session): nothing can be paid there, so
    asking again will not help. Failed, and on reception's list."""
    payment = _lock_payment(pk=payment_id)
    if payment is None or payment.status != Payment.Status.PENDING:
        return
    payment.status = Payment.Status.FAILED
    payment.failure_reason = f"Unknown at the provider: {reason}"[:255]
    payment.save(update_fields=["status", "failure_reason", "updated_at"])
    attention_raise(key=f"unknown_at_stripe:{payment.pk}", kind=Attention.Kind.UNKNOWN_AT_STRIPE, payment=payment,
                    message=f"Stripe does not know checkout {payment.checkout_session_id}: {reason}")
    _release_if_no_other_attempt(payment.booking, "The checkout is unknown at the provider.")


def payment_apply_session(*, session: gateway.CheckoutSession, now: datetime | None = None) -> Payment | None:
    """Apply a session as retrieved from the provider (success page, reconcile, expire_holds)."""
    if session.status == "complete":
        return payment_checkout_completed(session=session, now=now)
    if session.status == "expired":
        return payment_checkout_expired(session_id=session.id, now=now)
    return Payment.objects.filter(checkout_session_id=session.id).first()


def payment_close_checkout(*, payment: Payment, now: datetime | None = None) -> None:
    """Expire a checkout at the provider and apply what it says: expired (closed unpaid) or
    complete (paid meanwhile: the completed path refunds it if the booking is gone). Never called
    inside a transaction; an outage leaves the payment pending for reconcile_payments."""
    try:
        session = gateway.current().checkout_session_expire(payment.checkout_session_id)
    except gateway.GatewayRefused as exc:
        payment_unknown_at_provider(payment_id=payment.pk, reason=str(exc))
        return
    except gateway.GatewayUnavailable:
        log.warning("could not expire checkout %s; reconcile_payments asks again", payment.checkout_session_id)
        return
    payment_apply_session(session=session, now=now)


@transaction.atomic
def booking_cancel(
    *,
    booking: Booking,
    actor=None,
    reason: str = "",
    refund_pence: int | None = None,
    by_staff: bool = False,
    now: datetime | None = None,
) -> booking_services.Cancellation:
    """Cancel a booking and refund what the policy (or reception's choice) says.

    Booking decides and records the cancellation (booking_cancel_record, given
    what was paid under the booking's lock); this side moves the money: the
    refund, and closing a held booking's open checkouts. Booking never imports
    payments: it returns the decision and we act on it.
    """
    booking = booking_services.booking_lock(booking=booking)
    cancellation = booking_services.booking_cancel_record(
        booking=booking, paid_pence=paid_pence(booking=booking), actor=actor, reason=reason,
        refund_pence=refund_pence, by_staff=by_staff, now=now,
    )
    if cancellation.refund_pence:
        booking_refund(booking=cancellation.booking, amount_pence=cancellation.refund_pence,
                       reason=reason or "Cancelled", actor=actor)
    if cancellation.previous_status == Booking.Status.HELD:
        payment_abandon(booking=cancellation.booking)
    return cancellation


def payment_abandon(*, booking: Booking) -> None:
    """A held booking was cancelled: close its open checkouts at the provider (after commit).

    The payment stays pending until the provider says the session is closed: a
    patient who paid meanwhile is found (and refunded), not forgotten."""
    pending = booking.payments.filter(status=Payment.Status.PENDING).exclude(checkout_session_id="")
    for payment in pending:
        outbox_enqueue(task=checkout_session_expire_at_provider, kwargs={"session_id": payment.checkout_session_id},
                       key=f"checkout_expire:{payment.checkout_session_id}")


def checkout_session_expire_at_provider(*, session_id: str) -> None:
    """Outbox work, after commit: close a checkout at the provider and apply its answer. Safe to
    repeat; an outage leaves the payment pending for reconcile_payments."""
    payment = Payment.objects.filter(checkout_session_id=session_id).first()
    if payment is not None and payment.status == Payment.Status.PENDING:
        payment_close_checkout(payment=payment)


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
    outbox_enqueue(task=notifications.send_payment_receipt, kwargs={"payment_id": payment.pk}, key=f"payment_receipt:{payment.pk}")
    return payment


def balance_due_pence(*, booking: Booking) -> int:
    """What a confirmed booking still owes (booked to pay at the clinic); 0 once taken, and for held or cancelled ones."""
    taken = Booking.objects.with_taken_pence().values_list("taken_pence", flat=True).get(pk=booking.pk)
    return booking.balance_due(taken)


@transaction.atomic
def payment_take_at_desk(*, booking: Booking, method: str, actor, now: datetime | None = None) -> Payment:
    """Reception took the amount due on the card terminal or in cash: record it now, with who took it.

    The booking row is locked, so two receptionists pressing "Take payment" at
    once record one payment; the second is told it has been paid (NothingToPay).
    """
    now = now or timezone.now()
    if method not in CLINIC_METHODS:
        raise InvalidPaymentMethod(errors={"method": "Choose card terminal or cash."})
    booking = Booking.objects.select_for_update(of=("self",)).get(pk=booking.pk)
    due = balance_due_pence(booking=booking)
    if due <= 0:
        raise NothingToPay()
    payment = Payment.objects.create(
        booking=booking,
        method=method,
        status=Payment.Status.SUCCEEDED,
        amount_pence=due,
        idempotency_key=f"booking-{booking.pk}-desk-{uuid.uuid4().hex}",
        paid_at=now,
        created_by=actor_or_none(actor),
    )
    BookingEvent.objects.create(
        booking=booking, action=BookingEvent.Action.PAYMENT, actor=actor_or_none(actor), from_status=booking.status,
        to_status=booking.status, reason=f"Paid {due} pence ({payment.get_method_display()}) at the desk.",
        data={"payment_id": payment.pk},
    )
    outbox_enqueue(task=notifications.send_payment_receipt, kwargs={"payment_id": payment.pk}, key=f"payment_receipt:{payment.pk}")
    return payment


# --- Refunds ----------------------------------------------------------------------------


def _payment_status_refresh(payment: Payment) -> None:
    """'Refunded' only for money that is back: refunds pending or unsent do not count here."""
    if payment.status not in Payment.PAID_STATUSES:
        return
    settled = payment.settled_refund_pence
    status = (
        Payment.Status.SUCCEEDED if settled == 0
        else Payment.Status.REFUNDED if settled >= payment.amount_pence
        else Payment.Status.PARTIALLY_REFUNDED
    )
    if status != payment.status:
        payment.status = status
        payment.save(update_fields=["status", "updated_at"])


def desk_refund_message(*, payment: Payment, amount_pence: int, reason: str) -> str:
    """Reception's task for a desk refund (also rewritten without the reason by an erasure, privacy.services)."""
    return f"Refund £{amount_pence / 100:.2f} at the desk ({payment.get_method_display()}): {reason}"


def _refund_row(payment: Payment, *, amount_pence: int, reason: str, actor, auto: bool, retry_of: Refund | None = None) -> Refund:
    refund = Refund.objects.create(payment=payment, amount_pence=amount_pence, reason=reason, created_by=actor_or_none(actor),
                                   auto=auto, retry_of=retry_of)
    if payment.method in CLINIC_METHODS:
        # Desk money goes back by hand: a task for reception, done and logged by a person.
        attention_raise(
            key=f"desk_refund:{refund.pk}", kind=Attention.Kind.DESK_REFUND, refund=refund, payment=payment,
            amount_pence=amount_pence,
            message=desk_refund_message(payment=payment, amount_pence=amount_pence, reason=reason),
        )
    else:
        outbox_enqueue(task=refund_send, kwargs={"refund_id": refund.pk}, key=f"refund_send:{refund.pk}")
    return refund


@transaction.atomic
def booking_refund(
    *, booking: Booking, amount_pence: int, reason: str, actor=None, auto: bool = False, payments: list | None = None
) -> list[Refund]:
    """Refund up to what was paid, newest payment first. We check the limit; Stripe checks it again.

    The provider is asked after commit (refund_send); if it cannot be reached
    the row stays pending and reconcile_payments retries it with the same
    idempotency key. Desk payments are never refunded automatically: each
    becomes a task on reception's list.
    """
    if amount_pence <= 0:
        return []
    if not reason.strip():
        raise DomainError("Give a reason for the refund.", errors={"reason": "A reason is required."})
    ids = [p.pk for p in payments] if payments is not None else None
    query = Payment.objects.select_for_update().filter(booking=booking, status__in=Payment.PAID_STATUSES)
    if ids is not None:
        query = query.filter(pk__in=ids)
    payments = list(query.order_by("-paid_at"))
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
        refunds.append(_refund_row(payment, amount_pence=part, reason=reason, actor=actor, auto=auto))
        remaining -= part
        if remaining == 0:
            break
    BookingEvent.objects.create(
        booking=booking, action=BookingEvent.Action.REFUND, to_status=booking.status,
        actor=actor_or_none(actor), reason=reason,
        data={"amount_pence": amount_pence, "refund_ids": [r.pk for r in refunds], "auto_refunded": auto},
    )
    return refunds


@transaction.atomic
def refund_desk_done(*, refund_id: int, actor, note: str = "") -> Refund:
    """Reception handed a desk refund back (card terminal or cash): done, by whom, logged."""
    refund = Refund.objects.select_related("payment__booking").get(pk=refund_id)
    payment = _lock_refund_payment(refund)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if payment.method not in CLINIC_METHODS:
        raise InvalidStatusChange("Only desk payments are refunded by hand.")
    if refund.status == Refund.Status.PENDING:
        refund.status = Refund.Status.SUCCEEDED
        refund.save(update_fields=["status"])
        _payment_status_refresh(payment)
        BookingEvent.objects.create(
            booking=payment.booking, action=BookingEvent.Action.REFUND, to_status=payment.booking.status,
            actor=actor_or_none(actor), reason=f"Refunded £{refund.amount_pence / 100:.2f} at the desk. {note}".strip(),
            data={"refund_ids": [refund.pk], "desk": True},
        )
    attention_resolve(key=f"desk_refund:{refund.pk}", resolution=note or "Refunded at the desk.", actor=actor)
    return refund


_REFUND_STATUS = {"succeeded": Refund.Status.SUCCEEDED, "failed": Refund.Status.FAILED, "canceled": Refund.Status.FAILED}


def _root(refund: Refund) -> Refund:
    while refund.retry_of is not None:  # a null retry_of_id reads None without a query
        refund = refund.retry_of
    return refund


def _refund_accepted(refund: Refund) -> None:
    """Stripe accepted a refund (it has an id and has not failed): resolve its failure, if it was
    a retry, and tell the patient about an automatic refund, once."""
    if not refund.stripe_refund_id or refund.status == Refund.Status.FAILED:
        return
    if refund.retry_of_id:
        attention_resolve(key=f"refund_failed:{_root(refund).pk}", resolution=f"Retried: Stripe accepted {refund.stripe_refund_id}.")
    if refund.auto and refund.patient_told_at is None:
        if Refund.objects.filter(pk=refund.pk, patient_told_at__isnull=True).update(patient_told_at=timezone.now()):
            outbox_enqueue(task=notifications.send_payment_auto_refunded, kwargs={"payment_id": refund.payment_id},
                           key=f"payment_auto_refunded:{refund.payment_id}")


def refund_send(*, refund_id: int) -> Refund:
    """Ask the provider to pay a committed refund row back. Safe to call again (same idempotency key).

    Never called inside a transaction holding locks (after commit, or from reconcile)."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.stripe_refund_id or refund.status != Refund.Status.PENDING or refund.payment.method in CLINIC_METHODS:
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
        refund_mark_failed(refund_id=refund.pk, reason=f"Refused by Stripe: {exc}")
        refund.refresh_from_db()
        return refund
    except gateway.GatewayUnavailable:
        log.exception("refund %s could not reach the provider; reconcile_payments retries it", refund.pk)
        return refund
    _refund_claim_id(refund_id=refund.pk, stripe_refund_id=result.id)
    refund_record_from_provider(result=result)
    refund.refresh_from_db()
    return refund


@transaction.atomic
def _refund_claim_id(*, refund_id: int, stripe_refund_id: str) -> None:
    """Our row gets the id Stripe gave it, unless a webhook matched it first (then it has one)."""
    refund = Refund.objects.get(pk=refund_id)
    _lock_payment(pk=refund.payment_id)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if not refund.stripe_refund_id and not Refund.objects.filter(stripe_refund_id=stripe_refund_id).exists():
        refund.stripe_refund_id = stripe_refund_id
        refund.save(update_fields=["stripe_refund_id"])


@transaction.atomic
def refund_mark_failed(*, refund_id: int, reason: str) -> None:
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    payment = _lock_refund_payment(refund)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status == Refund.Status.FAILED:
        return
    refund.status = Refund.Status.FAILED
    refund.failure_reason = reason[:255]
    refund.save(update_fields=["status", "failure_reason"])
    _payment_status_refresh(payment)
    root = _root(refund)
    attention_raise(
        key=f"refund_failed:{root.pk}", kind=Attention.Kind.REFUND_FAILED, refund=root, payment=payment,
        amount_pence=refund.amount_pence,
        message=f"Refund of £{refund.amount_pence / 100:.2f} failed at Stripe ({reason}). reconcile_payments retries it "
                f"up to {MAX_REFUND_ATTEMPTS} times; then refund it by hand.",
    )
    BookingEvent.objects.create(
        booking=payment.booking, action=BookingEvent.Action.NOTE, to_status=payment.booking.status,
        reason=f"Refund of {refund.amount_pence} pence failed at the provider: {reason}"[:1000],
        data={"refund_id": refund.pk},
    )


def payment_known(*, payment_intent_id: str) -> bool:
    return bool(payment_intent_id) and Payment.objects.filter(payment_intent_id=payment_intent_id).exists()


def refund_known(*, stripe_refund_id: str) -> bool:
    return Refund.objects.filter(stripe_refund_id=stripe_refund_id).exists()


@transaction.atomic
def refund_record_from_provider(
    *, result: gateway.RefundResult, reason: str = "Refunded in the Stripe dashboard."
) -> Refund | None:
    """A refund the provider told us about (refund.* events, our own call's answer, reconcile).

    One row per Stripe refund id, whatever the order. Ours (its metadata names
    our row, which has no id yet): the id and status are filled in. Made in the
    Stripe dashboard: recorded. Never matched by amount.
    """
    payment = _lock_payment(payment_intent_id=result.payment_intent_id) if result.payment_intent_id else None
    refund = Refund.objects.select_for_update().filter(stripe_refund_id=result.id).first()
    if refund is None:
        if payment is None:
            log.info("refund %s matches no payment of ours", result.id)
            return None
        ours = (result.metadata or {}).get("refund_id", "")
        refund = (
            payment.refunds.select_for_update().filter(pk=int(ours), stripe_refund_id="").first()
            if ours.isdigit() else None
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
            _after_provider_refund(payment)
            return refund
        refund.stripe_refund_id = result.id
        refund.save(update_fields=["stripe_refund_id"])
    if payment is None:
        payment = _lock_refund_payment(refund)
    status = _REFUND_STATUS.get(result.status, Refund.Status.PENDING)
    if refund.status == Refund.Status.FAILED or (refund.status == Refund.Status.SUCCEEDED and status == Refund.Status.PENDING):
        return refund  # failed is final; a late "pending" never undoes "succeeded"
    if status == Refund.Status.FAILED:
        refund_mark_failed(refund_id=refund.pk, reason=f"Stripe reports the refund {result.status}.")
        refund.refresh_from_db()
        return refund
    if refund.status != status:
        refund.status = status
        refund.save(update_fields=["status"])
    _refund_accepted(refund)
    _after_provider_refund(payment)
    return refund


def _after_provider_refund(payment: Payment) -> None:
    """Our status follows settled refunds; a booking is never left confirmed once Stripe has
    refunded its payment in full."""
    payment.refresh_from_db()
    _payment_status_refresh(payment)
    booking = payment.booking
    booking.refresh_from_db()
    if (
        booking.status == Booking.Status.CONFIRMED and not payment.auto_refunded
        and payment.status in Payment.PAID_STATUSES and _refunded_in_full_at_provider(payment)
    ):
        booking_cancel(booking=booking, reason="Refunded in full at Stripe.", refund_pence=0, by_staff=True)
        _refunded_at_provider_flag(payment)


@transaction.atomic
def payment_charge_refunded(*, payment_intent_id: str, amount_refunded: int, refunds: list[gateway.RefundResult]) -> None:
    """charge.refunded: Stripe's total is kept beside our rows, never added to them. The rows come
    from refund.* events or from Stripe's refund list (`refunds`, fetched before the transaction;
    reconcile_payments fetches it when a total is ahead of our rows)."""
    payment = _lock_payment(payment_intent_id=payment_intent_id) if payment_intent_id else None
    if payment is None:
        return
    for result in refunds:
        refund_record_from_provider(result=result)
    payment.refresh_from_db()
    if payment.provider_refunded_pence != amount_refunded:
        payment.provider_refunded_pence = amount_refunded
        payment.save(update_fields=["provider_refunded_pence", "updated_at"])
    _after_provider_refund(payment)


@transaction.atomic
def refund_retry(*, refund_id: int) -> Refund | None:
    """A refund Stripe failed or refused: a new row (new idempotency key) for the same money, or
    what is left of it, while attempts remain. Callers sync the payment's Stripe refunds first."""
    failed = Refund.objects.select_related("payment").get(pk=refund_id)
    payment = _lock_refund_payment(failed)
    failed = Refund.objects.select_for_update().get(pk=refund_id)
    if failed.status != Refund.Status.FAILED or Refund.objects.filter(retry_of=failed).exists():
        return None
    attempts, node = 1, failed
    while node.retry_of is not None:
        attempts, node = attempts + 1, node.retry_of
    # What is left to give: a refund made meanwhile elsewhere (the dashboard) is not given twice.
    amount = min(failed.amount_pence, payment.refundable_pence)
    if attempts >= MAX_REFUND_ATTEMPTS or payment.method in CLINIC_METHODS or amount <= 0:
        return None
    return _refund_row(payment, amount_pence=amount, reason=failed.reason, actor=None, auto=failed.auto,
                       retry_of=failed)
