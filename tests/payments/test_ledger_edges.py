"""The ledger in the local test-payment mode, where the PostgreSQL-only suites hid holes on SQLite.

Each test closes a mutant of payments/ (`make mutation`, issue 19) that no test
run on SQLite caught: the audit's figures, what a refund sent to the provider
carries, refund events matched to our row, a dashboard refund, a refund event
without its payment intent, desk money, a failed refund retried by
reconcile, and an open checkout closed at the provider by the outbox.
"""

import json
import logging
import types
from datetime import timedelta

import pytest
from django.utils import timezone

from booking.models import Booking, BookingEvent
from payments import gateway, local_gateway, reconcile, services, webhooks
from payments.models import Attention, LocalCheckoutSession, Payment, Refund, StripeEvent
from tests.factories import BookingFactory, ReceptionistFactory

from .conftest import FAKE_KEY, make_event, next_weekday_10am

pytestmark = pytest.mark.django_db


@pytest.fixture
def pay(hold, on_commit):
    """pay(start=None) -> (booking, payment): held, checked out and paid in the local mode, confirmed."""

    def make(start=None):
        booking = hold(start=start)
        payment = services.payment_start(booking=booking)
        with on_commit():
            local_gateway.checkout_session_pay(payment.checkout_session_id)
        booking.refresh_from_db()
        payment.refresh_from_db()
        assert booking.status == Booking.Status.CONFIRMED and payment.status == Payment.Status.SUCCEEDED
        return booking, payment

    return make


def deliver(event_type: str, obj: dict) -> None:
    webhooks.dispatch(gateway.event_from_json(json.dumps(make_event(event_type, obj))))


def refund_object(refund_id: str, *, amount: int, status: str, intent: str | None, metadata: dict | None = None) -> dict:
    return {"id": refund_id, "object": "refund", "amount": amount, "currency": "gbp", "status": status,
            "payment_intent": intent, "metadata": metadata or {}}


# --- payments_audit ------------------------------------------------------------------------


def test_the_audit_counts_every_provider_payment_and_finds_nothing_when_the_books_agree(pay):
    pay()
    pay(start=next_weekday_10am() + timedelta(hours=2))
    report = reconcile.payments_audit()
    assert (report.checked, report.discrepancies, report.unreachable) == (2, [], 0)


def test_the_audit_sees_an_open_checkout_as_nothing_taken(hold):
    services.payment_start(booking=hold())
    report = reconcile.payments_audit()
    assert (report.checked, report.discrepancies) == (1, [])


def test_the_audit_reports_a_paid_checkout_we_never_heard_of(hold):
    booking = hold()
    payment = services.payment_start(booking=booking)
    local_gateway.checkout_session_pay(payment.checkout_session_id)  # its event is never delivered
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    [found] = reconcile.payments_audit().discrepancies
    assert found == reconcile.Discrepancy(payment.pk, booking.pk, "captured", 0, 7500)
    assert str(found) == f"payment {payment.pk} (booking {booking.pk}): captured ours 0 pence, Stripe 7500 pence"


def test_the_audit_reports_a_refund_at_the_provider_we_never_recorded(pay):
    booking, payment = pay()
    LocalCheckoutSession.objects.filter(session_id=payment.checkout_session_id).update(refunded_pence=2500)
    [found] = reconcile.payments_audit().discrepancies
    assert found == reconcile.Discrepancy(payment.pk, booking.pk, "refunded", 0, 2500)


# --- refunds sent and heard of ---------------------------------------------------------------


def test_a_refund_sent_to_the_provider_names_our_row_and_booking_under_its_own_idempotency_key(pay, monkeypatch):
    booking, payment = pay()
    calls = []
    recording = types.ModuleType("tests.recording.local_gateway")
    recording.__dict__.update({name: getattr(local_gateway, name) for name in dir(local_gateway) if not name.startswith("__")})

    def refund_create(**kwargs):
        calls.append(kwargs)
        return local_gateway.refund_create(**kwargs)

    recording.refund_create = refund_create
    gateway.use_gateway(recording)
    [refund] = services.booking_refund(booking=booking, amount_pence=2500, reason="Session cut short",
                                       actor=ReceptionistFactory())
    services.refund_send(refund_id=refund.pk)
    assert calls == [{
        "payment_intent_id": payment.payment_intent_id, "amount_pence": 2500, "idempotency_key": f"refund-{refund.pk}",
        "metadata": {"refund_id": str(refund.pk), "booking_id": str(booking.pk)},
    }]


def test_a_refund_event_naming_our_row_fills_that_row_before_our_own_call_returns(pay):
    booking, payment = pay()
    [ours] = services.booking_refund(booking=booking, amount_pence=2500, reason="Session cut short",
                                     actor=ReceptionistFactory())
    deliver("refund.created", refund_object("re_ours", amount=2500, status="succeeded", intent=payment.payment_intent_id,
                                            metadata={"refund_id": str(ours.pk)}))
    assert list(Refund.objects.values_list("pk", "stripe_refund_id", "status")) == [
        (ours.pk, "re_ours", Refund.Status.SUCCEEDED)
    ]


def test_a_full_refund_made_in_the_dashboard_is_recorded_and_cancels_the_booking(pay):
    booking, payment = pay()
    deliver("refund.created", refund_object("re_dashboard", amount=7500, status="succeeded",
                                            intent=payment.payment_intent_id))
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount_pence, refund.reason) == (
        "re_dashboard", 7500, "Refunded in the Stripe dashboard."
    )
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert (booking.status, payment.status) == (Booking.Status.CANCELLED, Payment.Status.REFUNDED)
    assert BookingEvent.objects.filter(booking=booking, action=BookingEvent.Action.CANCELLED).get().reason == (
        "Refunded in full at Stripe."
    )
    flag = Attention.objects.get(kind=Attention.Kind.REFUNDED_AT_STRIPE)
    assert (flag.payment, flag.booking, flag.amount_pence) == (payment, booking, 7500)


def test_an_event_about_a_refund_we_know_is_applied_even_without_its_payment_intent(pay):
    booking, payment = pay()
    [ours] = services.booking_refund(booking=booking, amount_pence=2500, reason="Session cut short",
                                     actor=ReceptionistFactory())
    Refund.objects.filter(pk=ours.pk).update(stripe_refund_id="re_known")
    deliver("refund.failed", refund_object("re_known", amount=2500, status="failed", intent=None))
    ours.refresh_from_db()
    assert ours.status == Refund.Status.FAILED
    assert StripeEvent.objects.get(type="refund.failed").waiting_for == ""


# --- desk money ------------------------------------------------------------------------------


def test_desk_money_owed_taken_and_given_back_by_hand(clinic):
    service, physio = clinic
    booking = BookingFactory(service=service, practitioner=physio, start=next_weekday_10am())
    reception = ReceptionistFactory()
    assert services.balance_due_pence(booking=booking) == 7500
    payment = services.payment_take_at_desk(booking=booking, method=Payment.Method.CASH, actor=reception)
    assert services.balance_due_pence(booking=booking) == 0
    [refund] = services.booking_refund(booking=booking, amount_pence=2500, reason="Shorter session", actor=reception)
    task = Attention.objects.get(kind=Attention.Kind.DESK_REFUND)
    assert (task.refund, task.payment, task.booking, task.amount_pence) == (refund, payment, booking, 2500)


def test_resolving_one_problem_leaves_the_others_on_the_list(clinic):
    first = services.attention_raise(key="one", kind=Attention.Kind.MISMATCH, message="First")
    second = services.attention_raise(key="two", kind=Attention.Kind.MISMATCH, message="Second")
    reception = ReceptionistFactory()
    services.attention_resolve(key="one", resolution="Checked", actor=reception)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.resolved_by, first.resolution) == (reception, "Checked")
    assert second.resolved_at is None


# --- reconcile retries a failed refund ------------------------------------------------------


def test_reconcile_retries_a_failed_refund_once_and_sends_the_retry(pay):
    booking, payment = pay()
    [failed] = services.booking_refund(booking=booking, amount_pence=2500, reason="Session cut short",
                                       actor=ReceptionistFactory())
    services.refund_mark_failed(refund_id=failed.pk, reason="The card was closed.")
    report = reconcile.payments_reconcile(now=timezone.now())
    retry = Refund.objects.get(retry_of=failed)
    assert (retry.amount_pence, retry.status, retry.stripe_refund_id.startswith("re_local_")) == (
        2500, Refund.Status.SUCCEEDED, True
    )
    assert report.refunds_retried == 1
    assert Attention.objects.get(key=f"refund_failed:{failed.pk}").resolved_at is not None


# --- the outbox closes an abandoned checkout at the provider --------------------------------


def test_closing_an_abandoned_checkout_at_the_provider_expires_it_and_releases_the_hold(hold):
    booking = hold()
    payment = services.payment_start(booking=booking)
    services.checkout_session_expire_at_provider(session_id=payment.checkout_session_id)
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == Payment.Status.EXPIRED
    assert LocalCheckoutSession.objects.get(session_id=payment.checkout_session_id).status == "expired"
    assert booking.status == Booking.Status.EXPIRED


def test_a_patient_cancelling_a_held_booking_closes_its_open_checkout_at_the_provider(hold, on_commit):
    """A checkout left open would take the money for a cancelled booking: it is closed, and the hold's
    payment ends expired, with nothing taken and nothing to refund."""
    booking = hold()
    payment = services.payment_start(booking=booking)
    with on_commit():
        services.booking_cancel(booking=booking, actor=booking.patient, reason="Changed my mind")
    payment.refresh_from_db()
    assert LocalCheckoutSession.objects.get(session_id=payment.checkout_session_id).status == "expired"
    assert payment.status == Payment.Status.EXPIRED
    assert Refund.objects.count() == 0
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED


def test_a_checkout_that_cannot_be_closed_at_the_provider_is_logged_and_left_pending(hold, settings, caplog):
    booking = hold()
    payment = services.payment_start(booking=booking)
    settings.STRIPE_SECRET_KEY = FAKE_KEY  # Stripe mode against a closed port: unreachable
    with caplog.at_level(logging.WARNING, logger="payments.services"):
        services.payment_close_checkout(payment=payment)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert f"could not expire checkout {payment.checkout_session_id}; reconcile_payments asks again" in caplog.messages
