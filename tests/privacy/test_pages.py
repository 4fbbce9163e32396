"""Reception's export for a phone request, the privacy notice and where it is linked."""

import pytest

from privacy.models import DataRequest
from tests.factories import ReceptionistFactory, UserFactory


@pytest.fixture
def caller(db):
    return UserFactory(email="caller@example.com", first_name="Cara", last_name="Caller", phone="07700 900555")


def test_reception_produces_the_export_for_a_phone_request_and_it_is_logged(client, caller):
    desk = ReceptionistFactory()
    client.force_login(desk)
    assert client.get("/staff/data-requests/").status_code == 200
    form = {"email": "Caller@Example.com", "channel": "phone", "note": "DOB and last visit confirmed"}
    page = client.post("/staff/data-requests/", form)
    assert page.status_code == 200 and "Caller" in page.content.decode()
    download = client.post("/staff/data-requests/", {**form, "format": "json"})
    assert download.json()["profile"]["phone"] == "07700 900555"
    logged = DataRequest.objects.filter(user=caller, kind="export", channel="phone", handled_by=desk)
    assert logged.count() == 2 and logged.first().note == "DOB and last visit confirmed"
    assert "DOB and last visit confirmed" in client.get("/staff/data-requests/").content.decode()


def test_reception_export_of_an_unknown_address_is_a_form_error(client, db):
    client.force_login(ReceptionistFactory())
    response = client.post("/staff/data-requests/", {"email": "nobody@example.com", "channel": "phone", "note": "x"})
    assert response.status_code == 400 and "No patient has that email address." in response.content.decode()
    assert not DataRequest.objects.exists()


def test_patients_cannot_use_the_desk_export(client, caller):
    client.force_login(UserFactory(email="nosy@example.com"))
    response = client.post("/staff/data-requests/", {"email": "caller@example.com", "channel": "phone", "note": "x"})
    assert response.status_code == 403 and not DataRequest.objects.exists()


def test_privacy_notice_states_retention_and_is_linked_from_footer_and_sign_up(client, db):
    notice = client.get("/privacy/").content.decode()
    assert "8 years after your last treatment" in notice and "6 years after the payment" in notice
    assert 'href="/privacy/"' in client.get("/").content.decode()
    assert 'href="/privacy/"' in client.get("/accounts/signup/").content.decode()


def test_profile_links_to_export_and_deletion(client, caller):
    client.force_login(caller)
    html = client.get("/accounts/profile/").content.decode()
    assert "/accounts/profile/data/" in html and "/accounts/profile/data.json" in html and "/accounts/profile/delete/" in html


def test_recording_backend_logs_each_email_sent_against_its_patient(caller, recorded_mail):
    from django.core.mail import send_mail

    from privacy.models import SentEmail

    send_mail("Your booking", "body", None, ["CALLER@example.com", "stranger@example.com"])
    assert len(recorded_mail) == 1
    rows = {r.to: r.user_id for r in SentEmail.objects.all()}
    assert rows == {"caller@example.com": caller.pk, "stranger@example.com": None}
