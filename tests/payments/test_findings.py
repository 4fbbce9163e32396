"""Issue 11's payment fault audit: one test per finding, named after it (PostgreSQL, the emulator).

Each failed before the ledger work and passes after it.
"""

import socket
import threading
import time
import types
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from payments.services import booking_cancel
from booking.models import Booking, BookingEvent
from payments import gateway, reconcile, services, stripe_gateway
from payments.models import Attention, Payment, Refund, StripeEvent
from tests.factories import OfferCodeFactory, OfferFactory, ReceptionistFactory, UserFactory

from .conftest import (
    closed_port_url,
    emulator_client,
    emulator_event_count,
    emulator_events,
    emulator_pay,
    emulator_refunded,
    emulator_session,
    make_event,
    post_event,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def started(stripe_mode, hold):
    booking = hold()
    return booking, services.payment_start(booking=booking)


@pytest.fixture
def paid(client, stripe_mode, started, on_commit):
    booking, payment = started
    session = emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    with on_commit():
        assert post_event(client, make_event("checkout.session.completed", session)).status_code == 200
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    return booking, payment


def _deliver(client, events, *types_wanted):
    for event in events:
        if not types_wanted or event["type"] in types_wanted:
            assert post_event(client, event).status_code == 200


def _open_attention(kind):
    return Attention.objects.filter(kind=kind, resolved_at__isnull=True)


# 1 ----------------------------------------------------------------------------------------

def test_finding_01_dashboard_refund_is_recorded_once_when_charge_refunded_comes_first(client, stripe_mode, paid, on_commit):
    booking, payment = paid
    mark = emulator_event_count(stripe_mode)
    emulator_client(stripe_mode).v1.refunds.create({"payment_intent": payment.payment_intent_id, "amount": 2000})
    events = emulator_events(stripe_mode, mark)
    assert [e["type"] for e in events] == ["refund.created", "charge.refunded"]
    assert "refunds" not in events[1]["data"]["object"]  # as Stripe sends it since 2022-11-15
    with on_commit():
        _deliver(client, events[::-1])  # charge.refunded first
        _deliver(client, events)  # and the same events again (retries)
    [row] = Refund.objects.all()
    assert (row.amount_pence, row.stripe_refund_id) == (2000, events[0]["data"]["object"]["id"])
    # A later cancellation refunds exactly the rest: Stripe's total reaches the charge, no more.
    with on_commit():
        cancelled = booking_cancel(booking=booking, actor=booking.patient, reason="Better")
    assert cancelled.refund_pence == 5500
    assert emulator_refunded(stripe_mode, payment.payment_intent_id) == 7500
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert payment.provider_accepted_refund_pence == 7500


# 2 ----------------------------------------------------------------------------------------

def test_finding_02_paid_after_a_cancel_stripe_never_confirmed_is_refunded_by_reconcile(settings, stripe_mode, started, on_commit):
    booking, payment = started
    settings.STRIPE_API_BASE = closed_port_url()  # the expire call cannot reach Stripe
    with on_commit():
        booking_cancel(booking=booking, actor=booking.patient, reason="Changed my mind")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING  # not "expired": Stripe has not said so
    settings.STRIPE_API_BASE = stripe_mode
    emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)  # the session was still open
    with on_commit():
        reconcile.payments_reconcile()  # at once: the booking is cancelled, no need to wait
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert payment.auto_refunded and payment.status == Payment.Status.REFUNDED
    assert emulator_refunded(stripe_mode, payment.payment_intent_id) == 7500


def test_finding_02_paid_with_the_webhook_lost_then_cancelled_is_refunded(stripe_mode, started, on_commit, mailoutbox):
    booking, payment = started
    emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)  # webhook lost
    with on_commit():
        booking_cancel(booking=booking, actor=booking.patient, reason="Changed my mind")
    payment.refresh_from_db()
    assert payment.auto_refunded and payment.status == Payment.Status.REFUNDED
    assert emulator_refunded(stripe_mode, payment.payment_intent_id) == 7500
    assert any("refunded" in m.subject for m in mailoutbox)


def test_finding_02_success_page_applies_a_payment_we_had_marked_expired(client, stripe_mode, started, on_commit):
    booking, payment = started
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.EXPIRED)  # our side gave up early
    emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    client.force_login(booking.patient)
    with on_commit():
        client.get(reverse("payments:success", args=[booking.pk]) + f"?session_id={payment.checkout_session_id}")
    payment.refresh_from_db()
    booking.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED and booking.status == Booking.Status.CONFIRMED


# 3 ----------------------------------------------------------------------------------------

def test_finding_03_refund_events_before_completed_leave_the_booking_unconfirmed(client, stripe_mode, started, on_commit):
    booking, payment = started
    mark = emulator_event_count(stripe_mode)
    session = emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    emulator_client(stripe_mode).v1.refunds.create({"payment_intent": session["payment_intent"]})  # in full, dashboard
    events = emulator_events(stripe_mode, mark)
    assert [e["type"] for e in events] == ["checkout.session.completed", "refund.created", "charge.refunded"]
    with on_commit():
        _deliver(client, events[1:])  # the refund first: its payment intent is not known yet
        assert StripeEvent.objects.exclude(waiting_for="").count() == 2
        _deliver(client, events[:1])
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status != Booking.Status.CONFIRMED
    assert payment.status == Payment.Status.REFUNDED
    assert Refund.objects.get().amount_pence == 7500
    assert not StripeEvent.objects.exclude(waiting_for="").exists()
    assert _open_attention(Attention.Kind.REFUNDED_AT_STRIPE).count() == 1


def test_finding_03_full_dashboard_refund_of_a_confirmed_booking_cancels_it(client, stripe_mode, paid, on_commit):
    booking, payment = paid
    mark = emulator_event_count(stripe_mode)
    emulator_client(stripe_mode).v1.refunds.create({"payment_intent": payment.payment_intent_id})
    with on_commit():
        _deliver(client, emulator_events(stripe_mode, mark), "charge.refunded")  # the refund.created is lost
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert Refund.objects.get().amount_pence == 7500  # fetched from Stripe's list, by id


# 4 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", [{"amount_total": 1}, {"amount_total": 750000}, {"currency": "usd"}, {"amount_total": 0}])
def test_finding_04_completed_with_another_amount_or_currency_confirms_nothing(client, stripe_mode, started, on_commit, change):
    booking, payment = started
    session = {**emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence), **change}
    with on_commit():
        assert post_event(client, make_event("checkout.session.completed", session)).status_code == 200
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status != Booking.Status.CONFIRMED
    assert payment.status not in Payment.PAID_STATUSES
    assert _open_attention(Attention.Kind.MISMATCH).get().payment == payment


def test_finding_04_a_session_we_never_created_builds_no_payment(client, stripe_mode, started, on_commit):
    booking, payment = started
    stranger = {**emulator_session(stripe_mode, payment.checkout_session_id), "id": "cs_test_not_ours",
                "status": "complete", "payment_status": "paid", "payment_intent": "pi_not_ours",
                "metadata": {"booking_id": str(booking.pk)}}
    with on_commit():
        assert post_event(client, make_event("checkout.session.completed", stranger)).status_code == 200
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert list(Payment.objects.values_list("pk", flat=True)) == [payment.pk]
    assert _open_attention(Attention.Kind.UNKNOWN_SESSION).count() == 1


# 5 (the HTTP side is in test_local_mode.py; settings in test_settings_guard.py) -------------

# 6 ----------------------------------------------------------------------------------------

def _refusing_gateway():
    """Stripe, except that it refuses refunds (a swapped gateway, as the style guide says)."""
    module = types.ModuleType("refusing_refunds")
    module.__dict__.update({k: v for k, v in vars(stripe_gateway).items() if not k.startswith("__")})

    def refund_create(**kwargs):
        raise gateway.GatewayRefused("Your card issuer declined the refund.")

    module.refund_create = refund_create
    return module


def test_finding_06_a_refused_auto_refund_tells_nobody_it_refunded_and_is_retried(client, stripe_mode, hold, on_commit, mailoutbox):
    late = hold()
    payment = services.payment_start(booking=late)
    Booking.objects.filter(pk=late.pk).update(hold_expires_at=timezone.now() - timedelta(minutes=1))
    hold(patient=UserFactory())  # the slot is taken
    session = emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    gateway.use_gateway(_refusing_gateway())
    with on_commit():
        post_event(client, make_event("checkout.session.completed", session))
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.FAILED
    assert not [m for m in mailoutbox if "refunded" in m.subject]
    item = _open_attention(Attention.Kind.REFUND_FAILED).get()
    assert item.refund == refund
    gateway.use_gateway(None)  # Stripe takes refunds again
    with on_commit():
        reconcile.payments_reconcile()
        reconcile.payments_reconcile()  # idempotent
    retry = Refund.objects.get(retry_of=refund)
    assert retry.status == Refund.Status.SUCCEEDED and retry.stripe_refund_id.startswith("re_")
    assert emulator_refunded(stripe_mode, session["payment_intent"]) == 7500
    assert len([m for m in mailoutbox if "refunded" in m.subject]) == 1
    item.refresh_from_db()
    assert item.resolved_at is not None


# 7 ----------------------------------------------------------------------------------------

def test_finding_07_patient_cancel_of_a_desk_payment_makes_a_desk_task_not_a_refund(hold, on_commit, client, mailoutbox):
    booking = hold()
    reception = ReceptionistFactory()
    payment = services.payment_record_at_clinic(booking=booking, method=Payment.Method.CARD_TERMINAL, actor=reception)
    with on_commit():
        booking_cancel(booking=booking, actor=booking.patient, reason="Better")
    refund = Refund.objects.get()
    assert refund.status == Refund.Status.PENDING  # nobody has handed it back yet
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    task = _open_attention(Attention.Kind.DESK_REFUND).get()
    assert "£75.00 at the desk" in task.message
    cancelled_mail = [m for m in mailoutbox if m.subject.startswith("Booking cancelled")][0]
    assert "on its way to your card" not in cancelled_mail.body and "at the clinic" in cancelled_mail.body
    client.force_login(reception)
    response = client.post(reverse("payments:attention_resolve", args=[task.pk]), {"note": "Refunded on the terminal"})
    assert response.status_code == 302
    refund.refresh_from_db()
    task.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == Refund.Status.SUCCEEDED and payment.status == Payment.Status.REFUNDED
    assert task.resolved_by == reception
    assert BookingEvent.objects.filter(booking=booking, action="refund", actor=reception).exists()


# 8 ----------------------------------------------------------------------------------------

MALFORMED = {
    "missing id": lambda e: e.pop("id"),
    "non-numeric amount": lambda e: e["data"]["object"].update(amount_total="75.00"),
    "metadata as a list": lambda e: e["data"]["object"].update(metadata=["booking_id", "1"]),
    "over-long event id": lambda e: e.update(id="evt_" + "x" * 300),
    "over-long type": lambda e: e.update(type="checkout.session.completed" + "x" * 100),
    "object not a map": lambda e: e["data"].update(object=["cs"]),
    "session id missing": lambda e: e["data"]["object"].pop("id"),
    "negative amount": lambda e: e["data"]["object"].update(amount_total=-7500),
    "created not a number": lambda e: e.update(created="yesterday"),
}


@pytest.mark.parametrize("fault", MALFORMED)
def test_finding_08_malformed_signed_events_answer_400_and_change_nothing(client, stripe_mode, started, fault):
    booking, payment = started
    event = make_event("checkout.session.completed", emulator_pay(stripe_mode, payment.checkout_session_id, 7500))
    MALFORMED[fault](event)
    assert post_event(client, event).status_code == 400
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD
    assert StripeEvent.objects.count() == 0 and Payment.objects.get().status == Payment.Status.PENDING


@pytest.mark.parametrize("event_type,obj", [
    ("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_1", "amount_refunded": "all"}),
    ("refund.created", {"id": "re_1", "object": "refund", "payment_intent": "pi_1", "amount": 1.5}),
    ("refund.updated", {"object": "refund", "payment_intent": "pi_1", "amount": 100}),
    ("refund.failed", {"id": "re_1", "payment_intent": {"no": "id"}, "amount": 100}),
])
def test_finding_08_malformed_refund_events_answer_400(client, stripe_mode, event_type, obj):
    assert post_event(client, make_event(event_type, obj)).status_code == 400
    assert StripeEvent.objects.count() == 0


# 9 ----------------------------------------------------------------------------------------

def test_finding_09_stripe_calls_use_short_timeouts_and_one_retry(settings, stripe_mode):
    assert (settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_READ_TIMEOUT) == (5, 15)
    client = stripe_gateway._client()
    assert client._requestor._client._timeout == (5, 15)
    assert stripe_gateway.MAX_NETWORK_RETRIES == 1


def test_finding_09_a_stripe_that_accepts_and_never_answers_is_given_up_on_fast(settings, stripe_mode, hold):
    """Stripe accepts the connection and says nothing: we give up after read timeout x 2 tries."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted = []
    stop = threading.Event()

    def accept():
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{silent.getsockname()[1]}"
    settings.STRIPE_READ_TIMEOUT = 1
    booking = hold()
    began = time.monotonic()
    try:
        with pytest.raises(gateway.GatewayUnavailable):
            services.payment_start(booking=booking)
    finally:
        elapsed = time.monotonic() - began
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        silent.close()
    assert len(accepted) == 2  # one try and one retry, no more
    assert elapsed < 6  # 2 x 1 s read timeout + the SDK's backoff; was 162 s with the defaults
    assert not Payment.objects.exists()


# 10 ---------------------------------------------------------------------------------------

def test_finding_10_checkout_takes_only_cards_which_settle_at_once(stripe_mode, started):
    booking, payment = started
    assert emulator_session(stripe_mode, payment.checkout_session_id)["payment_method_types"] == ["card"]


# 11 ---------------------------------------------------------------------------------------

def test_finding_11_nothing_to_pay_confirms_without_stripe(settings, stripe_mode, hold, client, on_commit):
    settings.STRIPE_API_BASE = closed_port_url()  # Stripe down: not needed for £0
    patient = UserFactory()
    offer = OfferFactory(percent_off=100, validity_hours=24, services=[services_first()])
    code = OfferCodeFactory(offer=offer, email=patient.email)
    booking = hold(patient=patient, offer_code=code.code)
    assert booking.amount_due_pence == 0
    with on_commit():
        payment = services.payment_start(booking=booking)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert (payment.method, payment.amount_pence, payment.checkout_url) == (Payment.Method.NONE_DUE, 0, "")


def services_first():
    from booking.models import Service

    return Service.objects.order_by("pk").first()


def test_finding_11_a_checkout_stripe_does_not_know_is_not_retried_forever(stripe_mode, hold):
    booking = hold()
    payment = Payment.objects.create(booking=booking, method=Payment.Method.STRIPE_CHECKOUT, amount_pence=7500,
                                     checkout_session_id="cs_test_unknown_to_stripe", idempotency_key="k-unknown")
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=False):
        first = reconcile.payments_reconcile()
        second = reconcile.payments_reconcile()
    assert (first.refused, first.unreachable) == (1, 0)
    assert (second.refused, second.applied) == (0, 0)  # not asked again
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert _open_attention(Attention.Kind.UNKNOWN_AT_STRIPE).get().payment == payment


# 12 ---------------------------------------------------------------------------------------

def test_finding_12_a_payment_reads_refunded_only_once_its_refund_succeeded(settings, stripe_mode, paid, on_commit):
    booking, payment = paid
    settings.STRIPE_API_BASE = closed_port_url()
    with on_commit():
        [refund] = services.booking_refund(booking=booking, amount_pence=7500, reason="Cancelled", actor=ReceptionistFactory())
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED  # unsent: not refunded
    pending = gateway.RefundResult(id="re_pending_1", status="pending", amount=7500,
                                   payment_intent_id=payment.payment_intent_id, metadata={"refund_id": str(refund.pk)})
    services.refund_record_from_provider(result=pending)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED  # pending at Stripe: not refunded yet
    services.refund_record_from_provider(result=gateway.RefundResult(**{**pending.__dict__, "status": "succeeded"}))
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED


# 13 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount", ["NaN", "sNaN", "1e999999", "Infinity", "-Infinity", "1e-999999"])
def test_finding_13_reception_refund_amount_nan_or_huge_is_a_form_error(client, hold, amount):
    booking = hold()
    reception = ReceptionistFactory()
    services.payment_record_at_clinic(booking=booking, method=Payment.Method.CASH, actor=reception)
    client.force_login(reception)
    response = client.post(reverse("staff:cancel", args=[booking.pk]), {"refund": "amount", "amount": amount, "reason": "Ill"})
    assert response.status_code == 200
    assert "Give an amount in pounds" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and not Refund.objects.exists()


def test_payments_audit_exits_1_on_a_discrepancy_and_0_when_books_agree(client, stripe_mode, paid, on_commit):
    booking, payment = paid
    out = StringIO()
    call_command("payments_audit", stdout=out)
    assert "0 discrepancy" in out.getvalue()
    emulator_client(stripe_mode).v1.refunds.create({"payment_intent": payment.payment_intent_id, "amount": 100})
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("payments_audit", stdout=out)
    assert failure.value.returncode == 1  # manage.py exits with it: cron alerts
    assert f"DISCREPANCY payment {payment.pk}" in out.getvalue() and "refunded ours 0 pence, Stripe 100 pence" in out.getvalue()


def test_an_auto_refund_refused_after_a_dashboard_refund_is_retried_for_what_is_left(stripe_mode, started, on_commit, client):
    """Found by the state machine: paid (webhook not yet in), £5 refunded in the dashboard, then the
    patient cancels: our full auto refund is refused (only £70 left at Stripe); reconcile must give
    back the £70, not stop."""
    booking, payment = started
    mark = emulator_event_count(stripe_mode)
    session = emulator_pay(stripe_mode, payment.checkout_session_id, payment.amount_pence)
    emulator_client(stripe_mode).v1.refunds.create({"payment_intent": session["payment_intent"], "amount": 500})
    with on_commit():
        booking_cancel(booking=booking, actor=booking.patient, reason="Better")
    assert Refund.objects.get(status=Refund.Status.FAILED).amount_pence == 7500  # Stripe said no
    with on_commit():
        reconcile.payments_reconcile()  # the dashboard refund's events never came: Stripe's list is read
    assert emulator_refunded(stripe_mode, session["payment_intent"]) == 7500
    assert sorted(Refund.objects.exclude(status=Refund.Status.FAILED).values_list("amount_pence", flat=True)) == [500, 7000]
    with on_commit():
        _deliver(client, emulator_events(stripe_mode, mark))  # late events change nothing
    assert Refund.objects.exclude(status=Refund.Status.FAILED).count() == 2
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED


def test_finding_11_nothing_to_pay_through_the_api_answers_confirmed_without_checkout(client, settings, stripe_mode, clinic):
    from .conftest import INTAKE, next_weekday_10am

    service, physio = clinic
    settings.STRIPE_API_BASE = closed_port_url()  # not needed for £0
    patient = UserFactory()
    code = OfferCodeFactory(offer=OfferFactory(percent_off=100, validity_hours=24, services=[service]), email=patient.email)
    client.force_login(patient)
    response = client.post("/api/v1/bookings/", {
        "service": service.slug, "start": next_weekday_10am().isoformat(), "practitioner": physio.pk,
        "offer_code": code.code, "intake": INTAKE,
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["amount_due_pence"], body["checkout_url"]) == ("confirmed", 0, None)
