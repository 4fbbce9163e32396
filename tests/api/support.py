"""Helpers shared by the API tests (fixtures are in conftest.py)."""

from __future__ import annotations

import secrets
from datetime import datetime

from rest_framework.test import APIClient

from booking.availability import LONDON
from tests.shared import INTAKE, NOW  # noqa: F401 - the tests here import them from this module
from tests.factories import PASSWORD, FollowUpFactory, OfferFactory, PractitionerFactory, ServiceFactory

TUESDAY_10 = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)



class Clinic:
    def __init__(self):
        self.assessment = ServiceFactory(name="Sciatica assessment", slug="sciatica-assessment")
        self.follow_up = FollowUpFactory(slug="follow-up")
        self.physio_a = PractitionerFactory(services=[self.assessment, self.follow_up], user__first_name="Ada")
        self.physio_b = PractitionerFactory(services=[self.assessment], user__first_name="Bea")
        self.offer = OfferFactory(percent_off=20, validity_hours=24, services=[self.assessment])


class Api:
    """A client for one user and one kind of authentication; JSON in, JSON out."""

    def __init__(self, client: APIClient, headers: dict, mode: str, user=None):
        self.client, self.headers, self.mode, self.user = client, headers, mode, user

    def get(self, path, params=None):
        return self.client.get(path, params or {}, **self.headers)

    def post(self, path, data=None):
        return self.client.post(path, data if data is not None else {}, format="json", **self.headers)


def token_login(client: APIClient, email: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/_allauth/app/v1/auth/login", {"email": email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["meta"]["session_token"]


def make_api(user=None, mode: str = "session") -> Api:
    client = APIClient(enforce_csrf_checks=True)
    if user is None:
        return Api(client, {}, mode)
    if mode == "token":
        # A fresh client with no cookies: the token alone must authenticate.
        token = token_login(APIClient(), user.email)
        return Api(client, {"HTTP_X_SESSION_TOKEN": token}, mode, user)
    client.force_login(user)
    secret = secrets.token_hex(16)  # 32 characters, like Django's unmasked CSRF secret
    client.cookies["csrftoken"] = secret
    return Api(client, {"HTTP_X_CSRFTOKEN": secret}, mode, user)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Every API error: JSON with a status, a "detail" sentence and a "code"."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert isinstance(body.get("code"), str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body
