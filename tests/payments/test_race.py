"""20 deliveries of the same event at once: applied exactly once (PostgreSQL, real threads)."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from booking.models import Booking, BookingEvent
from payments import services
from payments.models import Payment, StripeEvent

from .conftest import emulator_pay, make_event, sign

pytestmark = [pytest.mark.postgres, pytest.mark.booking, pytest.mark.django_db(transaction=True)]

THREADS = 20


def _deliver_all(bodies: list[str]) -> list[tuple[int, bytes]]:
    barrier = threading.Barrier(len(bodies))
    results: list = [None] * len(bodies)

    def deliver(i: int, body: str) -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = client.post(
                "/payments/stripe/webhook/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body)
            )
            results[i] = (response.status_code, response.content)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[i] = (0, repr(exc).encode())
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=deliver, args=(i, body)) for i, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


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
