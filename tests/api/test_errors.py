"""Errors are always JSON {"detail", "code"}: never an HTML page, never a 500, whatever the input."""

import json

import pytest
from django.test import Client

from booking.models import Booking

from .support import assert_error, make_api

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def raw(frozen):
    # Django's test client re-raises exceptions; a 500 would fail the test loudly.
    return Client(raise_request_exception=True)


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/services", "/api/v1/bookings/abc/", "/api/", "/api/v2/services/",
                                  "/api/v1/bookings/1/refund/", "/api/v1/%C3%A9t%C3%A9/"])
def test_unknown_api_paths_are_json_404(raw, path):
    assert_error(raw.get(path), 404, "not_found")
    # Even a POST to a path missing its slash: no APPEND_SLASH RuntimeError, no redirect.
    assert_error(raw.post(path, "{}", content_type="application/json"), 404, "not_found")


def test_unknown_api_post_with_a_session_cookie_is_json_404_not_a_csrf_page(clinic, frozen):
    from django.test import Client as C

    client = C(enforce_csrf_checks=True)
    client.force_login(__import__("tests.factories", fromlist=["UserFactory"]).UserFactory())
    assert_error(client.post("/api/v1/bookings/null,null/cancel/", "{}", content_type="application/json"), 404, "not_found")


def test_csrf_failures_under_api_are_json(rf):
    from config.api import csrf_failure

    body = json.loads(csrf_failure(rf.post("/api/v1/x/"), reason="CSRF cookie not set.").content)
    assert body == {"detail": "CSRF Failed: CSRF cookie not set.", "code": "permission_denied"}


def test_wrong_method_is_json_405(raw, clinic):
    assert_error(raw.delete("/api/v1/services/"), 405, "method_not_allowed")
    assert_error(raw.put("/api/v1/offers/claim/", "{}", content_type="application/json"), 405, "method_not_allowed")


def test_form_bodies_are_json_415(raw, clinic):
    response = raw.post("/api/v1/offers/claim/", {"email": "a@example.com"})
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    "body",
    [
        "{not json", "", "null", "[]", "5", '"a string"', "[1, 2, 3]", '{"email": null}', '{"email": 1e999}',
        '{"email": NaN}', "{\"email\": \"\u00e9l\u00e8ve@exemple.fr\"}", '{"email": "' + "x" * 100_000 + '@a.b"}',
        '{"email": ' + "9" * 5000 + "}", '{"email": {"$gt": ""}}', '{"email": "a@b.com", "extra": [[[[]]]]}',
        "\xff\xfe", '{"email": "\\ud800@example.com"}',
    ],
)
def test_garbage_bodies_never_500(raw, clinic, body):
    response = raw.post("/api/v1/offers/claim/", body.encode("utf-8", "surrogatepass"), content_type="application/json")
    assert response.status_code in (202, 400), response.content
    if response.status_code == 400:
        assert_error(response, 400)


@pytest.mark.parametrize(
    "field, value",
    [
        ("service", None), ("service", 12), ("service", ["sciatica-assessment"]), ("service", "é" * 60),
        ("start", None), ("start", True), ("start", "2027-13-45T99:99:99Z"), ("start", "2027-01-12T10:00:00+25:00"),
        ("start", "0001-01-01T00:00:00+14:00"), ("start", "2027-01-12T10:00:00.123456789+00:00"),
        ("practitioner", -1), ("practitioner", 0), ("practitioner", 1.5), ("practitioner", 2**64), ("practitioner", "1e3"), ("practitioner", "5"), ("practitioner", 5.0),
        ("service", 0), ("offer_code", 0), ("offer_code", False),
        ("offer_code", 123456), ("offer_code", "\x00"), ("offer_code", "𝔉𝔦𝔯𝔰𝔱" * 20),
        ("intake", []), ("intake", {"pain_areas": "all"}), ("intake", {"side": {"left": True}}),
        ("intake", {"duration_weeks": 10**20, "pain_areas": ["foot"], "side": "left"}),
        ("intake", {"pain_areas": ["foot"], "side": "left", "duration_weeks": 1, "numbness": "yes"}),
    ],
)
def test_wrong_types_and_huge_values_are_400_never_500(clinic, frozen, field, value):
    api = make_api(__import__("tests.factories", fromlist=["UserFactory"]).UserFactory(), "token")
    body = {"service": "sciatica-assessment", "start": "2027-01-12T10:00:00+00:00",
            "intake": {"pain_areas": ["foot"], "side": "left", "duration_weeks": 1}, field: value}
    response = api.client.post("/api/v1/bookings/", json.dumps(body), content_type="application/json", **api.headers)
    assert_error(response, 400)
    assert not Booking.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "service=%00", "service=sciatica-assessment&date_from=2027-01-12&date_to=2027-01-12&practitioner=-5",
        "service=sciatica-assessment&date_from=2027-01-12&date_to=2027-01-12&practitioner=1e400",
        "service=sciatica-assessment&date_from=%F0%9F%92%A9&date_to=2027-01-12",
        "service=sciatica-assessment&date_from=99999-01-01&date_to=2027-01-12",
        "service=sciatica-assessment&date_from=2100-12-31&date_to=2100-12-31",
        "service[]=a&service[]=b", "service=" + "a" * 10_000,
    ],
)
def test_odd_query_strings_never_500(raw, clinic, query):
    response = raw.get("/api/v1/availability/?" + query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert_error(response, 400)


def test_blank_service_query_value_is_400(raw, clinic):
    # Found by schemathesis: `?service=` was a 500 (DRF drops blank optional query values).
    assert "service" in assert_error(raw.get("/api/v1/practitioners/?service="), 400, "invalid")["errors"]
    assert len(raw.get("/api/v1/practitioners/").json()) == 2


def test_text_fields_take_only_strings(clinic, frozen):
    # Found by schemathesis: {"reason": 0} was accepted although the schema says string.
    from tests.factories import BookingFactory, UserFactory

    api = make_api(UserFactory(), "token")
    booking = BookingFactory(patient=api.user, practitioner=clinic.physio_a, service=clinic.follow_up)
    assert_error(api.post(f"/api/v1/bookings/{booking.pk}/cancel/", {"reason": 0}), 400, "invalid")
    assert_error(api.post("/api/v1/offers/validate/", {"code": 123, "service": "follow-up"}), 400, "invalid")
    assert_error(make_api().post("/api/v1/offers/claim/", {"email": 5}), 400, "invalid")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_handler500_answers_json_for_api_paths(rf):
    from config.api import handler500

    response = handler500(rf.get("/api/v1/services/"))
    assert response.status_code == 500
    assert json.loads(response.content) == {"detail": "Something went wrong on our side. Please try again.",
                                            "code": "server_error"}
    assert b"<" in handler500(rf.get("/")).content  # pages keep the HTML error page


def test_healthz(raw):
    response = raw.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_a_django_validation_error_is_a_json_400_not_a_500():
    from django.core.exceptions import ValidationError

    from config.api import exception_handler

    response = exception_handler(ValidationError({"start": ["Bad start."]}), {})
    assert response.status_code == 400
    assert response.data == {"detail": "Some fields are invalid.", "code": "invalid", "errors": {"start": ["Bad start."]}}


def test_a_browser_gets_json_too(raw, clinic):
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    ok = raw.get("/api/v1/services/", HTTP_ACCEPT=browser_accept)
    assert ok.status_code == 200 and ok["Content-Type"] == "application/json"
    assert_error(raw.get("/api/v1/bookings/", HTTP_ACCEPT=browser_accept), 401, "not_authenticated")
    assert_error(raw.get("/api/v1/bookings/", HTTP_ACCEPT="text/html"), 406, "not_acceptable")
