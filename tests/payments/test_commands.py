"""reconcile_payments and expire_holds, run as cron runs them."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from booking.models import Booking
from offers.models import OfferCode
from payments import reconcile, services
from payments.models import Payment

from .conftest import emulator_pay, emulator_session, next_weekday_10am

pytestmark = pytest.mark.django_db


def _run(command, *args):
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_reconcile_recovers_a_booking_whose_webhook_never_came(stripe_mode, hold, on_commit, mailoutbox):
    booking = hold()
    payment = services.payment_start(booking=booking)
    emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)  # paid; the webhook is lost
    with on_commit():
        assert "applied 0" in _run("reconcile_payments")  # too fresh: the webhook may still come
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False), on_commit():
        assert "applied 1" in _run("reconcile_payments")
        _run("reconcile_payments")  # idempotent
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.payment_intent_id.startswith("pi_")
    # The confirmation and the receipt, once each.
    assert [m.subject.split(" ")[0] for m in mailoutbox] == ["Booking", "Receipt"]


def test_reconcile_minutes_option(stripe_mode, hold, on_commit):
    booking = hold()
    payment = services.payment_start(booking=booking)
    emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    with on_commit():
        _run("reconcile_payments", "--minutes", "0")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_reconcile_leaves_an_unpaid_open_checkout_alone(stripe_mode, hold):
    booking = hold()
    services.payment_start(booking=booking)
    _run("reconcile_payments", "--minutes", "0")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert Payment.objects.get().status == Payment.Status.PENDING


def test_expire_holds_expires_booking_releases_code_and_closes_the_session(stripe_mode, hold, offer_code):
    patient, code = offer_code
    booking = hold(patient=patient, offer_code=code.code)
    payment = services.payment_start(booking=booking)
    assert emulator_session(stripe_mode, payment.checkout_session_id)["status"] == "open"
    assert "expired 0" in _run("expire_holds")  # the hold still stands
    with time_machine.travel(booking.hold_expires_at + timedelta(seconds=1), tick=False):
        out = _run("expire_holds")
        assert "expired 1 hold(s), closed 1 checkout(s)" in out
        assert "expired 0 hold(s), closed 0 checkout(s)" in _run("expire_holds")  # idempotent
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    assert payment.status == Payment.Status.EXPIRED
    assert OfferCode.objects.get(pk=code.pk).reserved_by_id is None
    assert emulator_session(stripe_mode, payment.checkout_session_id)["status"] == "expired"


def test_expire_holds_finds_a_session_paid_at_the_last_moment(stripe_mode, hold, on_commit):
    booking = hold()
    payment = services.payment_start(booking=booking)
    emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    with time_machine.travel(booking.hold_expires_at + timedelta(seconds=1), tick=False), on_commit():
        _run("expire_holds")
    booking.refresh_from_db()
    payment.refresh_from_db()
    # Stripe took the money: the slot is still free, so the booking stands.
    assert payment.status == Payment.Status.SUCCEEDED
    assert booking.status == Booking.Status.CONFIRMED


def test_reconcile_reads_each_open_checkouts_booking_with_its_payment_not_one_query_each(
    stripe_mode, hold, django_assert_num_queries
):
    """Three open checkouts of held bookings: the run reads their bookings in the payments' own
    query (select_related), so its cost is one query per checkout applied plus a fixed few, not a
    booking query more per payment."""
    start = next_weekday_10am()
    payments = [services.payment_start(booking=hold(start=start + timedelta(hours=hours))) for hours in range(3)]
    with django_assert_num_queries(len(payments) + 6):
        report = reconcile.payments_reconcile(older_than_minutes=0)
    assert report.applied == len(payments)
    assert set(Payment.objects.values_list("status", flat=True)) == {Payment.Status.PENDING}
