"""20 deliveries of the same event at once: applied exactly once (PostgreSQL, real threads)."""

import json
from functools import partial

import pytest
from django.test import Client

from booking.models import Booking, BookingEvent
from payments import services
from payments.models import Payment, StripeEvent
from tests.races import race, split

from .conftest import emulator_pay, make_event, sign

pytestmark = [pytest.mark.postgres, pytest.mark.booking, pytest.mark.django_db(transaction=True)]

THREADS = 20


def _deliver_all(bodies: list[str]) -> list[tuple[int, bytes]]:
    def deliver(body: str):
        return Client().post("/payments/stripe/webhook/", data=body, content_type="application/json",
                             HTTP_STRIPE_SIGNATURE=sign(body))

    responses, _ = split(race(*(partial(deliver, body) for body in bodies)))
    return [(response.status_code, response.content) for response in responses]


def _paid_session(stripe_mode, hold):
    booking = hold()
    payment = services.payment_start(booking=booking)
    return booking, emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)


def test_twenty_threads_delivering_the_same_event_apply_it_once(stripe_mode, hold, mailoutbox):
    booking, session = _paid_session(stripe_mode, hold)
    body = json.dumps(make_event("checkout.session.completed", session))
    results = _deliver_all([body] * THREADS)
    assert [status for status, _ in results] == [200] * THREADS, results
    assert sorted(content for _, content in results) == [b"duplicate"] * (THREADS - 1) + [b"ok"]
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert StripeEvent.objects.count() == 1
    assert BookingEvent.objects.filter(booking=booking, action=BookingEvent.Action.PAYMENT).count() == 1
    assert BookingEvent.objects.filter(booking=booking, action=BookingEvent.Action.CONFIRMED).count() == 1
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    # The confirmation and the receipt, once each.
    assert sorted(m.subject.split(" ")[0] for m in mailoutbox) == ["Booking", "Receipt"]


def test_twenty_different_events_for_one_paid_session_confirm_once(stripe_mode, hold, mailoutbox):
    """completed + async_payment_succeeded + retries under new ids: the payment row lock decides."""
    booking, session = _paid_session(stripe_mode, hold)
    bodies = [
        json.dumps(make_event("checkout.session.completed" if i % 2 else "checkout.session.async_payment_succeeded", session))
        for i in range(THREADS)
    ]
    results = _deliver_all(bodies)
    assert [status for status, _ in results] == [200] * THREADS, results
    assert StripeEvent.objects.count() == THREADS
    assert BookingEvent.objects.filter(booking=booking, action=BookingEvent.Action.PAYMENT).count() == 1
    assert BookingEvent.objects.filter(booking=booking, action=BookingEvent.Action.CONFIRMED).count() == 1
    # The confirmation and the receipt, once each.
    assert sorted(m.subject.split(" ")[0] for m in mailoutbox) == ["Booking", "Receipt"]
