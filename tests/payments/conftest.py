"""Payments test fixtures: a real local Stripe emulator, and events signed as Stripe signs them.

No test may reach the real Stripe API: every test runs with STRIPE_API_BASE
pointing at 127.0.0.1 (the emulator, or a closed port), and Stripe-mode tests
use a fake sk_test key.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import itertools
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
import stripe
from django.db import connection
from django.utils import timezone

from booking import availability, services as booking_services
from payments import gateway
from tests.shared import INTAKE, closed_port
from tests.factories import OfferCodeFactory, OfferFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(8401, 8410)  # this helper's ports
WEBHOOK_SECRET = "whsec_physiobook_tests_" + "x" * 16
FAKE_KEY = "sk_test_physiobook_emulator_only"


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8401-8409")


@pytest.fixture(scope="session")
def stripe_emulator():
    """localstripe (+ Checkout Sessions) on 127.0.0.1, in its own process for the whole session."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.payments.emulator", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"stripe emulator did not start: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()


_REFUND_ID_BLOCKS = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_refund_ids_on_sqlite(request):
    """SQLite hands a rolled-back test's row ids out again, and the session-wide emulator keeps
    Stripe's idempotency keys (`refund-<row id>`): a later test's refund 1 would get an earlier
    test's answer. Each test's refund ids start in a block of their own (PostgreSQL's sequences
    never go back, so nothing to do there)."""
    if request.node.get_closest_marker("django_db") is None or connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sqlite_sequence WHERE name = 'payments_refund'")
        cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('payments_refund', %s)",
                       [next(_REFUND_ID_BLOCKS) * 10_000])


@pytest.fixture(autouse=True)
def _never_real_stripe(settings):
    """Local test-payment mode unless a test asks for the emulator; never api.stripe.com."""
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # closed: a stray call fails, it never leaves the machine
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    gateway.use_gateway(None)
    yield
    gateway.use_gateway(None)


@pytest.fixture
def stripe_mode(settings, stripe_emulator):
    settings.STRIPE_SECRET_KEY = FAKE_KEY
    settings.STRIPE_API_BASE = stripe_emulator
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    assert gateway.current().__name__ == "payments.stripe_gateway"
    return stripe_emulator


def emulator_client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(FAKE_KEY, base_addresses={"api": url})


def emulator_paid_intent(url: str, amount_pence: int) -> str:
    """A card payment made in the emulator (what Stripe's hosted page does): a succeeded PaymentIntent."""
    client = emulator_client(url)
    method = client.v1.payment_methods.create(
        {"type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    intent = client.v1.payment_intents.create(
        {"amount": amount_pence, "currency": "gbp", "payment_method": method.id, "confirm": True}
    )
    assert intent.status == "succeeded"
    return intent.id


def emulator_pay(url: str, session_id: str, amount_pence: int) -> dict:
    """The patient pays on the (emulated) hosted Checkout page. No webhook is sent: tests send it."""
    intent = emulator_paid_intent(url, amount_pence)
    response = requests.post(f"{url}/_test/checkout/sessions/{session_id}/pay", json={"payment_intent": intent},
                             headers={"Authorization": f"Bearer {FAKE_KEY}"}, timeout=5)
    response.raise_for_status()
    return response.json()


def emulator_session(url: str, session_id: str) -> dict:
    return requests.get(f"{url}/v1/checkout/sessions/{session_id}", headers={"Authorization": f"Bearer {FAKE_KEY}"}, timeout=5).json()


def make_event(event_type: str, obj: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or "evt_test_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


def sign(body: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)


def post_event(client, event: dict | str, *, signature: str | None = None, **sign_kwargs):
    """POST an event to the webhook endpoint, signed as Stripe signs it (unless a signature is given)."""
    body = event if isinstance(event, str) else json.dumps(event)
    header = signature if signature is not None else sign(body, **sign_kwargs)
    return client.post(
        "/payments/stripe/webhook/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def next_weekday_10am(days_ahead: int = 3) -> datetime:
    day = timezone.localtime(timezone.now(), availability.LONDON).date() + timedelta(days=days_ahead)
    while day.weekday() == 6:  # the factory's practitioners work Monday to Saturday
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=availability.LONDON)


@pytest.fixture
def hold(clinic):
    """hold(patient=None, offer_code=None, start=None) -> a held booking, made through the service."""
    service, physio = clinic

    def make(patient=None, offer_code=None, start=None):
        return booking_services.booking_hold(
            patient=patient or UserFactory(), service=service, start=start or next_weekday_10am(),
            practitioner=physio, offer_code=offer_code, intake=INTAKE,
        )

    return make


@pytest.fixture
def offer_code(clinic):
    """An offer code (20% off the first session) issued to a patient: returns (patient, code)."""
    service, _ = clinic
    patient = UserFactory()
    offer = OfferFactory(percent_off=20, validity_hours=24, services=[service])
    code = OfferCodeFactory(offer=offer, email=patient.email)
    return patient, code


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (refunds sent to the provider, emails) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def emulator_events(url: str, after: int = 0) -> list[dict]:
    """The events the emulator would have delivered (in Stripe's order), from index `after`."""
    return requests.get(f"{url}/_test/events", params={"after": after}, timeout=5,
                        headers={"Authorization": f"Bearer {FAKE_KEY}"}).json()


def emulator_event_count(url: str) -> int:
    return len(emulator_events(url))


def emulator_refunded(url: str, payment_intent_id: str) -> int:
    client = emulator_client(url)
    charge = client.v1.payment_intents.retrieve(payment_intent_id).latest_charge
    charge_id = charge if isinstance(charge, str) else charge.id
    return client.v1.charges.retrieve(charge_id).amount_refunded


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: Stripe is unreachable."""
    return f"http://127.0.0.1:{closed_port()}"
