"""Two patients POST the same slot at the same moment through the API: one hold, one 409."""

from functools import partial

import pytest
from rest_framework.test import APIClient

from booking.models import Booking
from tests.factories import FollowUpFactory, PractitionerFactory, UserFactory
from tests.races import race, split

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.booking]


def test_simultaneous_bookings_of_one_slot_give_one_201_and_one_409(frozen):
    service = FollowUpFactory(slug="follow-up")
    PractitionerFactory(services=[service])
    clients = []
    for n in range(2):
        client = APIClient()
        client.force_login(UserFactory(email=f"racer{n}@example.com"))  # no CSRF check in APIClient by default
        clients.append(client)
    body = {"service": "follow-up", "start": "2027-01-12T10:00:00+00:00"}
    responses, _ = split(race(*(partial(client.post, "/api/v1/bookings/", body, format="json") for client in clients)))
    statuses, bodies = [r.status_code for r in responses], [r.json() for r in responses]
    assert sorted(statuses) == [201, 409], bodies
    refused = next(b for b in bodies if b.get("code"))
    assert refused["code"] == "slot_taken" and refused["alternatives"]
    assert Booking.objects.filter(status=Booking.Status.HELD).count() == 1
