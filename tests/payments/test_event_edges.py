"""Provider events on SQLite: what is refused, what waits, and what a completed checkout must match.

Each test closes a mutant of payments/ (`make mutation`, issue 19) that the
SQLite selection did not catch (the PostgreSQL-only findings suite covers the
Stripe-mode versions).
"""

import json
import logging
import types

import pytest

from booking.models import Booking
from payments import gateway, local_gateway, services, webhooks
from payments.models import Attention, Payment, Refund, StripeEvent

from .conftest import make_event

pytestmark = pytest.mark.django_db


def session_paid(payment: Payment, *, currency: str = "gbp", intent: str = "pi_test_1") -> gateway.CheckoutSession:
    return gateway.CheckoutSession(
        id=payment.checkout_session_id, url="", status="complete", payment_status="paid",
        amount_total=payment.amount_pence, currency=currency, payment_intent_id=intent, metadata={},
    )


def refund_event(intent: str, *, refund_id: str = "re_dashboard", amount: int = 2500) -> dict:
    return make_event("refund.created", {"id": refund_id, "object": "refund", "amount": amount, "currency": "gbp",
                                         "status": "succeeded", "payment_intent": intent, "metadata": {}})


# --- what event_from_json refuses ------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda event: event.pop("id"), id="no id"),
        pytest.param(lambda event: event.update(created=True), id="created is a boolean"),
        pytest.param(lambda event: event["data"].update(object="cs_1"), id="object is not an object"),
    ],
)
def test_an_event_stripe_would_never_send_is_refused(change):
    event = make_event("customer.created", {"id": "cus_1"})
    change(event)
    with pytest.raises(gateway.InvalidEvent):
        gateway.event_from_json(json.dumps(event))


# --- a refund before its payment waits, and is applied when the payment appears ---------------


def test_a_refund_event_before_its_payment_waits_and_is_applied_when_the_payment_completes(hold, caplog):
    booking = hold()
    payment = services.payment_start(booking=booking)
    event = refund_event("pi_test_1")
    with caplog.at_level(logging.INFO, logger="payments.webhooks"):
        webhooks.dispatch(gateway.event_from_json(json.dumps(event)))
    assert f"event {event['id']} waits for payment intent pi_test_1" in caplog.messages
    assert StripeEvent.objects.get().waiting_for == "pi_test_1"
    assert not Refund.objects.exists()
    services.payment_checkout_completed(session=session_paid(payment))
    assert list(Refund.objects.values_list("stripe_refund_id", "amount_pence")) == [("re_dashboard", 2500)]
    assert StripeEvent.objects.get().waiting_for == ""


# --- a completed checkout must be for our amount and currency ---------------------------------


def test_a_checkout_paid_in_another_currency_confirms_nothing_and_is_listed(hold):
    booking = hold()
    payment = services.payment_start(booking=booking)
    services.payment_checkout_completed(session=session_paid(payment, currency="eur"))
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert booking.status != Booking.Status.CONFIRMED
    assert Attention.objects.get(kind=Attention.Kind.MISMATCH).payment == payment


# --- a one-penny payment refunded in full at Stripe --------------------------------------------


def test_a_one_penny_payment_refunded_in_full_in_the_dashboard_cancels_its_booking(clinic, hold, on_commit):
    service, _ = clinic
    service.price_pence = 1
    service.save()
    booking = hold()
    payment = services.payment_start(booking=booking)
    assert payment.amount_pence == 1
    with on_commit():
        local_gateway.checkout_session_pay(payment.checkout_session_id)
    payment.refresh_from_db()
    webhooks.dispatch(gateway.event_from_json(json.dumps(refund_event(payment.payment_intent_id, amount=1))))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


# --- charge.refunded ahead of our rows: Stripe's refund list is fetched and recorded ------------


def test_charge_refunded_ahead_of_our_rows_records_the_refunds_stripe_lists(hold, on_commit):
    booking = hold()
    payment = services.payment_start(booking=booking)
    with on_commit():
        local_gateway.checkout_session_pay(payment.checkout_session_id)
    payment.refresh_from_db()
    listing = types.ModuleType("tests.listing.local_gateway")
    listing.__dict__.update({name: getattr(local_gateway, name) for name in dir(local_gateway) if not name.startswith("__")})
    listing.refund_list = lambda intent: [
        gateway.RefundResult(id="re_listed", status="succeeded", amount=2500, payment_intent_id=intent)
    ]
    gateway.use_gateway(listing)
    event = make_event("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": payment.payment_intent_id,
                                           "amount_refunded": 2500})
    webhooks.dispatch(gateway.event_from_json(json.dumps(event)))
    assert list(Refund.objects.values_list("stripe_refund_id", "amount_pence")) == [("re_listed", 2500)]
    payment.refresh_from_db()
    assert payment.provider_refunded_pence == 2500


# --- what session_from_dict and the amount and metadata checks refuse, and why ----------------


def test_a_checkout_session_without_an_id_is_refused():
    with pytest.raises(gateway.InvalidEvent):
        gateway.session_from_dict({"object": "checkout.session", "status": "complete"})


def test_the_refusal_names_a_bad_amount_and_bad_metadata():
    with pytest.raises(gateway.InvalidEvent, match="^amount_total is not an amount in pence$"):
        gateway.session_from_dict({"id": "cs_1", "amount_total": "75.00"})
    with pytest.raises(gateway.InvalidEvent, match="^metadata is not a map of strings$"):
        gateway.session_from_dict({"id": "cs_1", "metadata": {"booking_id": 7}})


def test_a_paid_checkout_that_is_not_ours_is_listed_with_its_metadata(db):
    session = gateway.session_from_dict({"id": "cs_stranger", "status": "complete", "payment_status": "paid",
                                         "amount_total": 7500, "currency": "gbp", "metadata": {"booking_id": "999"}})
    assert services.payment_checkout_completed(session=session) is None
    assert "'booking_id': '999'" in Attention.objects.get(kind=Attention.Kind.UNKNOWN_SESSION).message


# --- a charge.refunded before its payment waits too ------------------------------------------


def test_a_partial_charge_refunded_before_its_payment_is_kept_as_stripes_total_when_it_completes(hold):
    booking = hold()
    payment = services.payment_start(booking=booking)
    event = make_event("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_test_1",
                                           "amount_refunded": 2500})
    webhooks.dispatch(gateway.event_from_json(json.dumps(event)))
    assert StripeEvent.objects.get().waiting_for == "pi_test_1"
    services.payment_checkout_completed(session=session_paid(payment))
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert (payment.provider_refunded_pence, booking.status) == (2500, Booking.Status.CONFIRMED)
    assert not Refund.objects.exists()


def test_paying_for_a_lapsed_hold_is_refused_with_a_way_forward(hold, settings):
    from datetime import timedelta

    from django.utils import timezone

    from booking.exceptions import InvalidStatusChange

    booking = hold()
    with pytest.raises(InvalidStatusChange) as refusal:
        services.payment_start(booking=booking, now=timezone.now() + timedelta(hours=1))
    assert str(refusal.value) == "This booking is no longer held for payment. Please choose a time again."
