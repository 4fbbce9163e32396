"""The OpenAPI 3 document at /api/schema/ and the docs at /api/docs/ (assets served locally)."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = [pytest.mark.django_db]

# Every api.md row this branch serves: (path, method, statuses the contract names).
CONTRACT = [
    ("/api/v1/services/", "get", {"200"}),
    ("/api/v1/practitioners/", "get", {"200", "400"}),
    ("/api/v1/availability/", "get", {"200", "400"}),
    ("/api/v1/offers/claim/", "post", {"202", "400", "429"}),
    ("/api/v1/offers/mine/", "get", {"200", "401", "404"}),
    ("/api/v1/offers/validate/", "post", {"200", "401", "429"}),
    ("/api/v1/bookings/", "post", {"201", "400", "401", "409", "422"}),
    ("/api/v1/bookings/", "get", {"200", "401"}),
    ("/api/v1/bookings/{id}/", "get", {"200", "404"}),
    ("/api/v1/bookings/{id}/cancel/", "post", {"200", "409"}),
    ("/api/v1/bookings/{id}/reschedule/", "post", {"200", "409"}),
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_is_openapi_3_and_describes_every_contract_row(schema):
    assert schema["openapi"].startswith("3.")
    for path, method, statuses in CONTRACT:
        operation = schema["paths"][path][method]
        assert statuses <= set(operation["responses"]), (path, method, set(operation["responses"]))


def test_every_error_response_is_the_error_body(schema):
    for path, methods in schema["paths"].items():
        for operation in methods.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    name = ref.rsplit("/", 1)[1]
                    assert {"detail", "code"} <= set(schema["components"]["schemas"][name]["properties"]), (path, status)


def test_booking_shape_matches_api_md(schema):
    booking = schema["components"]["schemas"]["Booking"]["properties"]
    assert {"id", "service", "practitioner", "start", "end", "status", "price_pence", "discount_pence",
            "amount_due_pence", "offer_code", "hold_expires_at", "checkout_url", "created_at"} <= set(booking)
    intake = schema["components"]["schemas"]["IntakeRequest"]["properties"]
    assert {"pain_areas", "side", "duration_weeks", "saddle_numbness", "recent_trauma"} <= set(intake)


def test_offer_validation_is_one_of_valid_or_refused(schema):
    validation = schema["components"]["schemas"]["OfferValidation"]
    names = {ref["$ref"].rsplit("/", 1)[1] for ref in validation["oneOf"]}
    assert names == {"OfferValidResult", "OfferRefusedResult"}
    refused = schema["components"]["schemas"]["OfferRefusedResult"]["properties"]["code"]
    codes = set(schema["components"]["schemas"][refused["$ref"].rsplit("/", 1)[1]]["enum"]) if "$ref" in refused else set(refused["enum"])
    assert codes == {"unknown", "expired", "used", "not_yours", "not_first_session", "wrong_service"}


def test_both_authentications_are_documented(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["XSessionTokenAuth"]["name"] == "X-Session-Token"
    assert "cookieAuth" in schemes
    assert {"XSessionTokenAuth": []} in schema["paths"]["/api/v1/bookings/"]["post"]["security"]


def test_schema_as_json_too():
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200 and response.json()["info"]["title"] == "Physiobook API"


def test_docs_page_loads_its_assets_from_this_server(db):
    client = Client()
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', html)
    assert assets, html[:500]
    for asset in assets:
        assert asset.startswith("/static/"), asset  # no CDN: it cannot be reached from here
        # Served by whitenoise after collectstatic (or runserver in DEBUG): the file must be findable.
        assert finders.find(asset.removeprefix("/static/")), asset
    assert Client().get("/api/redoc/").status_code == 200
