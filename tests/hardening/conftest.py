import pytest

from tests.common import INTAKE, NOW  # noqa: F401 - the tests here import them from this module


@pytest.fixture
def rates(settings):
    """rates(booking_create="1/hour", ...): set some throttle rates for one test."""

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates
