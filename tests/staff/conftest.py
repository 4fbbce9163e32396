from datetime import time

import pytest

from tests.factories import FollowUpFactory, PractitionerFactory, ReceptionistFactory, ServiceFactory, StaffFactory, UserFactory


@pytest.fixture
def services():
    return ServiceFactory(), FollowUpFactory()


@pytest.fixture
def physios(services):
    """Two physiotherapists, every day 09:00-17:00."""
    week = [(d, time(9), time(17)) for d in range(7)]
    return (
        PractitionerFactory(services=list(services), hours=week, user=StaffFactory(first_name="Alex", last_name="Ray")),
        PractitionerFactory(services=list(services), hours=week, user=StaffFactory(first_name="Sam", last_name="Lee")),
    )


@pytest.fixture
def reception():
    return ReceptionistFactory(first_name="Rita", last_name="Desk")


@pytest.fixture
def patient():
    return UserFactory(first_name="Paula", last_name="Jones", phone="07700 900123")


@pytest.fixture
def reception_client(client, reception):
    client.force_login(reception)
    return client
