from datetime import datetime

import pytest
import time_machine

from booking.availability import LONDON
from tests.factories import PractitionerFactory, ServiceFactory, UserFactory

# A Monday morning in winter (GMT); the practitioner works Mon-Sat 09:00-17:00.
NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)
INTAKE = {"pain_areas": ["buttock", "thigh"], "side": "left", "duration_weeks": 3}


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def clinic(db):
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service])
    return service, physio


@pytest.fixture
def patient(db):
    return UserFactory(email="pat@example.com")


@pytest.fixture
def patient_client(frozen, client, patient):
    client.force_login(patient)
    return client


def intake_post(**overrides) -> dict:
    """The intake form as a browser posts it."""
    data = {
        "pain_areas": ["buttock", "thigh"], "side": "left", "duration_weeks": "3",
        "previous_injuries": "",
        "bladder_or_bowel_changes": "no", "saddle_numbness": "no", "worsening_weakness_both_legs": "no",
        "cancer_history": "no", "unexplained_weight_loss": "no", "fever": "no", "recent_trauma": "no",
        "leg_pain": "6", "activity_limit": "5",  # the two 0-10 outcome scales, asked inside the intake
    }
    data.update(overrides)
    return data
