import pytest

from tests.shared import INTAKE, MONDAY_8AM  # noqa: F401 - the tests here import them from this module
from tests.factories import FollowUpFactory, OfferFactory, PractitionerFactory, ServiceFactory, UserFactory


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
