import pytest

from tests.shared import INTAKE, NOW  # noqa: F401 - the tests here import them from this module


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
    }
    data.update(overrides)
    return data
