"""Authentication: browser session with CSRF, and django-allauth headless app tokens (allauth 65.x)."""

import pytest
from rest_framework.test import APIClient

from booking.models import Booking
from tests.factories import UserFactory

from .support import INTAKE, PASSWORD, TUESDAY_10, assert_error, make_api, token_login

pytestmark = [pytest.mark.django_db]


def test_signup_through_headless_api_then_book_and_read_back_with_the_token(clinic, frozen):
    client = APIClient()
    signup = client.post(
        "/_allauth/app/v1/auth/signup", {"email": "new.patient@example.com", "password": "a-Long-enough-pass-42"},
        format="json",
    )
    assert signup.status_code == 200, signup.content
    token = signup.json()["meta"]["session_token"]
    assert token
    app = APIClient()  # no cookies: only the token identifies the patient
    headers = {"HTTP_X_SESSION_TOKEN": token}
    created = app.post(
        "/api/v1/bookings/",
        {"service": "sciatica-assessment", "start": TUESDAY_10.isoformat(), "intake": INTAKE},
        format="json", **headers,
    )
    assert created.status_code == 201, created.content
    booking = Booking.objects.get()
    assert booking.patient.email == "new.patient@example.com"
    read = app.get(f"/api/v1/bookings/{booking.pk}/", **headers)
    assert read.status_code == 200 and read.json() == created.json()
    assert [b["id"] for b in app.get("/api/v1/bookings/", **headers).json()] == [booking.pk]
    # Logging out at the headless API ends the token.
    assert app.delete("/_allauth/app/v1/auth/session", **headers).status_code == 401
    assert_error(app.get("/api/v1/bookings/", **headers), 401, "not_authenticated")


def test_an_unknown_token_is_not_authenticated(clinic, frozen):
    client = APIClient()
    assert_error(client.get("/api/v1/bookings/", HTTP_X_SESSION_TOKEN="not-a-token"), 401, "not_authenticated")


def test_session_writes_need_the_csrf_token(clinic, frozen):
    user = UserFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    body = {"code": "FIRST-NOPE", "service": "sciatica-assessment"}
    refused = client.post("/api/v1/offers/validate/", body, format="json")
    assert "CSRF" in assert_error(refused, 403, "permission_denied")["detail"]
    refused = client.post("/api/v1/bookings/", {"service": "follow-up", "start": TUESDAY_10.isoformat()}, format="json")
    assert_error(refused, 403, "permission_denied")
    assert not Booking.objects.exists()
    # Reads need no CSRF token; a write with it goes through.
    assert client.get("/api/v1/bookings/").status_code == 200
    assert make_api(user, "session").post("/api/v1/offers/validate/", body).status_code == 200


def test_a_token_needs_no_csrf_token_even_with_a_session_cookie(clinic, frozen):
    user = UserFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)  # a session cookie is present too
    token = token_login(APIClient(), user.email)
    response = client.post("/api/v1/offers/validate/", {"code": "X", "service": "sciatica-assessment"}, format="json",
                           HTTP_X_SESSION_TOKEN=token)
    assert response.status_code == 200


def test_failed_logins_are_rate_limited_at_the_headless_api(clinic, frozen, settings):
    # Configured in settings.ACCOUNT_RATE_LIMITS (RATE_LOGIN_FAILED): 5 failures per 5 minutes per address.
    user = UserFactory()
    client = APIClient()
    for _ in range(5):
        wrong = client.post("/_allauth/app/v1/auth/login", {"email": user.email, "password": "wrong"}, format="json")
        assert wrong.status_code == 400
    blocked = client.post("/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    # allauth answers the locked-out address with a form error, even with the right password.
    assert blocked.status_code == 400
    assert blocked.json()["errors"][0]["code"] == "too_many_login_attempts"
    other = UserFactory()
    assert token_login(APIClient(), other.email)


def test_logins_are_rate_limited_per_ip(clinic, frozen, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    user = UserFactory()
    for _ in range(3):
        token_login(APIClient(), user.email)
    refused = APIClient().post("/_allauth/app/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")
    assert refused.status_code == 429
