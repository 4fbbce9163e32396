"""A stateful property test of the money path: hypothesis drives the app and the Stripe emulator.

Random interleavings of hold, pay (at the emulator, as the patient does), cancel by patient or
reception, reschedule, partial refunds by reception, refunds made in the Stripe dashboard, desk
payments and desk refunds, Stripe outages, lapsed holds with expire_holds, reconcile_payments, and
the delivery of every event the emulator produced: in any order, duplicated, or not yet.

After every step:
- no slot holds two active bookings;
- no booking is confirmed without money captured at Stripe for it (or £0, or a desk payment);
- per payment, our captured and refunded amounts never exceed Stripe's, and equal them once every
  event has been delivered.
At the end (teardown, Stripe reachable): every event delivered, reconcile run, then every payment
that was never kept for its booking (auto refunded, or its booking never confirmed) is refunded in
full at Stripe, and payments_audit finds no discrepancy.
"""

from __future__ import annotations

from collections import Counter

import pytest
import requests
from django.core.cache import cache
from django.db import transaction
from django.test import TestCase
from hypothesis import HealthCheck, settings as hsettings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from booking import services as booking_services
from booking.exceptions import BookingError
from booking.models import Booking, BookingEvent
from payments import gateway, reconcile, services, stripe_gateway
from payments.models import Payment, Refund, StripeEvent
from tests.factories import ReceptionistFactory, UserFactory

from .conftest import (
    FAKE_KEY,
    INTAKE,
    closed_port_url,
    emulator_client,
    emulator_events,
    emulator_pay,
    emulator_session,
    next_weekday_10am,
    post_event,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

EXAMPLES = int(__import__("os").environ.get("MONEY_EXAMPLES", "200"))
STEPS = 6
PICK = st.integers(min_value=0, max_value=3)


def _stripe_totals(url: str, payments) -> dict[int, gateway.ChargeTotals]:
    """Stripe's figures per payment (the emulator's, read straight from it in one call)."""
    payments = list(payments)
    intents = {p.pk: p.payment_intent_id for p in payments if p.payment_intent_id}
    found = requests.get(f"{url}/_test/totals", params={"payment_intents": ",".join(intents.values())}, timeout=5,
                         headers={"Authorization": f"Bearer {FAKE_KEY}"}).json()
    none = gateway.ChargeTotals(captured=0, refunded=0)
    return {p.pk: gateway.ChargeTotals(**found[intents[p.pk]]) if p.pk in intents else none for p in payments}


def test_money_matches_stripe_under_any_event_order_and_fault(settings, stripe_mode, clinic, monkeypatch):
    # An outage here is a closed port: fail at once, without the SDK's retry and its back-off sleep
    # (the retry itself is finding 9's test). Keeps 200 examples within a few minutes.
    monkeypatch.setattr(stripe_gateway, "MAX_NETWORK_RETRIES", 0)
    service, physio = clinic
    seen = Counter()  # what the examples reached: the run must not be vacuous
    rules_run = Counter()
    url = stripe_mode
    down = closed_port_url()
    first = next_weekday_10am(3)
    slots = [first, first.replace(hour=11)]
    reception = ReceptionistFactory()
    patients = [UserFactory() for _ in range(3)]  # made once: hashing passwords per example is slow

    class Money(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = transaction.savepoint()
            # Rate-limit counters live in the cache and outlive the savepoint: without this, later
            # examples had most holds refused (RateLimited) and what got covered hung on the seed.
            cache.clear()
            self.seen = len(emulator_events(url))  # this example's events start here
            self.undelivered: list[dict] = []
            self.delivered: list[dict] = []
            self.bookings: list[int] = []
            self.paid_intents: list[str] = []  # paid at Stripe (whether we know it yet or not)
            settings.STRIPE_API_BASE = url

        # -- helpers ------------------------------------------------------------------------
        def _collect(self):
            new = emulator_events(url, self.seen)
            self.seen += len(new)
            self.undelivered.extend(new)

        def _run(self, fn, *args, **kwargs):
            """One action as a request would run it: its on_commit work (refunds sent, checkouts
            closed, emails) happens after it commits; then whatever Stripe would send is collected."""
            rules_run[fn.__name__] += 1
            with TestCase.captureOnCommitCallbacks(execute=True):
                try:
                    fn(*args, **kwargs)
                except (BookingError, gateway.GatewayError) as exc:
                    seen[f"refused: {type(exc).__name__}"] += 1
            self._collect()

        def _booking(self, i) -> Booking | None:
            if not self.bookings:
                return None
            return Booking.objects.get(pk=self.bookings[i % len(self.bookings)])

        def _payment(self, i, **filters) -> Payment | None:
            found = list(Payment.objects.filter(booking_id__in=self.bookings, **filters).order_by("pk"))
            return found[i % len(found)] if found else None

        # -- the patient ---------------------------------------------------------------------
        @initialize()
        def two_patients_at_checkout(self):
            for slot in (0, 1):
                self.hold_and_start_checkout(slot)

            self.pay_at_stripe(0)  # the first patient has paid at Stripe; the event is not delivered yet

        @rule(slot=st.sampled_from([0, 1]))
        def hold_and_start_checkout(self, slot):

            def go():
                booking = booking_services.booking_hold(patient=patients[len(self.bookings) % 3], service=service, start=slots[slot],
                                                        practitioner=physio, intake=INTAKE)
                self.bookings.append(booking.pk)
                services.payment_start(booking=booking)
            self._run(go)

        @rule(i=PICK)
        def pay_at_stripe(self, i):
            payment = self._payment(i, method=Payment.Method.STRIPE_CHECKOUT)
            if payment is not None and emulator_session(url, payment.checkout_session_id)["status"] == "open":
                session = emulator_pay(url, payment.checkout_session_id, payment.amount_pence)
                self.paid_intents.append(session["payment_intent"])
                self._collect()

        @rule(i=PICK)
        def cancel_by_patient(self, i):
            booking = self._booking(i)
            if booking is not None:
                self._run(services.booking_cancel, booking=booking, actor=booking.patient, reason="Better")

        # -- reception -----------------------------------------------------------------------
        @rule(i=PICK, share=st.sampled_from([0, 50, 100]))
        def cancel_by_reception(self, i, share):
            booking = self._booking(i)
            if booking is not None:
                refund = services.paid_pence(booking=booking) * share // 100
                self._run(services.booking_cancel, booking=booking, actor=reception, reason="Clinic closed",
                          refund_pence=refund, by_staff=True)

        @rule(i=PICK, slot=st.sampled_from([0, 1]))
        def reschedule(self, i, slot):
            booking = self._booking(i)
            if booking is not None:
                self._run(booking_services.booking_reschedule, booking=booking, start=slots[slot], actor=reception,
                          reason="Moved", by_staff=True)

        @precondition(lambda self: self.paid_intents)
        @rule(i=PICK)
        def partial_refund_by_reception(self, i):
            booking = self._booking(i)
            if booking is not None:
                self._run(services.booking_refund, booking=booking, amount_pence=1000, reason="Goodwill", actor=reception)

        @rule(i=PICK, method=st.sampled_from([Payment.Method.CARD_TERMINAL, Payment.Method.CASH]))
        def pay_at_the_desk(self, i, method):
            booking = self._booking(i)
            if booking is not None and booking.status == Booking.Status.HELD and booking.is_blocking(None or _now()):
                self._run(services.payment_record_at_clinic, booking=booking, method=method, actor=reception)

        @rule(i=PICK)
        def desk_refund_handed_back(self, i):
            refund = Refund.objects.filter(payment__booking_id__in=self.bookings, status=Refund.Status.PENDING,
                                           payment__method__in=services.CLINIC_METHODS).order_by("pk").first()
            if refund is not None:
                self._run(services.refund_desk_done, refund_id=refund.pk, actor=reception)

        # -- Stripe --------------------------------------------------------------------------
        @precondition(lambda self: self.paid_intents)
        @rule(i=PICK, full=st.booleans())
        def refund_in_the_stripe_dashboard(self, i, full):
            intent = self.paid_intents[i % len(self.paid_intents)]
            params = {"payment_intent": intent} if full else {"payment_intent": intent, "amount": 500}
            rules_run["dashboard refund"] += 1
            try:
                emulator_client(url).v1.refunds.create(params)
            except Exception:  # noqa: BLE001 - Stripe refuses a refund above what is left: fine
                pass
            self._collect()

        @precondition(lambda self: self.undelivered)
        @rule(i=PICK)
        def deliver_an_event(self, i):
            if self.undelivered:
                event = self.undelivered.pop(i % len(self.undelivered))
                self._deliver(event)

        @precondition(lambda self: self.delivered)
        @rule(i=PICK)
        def deliver_an_event_again(self, i):
            if self.delivered:
                self._deliver(self.delivered[i % len(self.delivered)])

        def _deliver(self, event):
            from django.test import Client

            with TestCase.captureOnCommitCallbacks(execute=True):
                response = post_event(Client(), event)
            assert response.status_code == 200, response.content
            rules_run["deliver " + event["type"]] += 1
            self.delivered.append(event)
            self._collect()

        @rule(down_now=st.booleans())
        def stripe_outage(self, down_now):
            settings.STRIPE_API_BASE = down if down_now else url

        # -- cron ----------------------------------------------------------------------------
        @rule(i=PICK)
        def hold_lapses_and_expire_holds_runs(self, i):
            booking = self._booking(i)
            if booking is not None and booking.status == Booking.Status.HELD:
                Booking.objects.filter(pk=booking.pk).update(hold_expires_at=_now() - _minutes(1))
            self._run(reconcile.payments_expire_lapsed)

        @rule()
        def reconcile_runs(self):
            self._run(reconcile.payments_reconcile, older_than_minutes=0)

        # -- what must always hold ----------------------------------------------------------
        @invariant()
        def books_agree_with_stripe(self):
            """One invariant, one call to the emulator per step (they run after every step)."""
            now = _now()
            bookings = list(Booking.objects.filter(pk__in=self.bookings).prefetch_related("payments"))
            # No slot holds two active bookings.
            active = [b for b in bookings if b.is_blocking(now)]
            for a in active:
                for b in active:
                    if a.pk < b.pk and a.practitioner_id == b.practitioner_id:
                        assert not (a.start < b.blocks_until and b.start < a.blocks_until), (a, b)
            if settings.STRIPE_API_BASE == down:
                return  # the rest asks Stripe; it runs again after the outage
            payments = [p for b in bookings for p in b.payments.all()]
            stripe_side = _stripe_totals(url, [p for p in payments if p.method == Payment.Method.STRIPE_CHECKOUT])
            # No booking is confirmed without money captured for it (at Stripe, at the desk, or £0 due).
            for booking in bookings:
                if booking.status != Booking.Status.CONFIRMED:
                    continue
                kept = [p for p in booking.payments.all() if p.status in Payment.PAID_STATUSES and not p.auto_refunded]
                assert len(kept) == 1, (booking, kept)
                if kept[0].method == Payment.Method.STRIPE_CHECKOUT:
                    assert stripe_side[kept[0].pk].captured == kept[0].amount_pence > 0, kept[0]
            # Our ledger is never ahead of Stripe's, and equals it once every event is delivered.
            for payment in payments:
                if payment.method != Payment.Method.STRIPE_CHECKOUT:
                    continue
                theirs = stripe_side[payment.pk]
                ours = (payment.captured_pence, payment.provider_accepted_refund_pence)
                if self.undelivered:
                    assert ours[0] <= theirs.captured and ours[1] <= theirs.refunded, (payment, ours, theirs)
                else:
                    assert ours == (theirs.captured, theirs.refunded), (payment, ours, theirs)

        def _count(self):
            payments = Payment.objects.filter(booking_id__in=self.bookings)
            seen["examples"] += 1
            seen["bookings"] += len(self.bookings)
            seen["payments"] += Payment.objects.filter(booking_id__in=self.bookings).count()
            seen["confirmed"] += Booking.objects.filter(pk__in=self.bookings, status=Booking.Status.CONFIRMED).count()
            seen["paid at Stripe"] += payments.filter(method=Payment.Method.STRIPE_CHECKOUT, status__in=Payment.PAID_STATUSES).count()
            seen["auto refunded"] += payments.filter(auto_refunded=True).count()
            seen["dashboard refunds"] += Refund.objects.filter(payment__in=payments, reason__contains="dashboard").count()
            seen["our refunds"] += Refund.objects.filter(payment__in=payments, created_by__isnull=False).count()
            seen["desk refunds"] += Refund.objects.filter(payment__in=payments, payment__method__in=services.CLINIC_METHODS).count()
            seen["events delivered"] += len(self.delivered)
            seen["events kept waiting"] += StripeEvent.objects.filter(payload__data__object__payment_intent__in=list(
                payments.exclude(payment_intent_id="").values_list("payment_intent_id", flat=True))).filter(
                type__in=["refund.created", "charge.refunded"]).count()

        def teardown(self):
            try:
                settings.STRIPE_API_BASE = url
                for _ in range(3):  # deliver everything, reconcile, and deliver what that produced
                    while self.undelivered:
                        self._deliver(self.undelivered.pop(0))
                    self._run(reconcile.payments_reconcile, older_than_minutes=0)
                    if not self.undelivered:
                        break
                assert not self.undelivered
                payments = Payment.objects.filter(booking_id__in=self.bookings, method=Payment.Method.STRIPE_CHECKOUT)
                stripe_side = _stripe_totals(url, payments)
                for payment in payments:
                    theirs = stripe_side[payment.pk]
                    assert (payment.captured_pence, payment.provider_accepted_refund_pence) == (theirs.captured, theirs.refunded)
                    never_kept = payment.auto_refunded or not BookingEvent.objects.filter(
                        booking_id=payment.booking_id, action=BookingEvent.Action.CONFIRMED).exists()
                    if theirs.captured and never_kept and payment.booking.status != Booking.Status.CONFIRMED:
                        assert theirs.refunded == theirs.captured, (payment, theirs)
                audit = reconcile.payments_audit()
                assert audit.discrepancies == [] and audit.unreachable == 0, audit
                self._count()
            finally:
                transaction.savepoint_rollback(self.savepoint)
                settings.STRIPE_API_BASE = url

    run_state_machine_as_test(
        Money,
        settings=hsettings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=True, database=None,
            suppress_health_check=list(HealthCheck), print_blob=True,
        ),
    )
    print("state machine reached:", dict(seen))
    print("rules run:", {k: v for k, v in rules_run.items()})
    for what in ["confirmed", "paid at Stripe", "auto refunded", "dashboard refunds", "our refunds", "events delivered"]:
        assert seen[what] > 0, (what, dict(seen))


def _now():
    from django.utils import timezone

    return timezone.now()


def _minutes(n):
    from datetime import timedelta

    return timedelta(minutes=n)
