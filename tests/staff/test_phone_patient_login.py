"""Patients booked at the desk have no password: the booking email signs them in once, onto the booking."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from booking.availability import LONDON
from booking.staff import services as desk

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=LONDON)


@pytest.fixture
def emailed_booking(physios, services, reception, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = desk.reception_book(
            patient=None, service=services[1], practitioner=physios[0], start=datetime(2027, 1, 12, 10, tzinfo=LONDON),
            payment=desk.PAY_AT_CLINIC, actor=reception,
            new_patient={"first_name": "Phoebe", "last_name": "Caller", "email": "phoebe@example.com", "phone": ""},
        )
    (confirmation,) = mail.outbox
    link = re.search(r"https?://\S+/accounts/link/\S+/", confirmation.body).group(0)
    return result.booking, link.split("://", 1)[1].split("/", 1)[1]


def test_desk_patient_has_no_password_and_the_email_says_no_password_is_needed(emailed_booking):
    booking, _ = emailed_booking
    assert not booking.patient.has_usable_password()
    assert "no password needed" in mail.outbox[0].body


def test_email_link_signs_the_patient_in_and_lands_on_the_booking(client, emailed_booking):
    booking, path = emailed_booking
    page = client.get("/" + path)
    assert page.status_code == 200 and "Sign in and see my booking" in page.content.decode()
    # A GET (a mail scanner's fetch) signs nobody in.
    assert client.get(reverse("booking:my_bookings")).status_code == 302
    response = client.post("/" + path)
    assert response.status_code == 302 and response["Location"] == reverse("booking:my_booking", args=[booking.pk])
    assert client.get(response["Location"]).status_code == 200
    profile = client.get(reverse("accounts:profile")).content.decode()
    assert "Set a password" in profile


def test_email_link_works_once(client, emailed_booking):
    _, path = emailed_booking
    client.post("/" + path)
    client.logout()
    again = client.post("/" + path)
    assert again.status_code == 410 and "no longer works" in again.content.decode()
    assert client.get(reverse("booking:my_bookings")).status_code == 302


def test_email_link_lapses_and_a_forged_one_fails(client, emailed_booking, settings):
    _, path = emailed_booking
    with time_machine.travel(NOW + timedelta(days=settings.LOGIN_LINK_DAYS, minutes=1)):
        assert client.get("/" + path).status_code == 410
        assert client.post("/" + path).status_code == 410
    assert client.post("/" + path[:-3] + "xx/").status_code == 410
    assert client.get(reverse("booking:my_bookings")).status_code == 302


def test_patients_can_ask_for_a_sign_in_code_instead(client, emailed_booking):
    booking, _ = emailed_booking
    response = client.post(reverse("account_request_login_code"), {"email": booking.patient.email})
    assert response.status_code == 302
    assert any("code" in m.subject.lower() or "code" in m.body.lower() for m in mail.outbox[1:])
