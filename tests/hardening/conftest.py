from datetime import datetime

import pytest
import time_machine

from booking.availability import LONDON

# A Monday morning in winter (London = UTC): bookings need 2 hours' notice.
NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)
INTAKE = {"pain_areas": ["buttock", "thigh"], "side": "left", "duration_weeks": 3}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def rates(settings):
    """rates(booking_create="1/hour", ...): set some throttle rates for one test."""

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates
