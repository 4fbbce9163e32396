from datetime import datetime

import pytest

from booking.availability import LONDON
from tests.factories import FollowUpFactory, OfferFactory, PractitionerFactory, ServiceFactory, UserFactory

# A Monday in winter: London time is UTC, and the clinic works Monday to Saturday 09:00-17:00.
MONDAY_8AM = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)
INTAKE = {"pain_areas": ["buttock", "thigh"], "side": "left", "duration_weeks": 3}


@pytest.fixture
def sciatica():
    return ServiceFactory(name="Sciatica assessment", price_pence=7500, is_first_session=True)


@pytest.fixture
def follow_up():
    return FollowUpFactory()


@pytest.fixture
def offer(sciatica):
    return OfferFactory(services=[sciatica])


@pytest.fixture
def physio(sciatica, follow_up):
    return PractitionerFactory(services=[sciatica, follow_up])


@pytest.fixture
def patient():
    return UserFactory(email="sam.patient@example.com")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories hash a password per user; PBKDF2 would make these tests (and `make mutation`) crawl."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
