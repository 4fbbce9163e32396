"""Fixtures for the API tests: a clinic on a frozen Monday, and clients for both kinds of auth.

Every request goes through the real URL and middleware. `api` is parametrised:
each test using it runs once with a browser session (CSRF enforced) and once
with a django-allauth headless app token obtained by logging in at
/_allauth/app/v1/auth/login.
"""

import pytest


from .support import Clinic, make_api


@pytest.fixture
def clinic(db):
    return Clinic()


@pytest.fixture(params=["session", "token"])
def auth_mode(request):
    return request.param


@pytest.fixture
def api(frozen, patient, auth_mode):
    """Created inside the frozen clock, so its session is not already past its expiry."""
    return make_api(patient, auth_mode)


@pytest.fixture
def anon(frozen, db):
    return make_api()


def pytest_terminal_summary(terminalreporter, config):
    """The schemathesis run's figures (cases, operations, failures), set by test_fuzz.py."""
    lines = getattr(config, "physiobook_fuzz_summary", None)
    if lines:
        terminalreporter.section("schemathesis")
        for line in lines:
            terminalreporter.write_line(line)
