"""Two patients POST the same slot at the same moment through the API: one hold, one 409."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from booking.models import Booking
from tests.factories import FollowUpFactory, PractitionerFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.booking]


def test_simultaneous_bookings_of_one_slot_give_one_201_and_one_409(frozen):
    service = FollowUpFactory(slug="follow-up")
    PractitionerFactory(services=[service])
    clients = []
    for n in range(2):
        client = APIClient()
        client.force_login(UserFactory(email=f"racer{n}@example.com"))  # no CSRF check in APIClient by default
        clients.append(client)
    barrier = threading.Barrier(2)
    statuses, bodies = [], []

    def book(client):
        try:
            barrier.wait(timeout=10)
            response = client.post("/api/v1/bookings/", {"service": "follow-up", "start": "2027-01-12T10:00:00+00:00"},
                                   format="json")
            statuses.append(response.status_code)
            bodies.append(response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201, 409], bodies
    refused = next(b for b in bodies if b.get("code"))
    assert refused["code"] == "slot_taken" and refused["alternatives"]
    assert Booking.objects.filter(status=Booking.Status.HELD).count() == 1
