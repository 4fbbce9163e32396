"""Redis down never stops booking: the cache is bypassed, throttles fail open (offer-code
validation fails closed), pages and the API answer as usual. Redis here is a closed port."""

import logging

import config.cache as config_cache
from datetime import timedelta

import pytest
from django.core import mail

from booking.models import Booking
from offers.models import OfferCode
from tests.api.support import INTAKE, NOW, TUESDAY_10, Clinic, assert_error, make_api
from tests.factories import OfferCodeFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def clinic(db):
    return Clinic()


def test_availability_answers_from_the_database_when_redis_is_down(redis_down, frozen, clinic, caplog):
    # Setting up the clinic already warned (calendar writes bump the cache version): warn again here.
    config_cache._last_warning = 0.0
    with caplog.at_level(logging.WARNING):
        response = make_api().get("/api/v1/availability/", {
            "service": clinic.assessment.slug, "date_from": "2027-01-12", "date_to": "2027-01-12"})
    assert response.status_code == 200, response.content
    assert any(slot["start"] == TUESDAY_10.isoformat() for slot in response.json()["slots"])
    assert "Redis cache unavailable" in caplog.text


def test_booking_and_its_throttle_fail_open_with_a_warning(redis_down, frozen, clinic, patient, caplog,
                                                          django_capture_on_commit_callbacks):
    api = make_api(patient)
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/bookings/", {
            "service": clinic.assessment.slug, "practitioner": clinic.physio_a.pk,
            "start": TUESDAY_10.isoformat(), "intake": INTAKE})
    assert response.status_code == 201, response.content
    assert Booking.objects.get().status == Booking.Status.HELD
    assert "rate limit booking_create unavailable" in caplog.text
    assert "letting the request through" in caplog.text


def test_offer_claim_still_works_and_its_email_is_sent(redis_down, frozen, clinic, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = make_api().post("/api/v1/offers/claim/", {"email": "new@example.com"})
    assert response.status_code == 202, response.content
    assert OfferCode.objects.get().email == "new@example.com"
    assert [m.to for m in mail.outbox] == [["new@example.com"]]


def test_offer_code_validation_fails_closed_with_a_json_503(redis_down, frozen, clinic, patient, caplog):
    code = OfferCodeFactory(offer=clinic.offer, email=patient.email, issued_at=NOW,
                            expires_at=NOW + timedelta(hours=24))
    response = make_api(patient).post("/api/v1/offers/validate/", {
        "code": code.code, "service": clinic.assessment.slug})
    assert_error(response, 503, "temporarily_unavailable")
    assert "refusing (fails closed)" in caplog.text


def test_pages_answer_while_redis_is_down(redis_down, frozen, clinic, patient, client):
    assert client.get("/").status_code == 200
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"login": patient.email, "password": "correct-horse-battery"})
    assert response.status_code == 302  # allauth's login rate limit read a miss, and let the login through
    assert client.get("/my-bookings/").status_code == 200
