"""Contract fuzzing: schemathesis against the live /api/schema/ of a running test server.

A real HTTP server (pytest-django's live_server) serves a clinic with demo-like
data; schemathesis reads the schema it serves and sends generated requests,
valid and invalid, to every operation, as a logged-in patient (app token).
Every check runs (`--checks all`: no 5xx, documented status, content type,
headers and body, 4xx for data the schema says is invalid, 401 without the
token, 405 for other methods, ...) except positive_data_acceptance: a request
the schema allows may still be refused for reasons no schema can state (a
slug that names no service, date_to before date_from, a slot already taken).

Bounded: `st run --max-examples FUZZ_MAX_EXAMPLES` (default 30) per operation
and phase, and FUZZ_TIME_LIMIT seconds (default 240) for the whole run; it
takes about a minute here. A fixed seed keeps CI reproducible; set FUZZ_SEED
(a number, or `random`) to explore other inputs. FUZZ_REPORT_DIR keeps the JSON and JUnit reports.
How to run it alone: `pytest tests/api/test_fuzz.py -p no:logging`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import time, timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from booking.models import Booking
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    OfferCodeFactory,
    OfferFactory,
    PractitionerFactory,
    ServiceFactory,
    UserFactory,
)

from .support import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "30"))
SEED = os.environ.get("FUZZ_SEED", "20270111")
TIME_LIMIT = int(os.environ.get("FUZZ_TIME_LIMIT", "240"))


def _figures(report: Path, stdout: str) -> list[str]:
    """The run's headline numbers from schemathesis' JSON report (falls back to the CLI summary)."""
    if not report.exists():
        return [line for line in stdout.splitlines() if line.strip()][-25:]
    data = json.loads(report.read_text())
    cases = data["test_cases"]
    failures = ", ".join(f"{f['code']} {f['title']} x{f['count']}" for f in data["failures"]) or "none"
    return [
        f"schemathesis {data['schemathesis_version']}: {cases['generated']} cases generated over "
        f"{data['operations']['tested']} operations in {data['running_time']:.0f}s (seed {data['seed']}); "
        f"failures: {failures}"
    ]


@pytest.fixture
def demo_clinic(transactional_db, settings):
    """Roughly what `make demo` seeds: two services, three practitioners working every day, an offer,
    and a patient with bookings in several states."""
    # Generous limits: the point here is the contract, not the throttles (tested elsewhere).
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {k: "100000/hour" for k in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
    }
    assessment = ServiceFactory(name="Sciatica assessment", slug="sciatica-assessment")
    follow_up = FollowUpFactory(slug="follow-up")
    ServiceFactory(name="Shockwave therapy", slug="shockwave", bookable_online=False, is_first_session=False)
    every_day = [(day, time(8), time(20)) for day in range(7)]
    physios = [PractitionerFactory(services=[assessment, follow_up], hours=every_day) for _ in range(3)]
    offer = OfferFactory(percent_off=20, services=[assessment])
    patient = UserFactory(email="fuzz.patient@example.com")
    OfferCodeFactory(offer=offer, email=patient.email, expires_at=timezone.now() + timedelta(hours=20))
    soon = timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
    for n, status in enumerate([Booking.Status.CONFIRMED, Booking.Status.CANCELLED, Booking.Status.HELD]):
        BookingFactory(patient=patient, practitioner=physios[n], service=follow_up, start=soon + timedelta(hours=n),
                       status=status, hold_expires_at=timezone.now() + timedelta(minutes=30) if n == 2 else None)
    BookingFactory(patient=UserFactory(), practitioner=physios[0], service=follow_up, start=soon + timedelta(days=1))
    return patient


@pytest.fixture
def patient_token(live_server, demo_clinic):
    response = requests.post(
        f"{live_server.url}/_allauth/app/v1/auth/login",
        json={"email": demo_clinic.email, "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["meta"]["session_token"]


def _run_schemathesis(url: str, token: str, report: Path) -> subprocess.CompletedProcess:
    command = [
        shutil.which("st", path=str(Path(sys.executable).parent)) or "st", "run", f"{url}/api/schema/?format=json",
        "--header", f"X-Session-Token: {token}",
        "--checks", "all",
        # Valid-by-schema data the API may still refuse for reasons a schema cannot express
        # (date_to before date_from, a slug that names no service, a slot already taken).
        "--exclude-checks", "positive_data_acceptance",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES),
        *([] if SEED == "random" else ["--seed", SEED]),
        "--workers", "1",
        "--request-timeout", "30",
        "--suppress-health-check", "all",
        "--report", "json,junit",
        "--report-json-path", str(report),
        "--report-junit-path", str(report.with_suffix(".xml")),
        "--no-color",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIME_LIMIT, cwd=report.parent)


def test_api_matches_its_schema_and_never_errors(live_server, patient_token, tmp_path, request):
    report_dir = Path(os.environ.get("FUZZ_REPORT_DIR") or tmp_path)
    report_dir.mkdir(parents=True, exist_ok=True)
    report = report_dir / "schemathesis.json"
    result = _run_schemathesis(live_server.url, patient_token, report)
    summary = result.stdout[-6000:]
    # Printed in pytest's closing summary by tests/api/conftest.py (output during a test is captured).
    request.config.physiobook_fuzz_summary = _figures(report, result.stdout)
    assert result.returncode == 0, summary + result.stderr[-3000:]
