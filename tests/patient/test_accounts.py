"""Accounts around allauth: signup asks name and phone, the profile page, mandatory verification mid-booking."""

import re

import pytest

from accounts.models import User
from booking.models import Booking

from .conftest import intake_post
from .test_booking_flow import choose

pytestmark = [pytest.mark.django_db]

SIGNUP = {
    "first_name": "Sam", "last_name": "Patel", "email": "sam@example.com", "phone": "07700 900123",
    "password1": "a-long-safe-passphrase", "password2": "a-long-safe-passphrase",
}


def test_signup_errors_are_shown_beside_the_fields(client):
    response = client.post("/accounts/signup/", {**SIGNUP, "phone": "12", "first_name": ""})
    text = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_phone_error"' in text and "10 to 15 digits" in text
    assert 'id="id_first_name_error"' in text
    assert not User.objects.exists()


def test_headless_api_signup_does_not_need_name_and_phone(client):
    response = client.post("/_allauth/app/v1/auth/signup", {"email": "app@example.com", "password": "a-long-safe-passphrase"},
                           content_type="application/json")
    assert response.status_code in (200, 401), response.content  # 401 = signed up, pending email verification
    assert User.objects.filter(email="app@example.com").exists()


def test_profile_edits_name_and_phone(patient_client, patient):
    page = patient_client.get("/accounts/profile/")
    assert page.status_code == 200 and patient.first_name in page.content.decode()
    response = patient_client.post("/accounts/profile/", {"first_name": "Pat", "last_name": "Lee", "phone": "+44 7700 900123"})
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.last_name, patient.phone) == ("Lee", "+44 7700 900123")
    bad = patient_client.post("/accounts/profile/", {"first_name": "Pat", "last_name": "Lee", "phone": "call me"})
    assert 'id="id_phone_error"' in bad.content.decode()


def test_mandatory_verification_keeps_the_chosen_slot(client, clinic, frozen, settings, mailoutbox):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    service, _ = clinic
    choose(client, service)
    client.post("/book/intake/", intake_post())
    response = client.post("/accounts/signup/", {**SIGNUP, "next": "/book/review/"})
    assert response.status_code == 302 and "confirm-email" in response["Location"]
    assert client.get("/book/review/").status_code == 302  # not signed in yet
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[-1].body).group(0)
    path = "/" + link.split("/", 3)[3]
    client.post(path)
    login = client.post("/accounts/login/", {"login": "sam@example.com", "password": "a-long-safe-passphrase"})
    assert login.status_code == 302 and login["Location"] == "/book/review/"
    review = client.get("/book/review/").content.decode()
    assert "Tuesday 12 January 2027" in review and "10:00" in review
    assert not Booking.objects.exists()
