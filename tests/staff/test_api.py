from datetime import datetime

import pytest
from django.urls import reverse

from booking.availability import LONDON
from tests.factories import BookingFactory, TimeOffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)


def test_staff_calendar_shape(reception_client, physios, services, patient, django_assert_max_num_queries):
    alex, sam = physios
    booking = BookingFactory(practitioner=alex, service=services[0], patient=patient,
                             start=datetime(2027, 1, 12, 10, 0, tzinfo=LONDON), flags=["fever"])
    TimeOffFactory(practitioner=sam, start=datetime(2027, 1, 12, 12, 0, tzinfo=LONDON),
                   end=datetime(2027, 1, 12, 13, 0, tzinfo=LONDON), reason="lunch")
    with django_assert_max_num_queries(10):
        response = reception_client.get(reverse("staff_api:calendar"), {"date": "2027-01-12"})
    assert response.status_code == 200
    data = response.json()
    assert data["date"] == "2027-01-12"
    by_id = {p["id"]: p for p in data["practitioners"]}
    assert set(by_id) == {alex.pk, sam.pk}
    assert by_id[alex.pk]["name"] == "Alex Ray"
    assert by_id[alex.pk]["working"] == [{"start": "2027-01-12T09:00:00+00:00", "end": "2027-01-12T17:00:00+00:00"}]
    [item] = by_id[alex.pk]["bookings"]
    assert item["id"] == booking.pk and item["status"] == "confirmed" and item["flags"] == ["fever"]
    assert item["patient"] == {"id": patient.pk, "name": "Paula Jones"}
    assert item["service"]["name"] == "Sciatica assessment"
    assert item["start"] == "2027-01-12T10:00:00+00:00"
    assert by_id[sam.pk]["time_off"][0]["reason"] == "lunch"
    one = reception_client.get(reverse("staff_api:calendar"), {"date": "2027-01-12", "practitioner": sam.pk}).json()
    assert [p["id"] for p in one["practitioners"]] == [sam.pk]


@pytest.mark.parametrize("params", [{}, {"date": "12/01/2027"}, {"date": "2027-01-12", "practitioner": "x"}])
def test_staff_calendar_bad_input_is_400(reception_client, physios, params):
    response = reception_client.get(reverse("staff_api:calendar"), params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_staff_calendar_unknown_practitioner_is_404(reception_client, physios):
    response = reception_client.get(reverse("staff_api:calendar"), {"date": "2027-01-12", "practitioner": 999999})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
