"""api.md rows: services, practitioners, availability (anyone; no auth needed)."""

from datetime import date, datetime, timedelta

import pytest

from booking.availability import LONDON
from booking.models import Booking
from tests.factories import BookingFactory, ServiceFactory, TimeOffFactory

from .support import assert_error

pytestmark = [pytest.mark.django_db]


def test_services_lists_active_services_with_contract_fields(anon, clinic, django_assert_max_num_queries):
    ServiceFactory(name="Retired service", slug="retired", active=False)
    with django_assert_max_num_queries(1):
        response = anon.get("/api/v1/services/")
    assert response.status_code == 200
    body = response.json()
    assert [s["slug"] for s in body] == ["follow-up", "sciatica-assessment"] or [s["slug"] for s in body] == [
        "sciatica-assessment", "follow-up"]
    assessment = next(s for s in body if s["slug"] == "sciatica-assessment")
    assert assessment == {
        "slug": "sciatica-assessment", "name": "Sciatica assessment", "duration_minutes": 45,
        "price_pence": 7500, "is_first_session": True, "bookable_online": True,
    }


def test_services_also_for_logged_in_clients(api, clinic):
    assert api.get("/api/v1/services/").status_code == 200


def test_practitioners_for_a_service(anon, clinic, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = anon.get("/api/v1/practitioners/", {"service": "follow-up"})
    assert response.status_code == 200
    body = response.json()
    assert [p["id"] for p in body] == [clinic.physio_a.pk]
    assert body[0]["name"] == clinic.physio_a.name
    assert sorted(body[0]["services"]) == ["follow-up", "sciatica-assessment"]
    both = anon.get("/api/v1/practitioners/", {"service": "sciatica-assessment"}).json()
    assert {p["id"] for p in both} == {clinic.physio_a.pk, clinic.physio_b.pk}


def test_practitioners_unknown_service_is_400(anon, clinic):
    assert_error(anon.get("/api/v1/practitioners/", {"service": "no-such-thing"}), 400, "unknown_service")
    assert_error(anon.get("/api/v1/practitioners/", {"service": "not a slug!"}), 400, "invalid")


def _availability(anon, **params):
    return anon.get("/api/v1/availability/", params)


def test_availability_slots_ordered_by_start_then_practitioner_with_offsets(anon, clinic, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        response = _availability(anon, service="sciatica-assessment", date_from="2027-01-12", date_to="2027-01-13")
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == "sciatica-assessment"
    slots = body["slots"]
    keys = [(datetime.fromisoformat(s["start"]), s["practitioner"]) for s in slots]
    assert keys == sorted(keys)
    first_two = slots[:2]
    assert [s["start"] for s in first_two] == ["2027-01-12T09:00:00+00:00"] * 2
    assert [s["practitioner"] for s in first_two] == sorted([clinic.physio_a.pk, clinic.physio_b.pk])
    assert first_two[0]["end"] == "2027-01-12T09:45:00+00:00"
    # 09:00-17:00 with a 60-minute footprint on a 15-minute grid: 29 starts a day each.
    assert len(slots) == 2 * 2 * 29


def test_availability_summer_times_carry_plus_one_offset(anon, clinic):
    with __import__("time_machine").travel(datetime(2027, 6, 7, 8, 0, tzinfo=LONDON), tick=False):
        slots = _availability(anon, service="sciatica-assessment", date_from="2027-06-08", date_to="2027-06-08").json()["slots"]
    assert slots[0]["start"] == "2027-06-08T09:00:00+01:00"


def test_availability_for_one_practitioner_leaves_out_booked_and_time_off(anon, clinic):
    BookingFactory(practitioner=clinic.physio_a, service=clinic.assessment,
                   start=datetime(2027, 1, 12, 10, 0, tzinfo=LONDON))
    TimeOffFactory(practitioner=clinic.physio_a, start=datetime(2027, 1, 12, 13, 0, tzinfo=LONDON),
                   end=datetime(2027, 1, 12, 17, 0, tzinfo=LONDON))
    body = _availability(anon, service="sciatica-assessment", date_from="2027-01-12", date_to="2027-01-12",
                         practitioner=clinic.physio_a.pk).json()
    starts = [s["start"][11:16] for s in body["slots"]]
    assert {s["practitioner"] for s in body["slots"]} == {clinic.physio_a.pk}
    assert "09:00" in starts and "10:00" not in starts and "10:45" not in starts and "11:00" in starts
    assert "12:00" in starts and "12:15" not in starts and "13:00" not in starts


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "service"),
        ({"service": "sciatica-assessment", "date_to": "2027-01-12"}, "date_from"),
        ({"service": "sciatica-assessment", "date_from": "2027-01-12"}, "date_to"),
        ({"service": "sciatica-assessment", "date_from": "12/01/2027", "date_to": "2027-01-12"}, "date_from"),
        ({"service": "sciatica-assessment", "date_from": "2027-02-30", "date_to": "2027-03-01"}, "date_from"),
        ({"service": "sciatica-assessment", "date_from": "2027-01-12", "date_to": "2027-01-11"}, "date_to"),
        ({"service": "sciatica-assessment", "date_from": "2027-01-01", "date_to": "2027-03-04"}, "date_to"),
        ({"service": "sciatica-assessment", "date_from": "0001-01-01", "date_to": "9999-12-31"}, "date_from"),
        ({"service": "sciatica-assessment", "date_from": "2027-01-12", "date_to": "2027-01-12",
          "practitioner": "abc"}, "practitioner"),
        ({"service": "sciatica-assessment", "date_from": "2027-01-12", "date_to": "2027-01-12",
          "practitioner": "99999999999999999999999"}, "practitioner"),
    ],
)
def test_availability_bad_parameters_are_400(anon, clinic, params, field):
    body = assert_error(_availability(anon, **params), 400, "invalid")
    assert field in body["errors"]


def test_availability_62_days_is_the_most(anon, clinic):
    start = date(2027, 1, 12)
    ok = _availability(anon, service="sciatica-assessment", date_from=start.isoformat(),
                       date_to=(start + timedelta(days=61)).isoformat())
    assert ok.status_code == 200
    too_long = _availability(anon, service="sciatica-assessment", date_from=start.isoformat(),
                             date_to=(start + timedelta(days=62)).isoformat())
    assert_error(too_long, 400, "invalid")


def test_availability_unknown_service_or_practitioner_is_400(anon, clinic):
    assert_error(_availability(anon, service="nope", date_from="2027-01-12", date_to="2027-01-12"), 400, "unknown_service")
    # physio_b does not offer follow-ups.
    assert_error(_availability(anon, service="follow-up", date_from="2027-01-12", date_to="2027-01-12",
                               practitioner=clinic.physio_b.pk), 400, "unknown_practitioner")


def test_availability_is_empty_past_the_horizon(anon, clinic):
    body = _availability(anon, service="sciatica-assessment", date_from="2027-06-01", date_to="2027-06-02").json()
    assert body == {"service": "sciatica-assessment", "slots": []}
    assert Booking.objects.count() == 0
