"""Refunds through the emulator: limits, cancellation policy, a late payment for a lost slot."""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.services import booking_cancel
from booking.exceptions import BookingError, RefundTooLarge
from booking.models import Booking, BookingEvent
from payments import reconcile, services
from payments.models import Payment, Refund
from tests.factories import ReceptionistFactory, UserFactory

from .conftest import emulator_client, emulator_pay, free_port, make_event, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(client, stripe_mode, hold, on_commit):
    """A booking confirmed by Stripe's webhook; the money is a real PaymentIntent in the emulator."""
    booking = hold()
    payment = services.payment_start(booking=booking)
    session = emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    with on_commit():
        post_event(client, make_event("checkout.session.completed", session))
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    return booking, payment


def _emulator_refunded(url, payment) -> int:
    charge = emulator_client(url).v1.payment_intents.retrieve(payment.payment_intent_id).latest_charge
    charge_id = charge if isinstance(charge, str) else charge.id  # localstripe expands it
    return emulator_client(url).v1.charges.retrieve(charge_id).amount_refunded


def test_partial_refunds_never_exceed_what_was_paid(stripe_mode, paid, on_commit):
    booking, payment = paid
    staff = ReceptionistFactory()
    with on_commit():
        [first] = services.booking_refund(booking=booking, amount_pence=5000, reason="Session cut short", actor=staff)
    first.refresh_from_db()
    assert first.stripe_refund_id.startswith("re_") and first.status == Refund.Status.SUCCEEDED
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PARTIALLY_REFUNDED
    assert services.paid_pence(booking=booking) == 2500
    with pytest.raises(RefundTooLarge):
        services.booking_refund(booking=booking, amount_pence=2501, reason="Too much", actor=staff)
    assert Refund.objects.count() == 1
    with on_commit():
        services.booking_refund(booking=booking, amount_pence=2500, reason="The rest", actor=staff)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert services.paid_pence(booking=booking) == 0
    assert _emulator_refunded(stripe_mode, payment) == 7500  # Stripe's side agrees
    with pytest.raises(RefundTooLarge):
        services.booking_refund(booking=booking, amount_pence=1, reason="Nothing left", actor=staff)


def test_refund_needs_a_reason(stripe_mode, paid):
    booking, _ = paid
    with pytest.raises(BookingError):
        services.booking_refund(booking=booking, amount_pence=100, reason=" ", actor=ReceptionistFactory())
    assert Refund.objects.count() == 0


def test_staff_cancel_with_a_refund_above_paid_writes_nothing(stripe_mode, paid):
    booking, _ = paid
    with pytest.raises(RefundTooLarge):
        booking_cancel(
            booking=booking, actor=ReceptionistFactory(), reason="Clinic closed", refund_pence=7501, by_staff=True
        )
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert Refund.objects.count() == 0


def test_patient_cancellation_outside_the_window_refunds_in_full_through_stripe(stripe_mode, paid, on_commit, mailoutbox):
    booking, payment = paid
    with on_commit():
        cancelled = booking_cancel(booking=booking, actor=booking.patient, reason="Feeling better")
    assert cancelled.refund_pence == 7500
    refund = Refund.objects.get()
    assert (refund.amount_pence, refund.status) == (7500, Refund.Status.SUCCEEDED)
    assert refund.stripe_refund_id.startswith("re_")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert _emulator_refunded(stripe_mode, payment) == 7500


def test_refund_that_cannot_reach_stripe_is_retried_by_reconcile(settings, stripe_mode, paid, on_commit):
    booking, payment = paid
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{free_port()}"
    with on_commit():
        services.booking_refund(booking=booking, amount_pence=3000, reason="Goodwill", actor=ReceptionistFactory())
    refund = Refund.objects.get()
    assert (refund.status, refund.stripe_refund_id) == (Refund.Status.PENDING, "")
    assert services.paid_pence(booking=booking) == 4500  # counted as on its way: never refunded twice
    settings.STRIPE_API_BASE = stripe_mode
    report = reconcile.payments_reconcile()
    refund.refresh_from_db()
    assert report.refunds_retried == 1
    assert refund.status == Refund.Status.SUCCEEDED and refund.stripe_refund_id.startswith("re_")
    assert _emulator_refunded(stripe_mode, payment) == 3000
    reconcile.payments_reconcile()  # idempotent
    assert _emulator_refunded(stripe_mode, payment) == 3000


def test_late_payment_for_a_lost_slot_is_refunded_in_full_and_shown_to_reception(
    client, stripe_mode, hold, on_commit, mailoutbox, admin_client
):
    late = hold()
    payment = services.payment_start(booking=late)
    # The hold lapses while the patient is still on Stripe's page; someone else takes the time.
    Booking.objects.filter(pk=late.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    other = hold(patient=UserFactory())
    assert other.start == late.start
    session = emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    with on_commit():
        assert post_event(client, make_event("checkout.session.completed", session)).status_code == 200
    late.refresh_from_db()
    payment.refresh_from_db()
    other.refresh_from_db()
    assert late.status == Booking.Status.EXPIRED
    assert other.status == Booking.Status.HELD
    assert payment.status == Payment.Status.REFUNDED
    assert payment.auto_refunded
    refund = Refund.objects.get()
    assert refund.amount_pence == 7500 and refund.stripe_refund_id.startswith("re_")
    assert _emulator_refunded(stripe_mode, payment) == 7500
    event = BookingEvent.objects.get(booking=late, action=BookingEvent.Action.REFUND)
    assert event.data["auto_refunded"] is True
    [mail] = mailoutbox
    assert mail.to == [late.patient.email] and "refunded" in mail.subject
    assert "no longer available" in mail.body and "£75.00" in mail.body
    listing = admin_client.get("/admin/payments/payment/?auto_refunded__exact=1")
    assert listing.status_code == 200
    assert f"/admin/payments/payment/{payment.pk}/change/" in listing.content.decode()


def test_late_payment_while_the_slot_is_still_free_confirms(client, stripe_mode, hold, on_commit):
    booking = hold()
    payment = services.payment_start(booking=booking)
    Booking.objects.filter(pk=booking.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    session = emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    with on_commit():
        post_event(client, make_event("checkout.session.completed", session))
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.SUCCEEDED and not payment.auto_refunded
    assert Refund.objects.count() == 0
    # The hold went straight to confirmed: it was never marked expired on the way (which would
    # also have told the waitlist its time had come free).
    assert list(booking.events.order_by("pk").values_list("action", flat=True)) == [
        BookingEvent.Action.HELD, BookingEvent.Action.PAYMENT, BookingEvent.Action.CONFIRMED]


def test_second_paid_checkout_of_one_booking_is_refunded(client, stripe_mode, hold, on_commit):
    booking = hold()
    first = services.payment_start(booking=booking)
    second = services.gateway.current().checkout_session_create(
        services._checkout_request(booking, idempotency_key="second-tab", expires_at=first.expires_at)
    )
    Payment.objects.create(booking=booking, method=Payment.Method.STRIPE_CHECKOUT, amount_pence=7500,
                           checkout_session_id=second.id, idempotency_key="second-tab")
    with on_commit():
        post_event(client, make_event("checkout.session.completed", emulator_pay(stripe_mode, first.checkout_session_id, 7500)))
        post_event(client, make_event("checkout.session.completed", emulator_pay(stripe_mode, second.id, 7500)))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    twice = Payment.objects.get(checkout_session_id=second.id)
    assert twice.auto_refunded and twice.status == Payment.Status.REFUNDED
    assert services.paid_pence(booking=booking) == 7500


def test_stripe_events_about_our_own_refund_do_not_record_it_twice(client, stripe_mode, paid, on_commit):
    booking, payment = paid
    with on_commit():
        [ours] = services.booking_refund(booking=booking, amount_pence=2000, reason="Goodwill", actor=ReceptionistFactory())
    ours.refresh_from_db()
    stripe = emulator_client(stripe_mode)
    refund = stripe.v1.refunds.retrieve(ours.stripe_refund_id).to_dict()
    charge = stripe.v1.charges.retrieve(refund["charge"]).to_dict()
    with on_commit():
        post_event(client, make_event("refund.created", refund))
        post_event(client, make_event("charge.refunded", charge))
        post_event(client, make_event("refund.updated", refund))
    assert list(Refund.objects.values_list("amount_pence", "stripe_refund_id")) == [(2000, ours.stripe_refund_id)]
    assert services.paid_pence(booking=booking) == 5500


def test_refund_webhook_that_beats_our_own_save_matches_the_pending_row(stripe_mode, paid):
    booking, payment = paid
    services.booking_refund(booking=booking, amount_pence=2000, reason="Goodwill", actor=ReceptionistFactory())
    pending = Refund.objects.get()  # committed in the test transaction, provider not asked yet
    assert pending.stripe_refund_id == ""
    # Matched by the metadata we send with the refund (our row's id), never by amount.
    result = services.gateway.RefundResult(id="re_from_webhook", status="succeeded", amount=2000,
                                           payment_intent_id=payment.payment_intent_id,
                                           metadata={"refund_id": str(pending.pk)})
    services.refund_record_from_provider(result=result)
    pending.refresh_from_db()
    assert (pending.stripe_refund_id, pending.status) == ("re_from_webhook", Refund.Status.SUCCEEDED)
    assert Refund.objects.count() == 1
    services.refund_send(refund_id=pending.pk)  # the late provider answer: nothing to do
    assert Refund.objects.get().stripe_refund_id == "re_from_webhook"


def test_failed_refund_no_longer_counts(stripe_mode, paid, on_commit):
    booking, payment = paid
    with on_commit():
        [ours] = services.booking_refund(booking=booking, amount_pence=7500, reason="Cancelled", actor=ReceptionistFactory())
    ours.refresh_from_db()
    failed = services.gateway.RefundResult(id=ours.stripe_refund_id, status="failed", amount=7500,
                                           payment_intent_id=payment.payment_intent_id)
    services.refund_record_from_provider(result=failed)
    payment.refresh_from_db()
    assert Refund.objects.get().status == Refund.Status.FAILED
    assert payment.status == Payment.Status.SUCCEEDED
    assert services.paid_pence(booking=booking) == 7500
    assert BookingEvent.objects.filter(booking=booking, action=BookingEvent.Action.NOTE).exists()


def test_payment_for_a_booking_cancelled_meanwhile_is_refunded_not_rebooked(client, stripe_mode, hold, on_commit, mailoutbox):
    booking = hold()
    payment = services.payment_start(booking=booking)
    with on_commit():
        booking_cancel(booking=booking, actor=booking.patient, reason="Changed my mind")
    # The patient had already paid in another tab before our expire reached Stripe.
    from .conftest import emulator_paid_intent

    session = {**emulator_client(stripe_mode).v1.checkout.sessions.retrieve(payment.checkout_session_id).to_dict(),
               "status": "complete", "payment_status": "paid",
               "payment_intent": emulator_paid_intent(stripe_mode, 7500)}
    mailoutbox.clear()
    with on_commit():
        assert post_event(client, make_event("checkout.session.completed", session)).status_code == 200
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert payment.auto_refunded and payment.status == Payment.Status.REFUNDED
    assert Refund.objects.get().stripe_refund_id.startswith("re_")
    assert "already been cancelled" in mailoutbox[0].body
