from datetime import datetime, timedelta

import pytest

from booking import services as booking_services
from booking.availability import LONDON
from tests.shared import NOW
from tests.factories import FollowUpFactory, PractitionerFactory, UserFactory

WEDNESDAY_10 = datetime(2027, 1, 13, 10, 0, tzinfo=LONDON)


@pytest.fixture
def clinic(db):
    service = FollowUpFactory()
    physio = PractitionerFactory(services=[service])
    return service, physio


@pytest.fixture
def booked(frozen, clinic, django_capture_on_commit_callbacks):
    """Wednesday 10:00 taken by a confirmed booking: the slot a cancellation will free."""
    service, physio = clinic
    owner = UserFactory(email="owner@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_services.booking_hold(patient=owner, service=service, start=WEDNESDAY_10, practitioner=physio)
        booking_services.booking_confirm(booking=booking, reason="Paid.")
    return booking


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)
