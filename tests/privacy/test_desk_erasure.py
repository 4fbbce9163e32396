"""Reception erases a patient's account for a request made by phone: find, confirm identity, give the reason.
The same service as the patient's own erasure; logged with who, when, how and why; staff only; CSRF on."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from booking.models import Booking
from privacy.models import DataRequest, Erasure
from tests.factories import BookingFactory, ReceptionistFactory, UserFactory

URL = "/staff/data-requests/erase/"


@pytest.fixture
def caller(db):
    patient = UserFactory(email="cara@example.com", first_name="Cara", last_name="Caller", phone="07700 900555")
    BookingFactory(patient=patient, start=timezone.now() - timedelta(days=30), status=Booking.Status.ATTENDED)
    return patient


@pytest.fixture
def desk(client, db):
    user = ReceptionistFactory(first_name="Rita", last_name="Reception")
    client.force_login(user)
    return user


def _form(patient, **overrides):
    return {"patient": str(patient.pk), "channel": "phone", "identity_confirmed": "on",
            "note": "Asked by phone; DOB and last visit confirmed", **overrides}


def test_reception_finds_the_caller_confirms_and_erases_and_it_is_logged(client, desk, caller):
    found = client.get(URL, {"q": "Cara Caller"}).content.decode()
    assert "Erase Cara Caller" in found and "cara@example.com" in found and "identity_confirmed" in found
    response = client.post(URL, _form(caller))
    assert response.status_code == 302
    caller.refresh_from_db()
    assert not caller.is_active and caller.first_name == "Erased" and Erasure.objects.filter(user=caller).exists()
    log = DataRequest.objects.get(user=caller, kind=DataRequest.Kind.ERASURE)
    assert (log.channel, log.handled_by, log.note) == ("phone", desk, "Asked by phone; DOB and last visit confirmed")
    page = client.get(URL).content.decode()
    assert "Cara Caller&#x27;s account is erased" in page and "Rita Reception" in page and "DOB and last visit" in page
    assert not client.login(username="cara@example.com", password="correct-horse-battery")


@pytest.mark.parametrize("missing", ["identity_confirmed", "note", "channel", "patient"])
def test_without_identity_check_reason_or_patient_nothing_is_erased(client, desk, caller, missing):
    form = _form(caller)
    form.pop(missing)
    response = client.post(URL, form)
    assert response.status_code == 400
    caller.refresh_from_db()
    assert caller.is_active and caller.first_name == "Cara" and not DataRequest.objects.exists()


@pytest.mark.parametrize("bad", ["0", "-1", "99999999999999999999999", "abc", "1e3"])
def test_a_forged_patient_id_is_a_form_error_not_a_500(client, desk, caller, bad):
    assert client.post(URL, {**_form(caller), "patient": bad}).status_code == 400
    assert client.get(URL, {"patient": bad}).status_code == 200
    assert not Erasure.objects.exists()


def test_an_upcoming_booking_refuses_with_the_reason_and_changes_nothing(client, desk, caller):
    BookingFactory(patient=caller, start=timezone.now() + timedelta(days=2))
    response = client.post(URL, _form(caller))
    assert response.status_code == 400 and "upcoming booking" in response.content.decode()
    assert User.objects.get(pk=caller.pk).is_active and not Erasure.objects.exists()


def test_staff_accounts_cannot_be_erased_from_the_desk(client, desk, caller):
    other = ReceptionistFactory()
    assert client.post(URL, _form(other)).status_code == 400
    assert User.objects.get(pk=other.pk).is_active


def test_patients_get_403_and_visitors_log_in(client, caller):
    assert client.post(URL, _form(caller)).status_code == 302  # to the login page
    client.force_login(UserFactory(email="nosy@example.com"))
    assert client.get(URL, {"q": "Cara"}).status_code == 403
    assert client.post(URL, _form(caller)).status_code == 403
    assert User.objects.get(pk=caller.pk).is_active and not DataRequest.objects.exists()


def test_the_erase_form_needs_csrf(db, caller):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(ReceptionistFactory())
    assert csrf_client.post(URL, _form(caller)).status_code == 403
    assert User.objects.get(pk=caller.pk).is_active
