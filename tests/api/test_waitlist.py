"""/api/v1/waitlist/: join, list own entries, leave; errors are {"detail", "code"}."""

import pytest

from tests.factories import UserFactory
from waitlist.models import WaitlistEntry

from .support import INTAKE, assert_error, make_api

URL = "/api/v1/waitlist/"


def delete(api, path):
    return api.client.delete(path, **api.headers)


def test_a_patient_joins_lists_and_leaves_the_waitlist(api, clinic):
    created = api.post(URL, {"service": "follow-up", "date_from": "2027-01-12", "date_to": "2027-01-26",
                             "weekdays": [0, 2], "times_of_day": ["morning"], "practitioner": clinic.physio_a.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert set(body) == {"id", "service", "date_from", "date_to", "practitioner", "weekdays", "times_of_day",
                         "created_at", "status"}
    assert body["service"] == "follow-up" and body["weekdays"] == [0, 2] and body["status"] == "waiting"
    assert body["practitioner"] == clinic.physio_a.pk

    listed = api.get(URL)
    assert listed.status_code == 200 and [e["id"] for e in listed.json()] == [body["id"]]

    left = delete(api, f"{URL}{body['id']}/")
    assert left.status_code == 204
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.LEFT


def test_an_assessment_needs_the_intake_and_red_flags_stop_it(api, clinic):
    window = {"service": "sciatica-assessment", "date_from": "2027-01-12", "date_to": "2027-01-20"}
    assert_error(api.post(URL, window), 400, "intake_required")
    assert_error(api.post(URL, {**window, "intake": {**INTAKE, "saddle_numbness": True}}), 422, "urgent_care")
    assert not WaitlistEntry.objects.exists()
    assert api.post(URL, {**window, "intake": INTAKE}).status_code == 201


@pytest.mark.parametrize("window, code", [
    ({"date_from": "2027-01-10", "date_to": "2027-01-12"}, "invalid_window"),  # the past
    ({"date_from": "2027-01-12", "date_to": "2027-03-31"}, "invalid_window"),  # over 60 days
    ({"date_from": "2027-01-20", "date_to": "2027-01-12"}, "invalid_window"),
    ({"date_from": "2027-01-12", "date_to": "2027-01-20", "weekdays": [9]}, "invalid"),
    ({"date_from": "2027-01-12", "date_to": "2027-01-20", "times_of_day": ["night"]}, "invalid"),
    ({"date_from": "12/01/2027", "date_to": "2027-01-20"}, "invalid"),
])
def test_an_invalid_window_is_a_400(api, clinic, window, code):
    assert_error(api.post(URL, {"service": "follow-up", **window}), 400, code)
    assert not WaitlistEntry.objects.exists()


def test_an_unknown_service_is_a_400(api, clinic):
    assert_error(api.post(URL, {"service": "nope", "date_from": "2027-01-12", "date_to": "2027-01-20"}), 400,
                 "unknown_service")


def test_another_patients_entry_is_a_404_and_not_listed(api, clinic, frozen):
    other = make_api(UserFactory(), "session")
    theirs = other.post(URL, {"service": "follow-up", "date_from": "2027-01-12", "date_to": "2027-01-20"}).json()
    assert api.get(URL).json() == []
    assert_error(delete(api, f"{URL}{theirs['id']}/"), 404, "not_found")
    assert WaitlistEntry.objects.get().status == WaitlistEntry.Status.WAITING


def test_the_waitlist_needs_a_login(anon, clinic):
    assert_error(anon.get(URL), 401)
    assert_error(anon.post(URL, {"service": "follow-up"}), 401)


def test_listing_the_waitlist_costs_a_fixed_number_of_queries(api, clinic, django_assert_max_num_queries):
    for _ in range(5):
        api.post(URL, {"service": "follow-up", "date_from": "2027-01-12", "date_to": "2027-01-20"})
    with django_assert_max_num_queries(6):
        assert len(api.get(URL).json()) == 5


def test_the_waitlist_is_in_the_openapi_schema(anon):
    schema = anon.client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/waitlist/"])
    assert "delete" in schema["paths"]["/api/v1/waitlist/{id}/"]
