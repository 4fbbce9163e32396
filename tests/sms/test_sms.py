"""Texts through Twilio's official SDK to a local fake; signed callbacks; consent; STOP."""

from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from twilio.request_validator import RequestValidator

from booking import services as booking_services
from booking.availability import LONDON
from sms.models import SmsContact, SmsMessage
from sms.phone import InvalidPhone, normalise_uk_mobile
from sms.services import sms_consent_set, sms_send_to_patient
from tests.factories import FollowUpFactory, PractitionerFactory, UserFactory
from waitlist import services as waitlist

from .fake_twilio import AUTH_TOKEN, FROM_NUMBER

pytestmark = [pytest.mark.django_db]


def agreed_patient(email="texts@example.com", phone="07412 345678"):
    patient = UserFactory(email=email, first_name="Tess")
    sms_consent_set(user=patient, phone=phone, agreed=True)
    return patient


def sign(url: str, params: dict) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url, params)


@pytest.mark.parametrize("typed, e164", [
    ("07412 345678", "+447412345678"),
    ("+44 7412 345678", "+447412345678"),
    ("0044 7412-345-678", "+447412345678"),
    ("(07412) 345678", "+447412345678"),
])
def test_uk_mobiles_are_stored_as_e164(typed, e164):
    assert normalise_uk_mobile(typed) == e164


@pytest.mark.parametrize("typed", ["020 7946 0000", "12345", "+1 202 555 0143", "", "07412 34567"])
def test_landlines_foreign_and_malformed_numbers_are_refused(typed):
    with pytest.raises(InvalidPhone):
        normalise_uk_mobile(typed)


def test_consent_is_recorded_with_its_time_and_can_be_withdrawn():
    patient = agreed_patient()
    contact = SmsContact.objects.get(user=patient)
    assert contact.phone == "+447412345678" and contact.consented_at and contact.may_text
    sms_consent_set(user=patient, phone="07412345678", agreed=False)
    contact.refresh_from_db()
    assert contact.opted_out_at and not contact.may_text


def test_the_reminder_reaches_the_provider_with_the_right_text(twilio, settings):
    service = FollowUpFactory(name="Follow-up session")
    physio = PractitionerFactory(services=[service], user__first_name="Priya", user__last_name="Shah")
    patient = agreed_patient()
    silent = UserFactory()  # never agreed: no text
    now = datetime(2027, 1, 11, 9, 0, tzinfo=LONDON)
    start = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)
    booked = {}
    for who, at in ((patient, start), (silent, start + timedelta(minutes=45))):
        booked[who] = booking_services.booking_hold(patient=who, service=service, start=at, practitioner=physio, now=now)
        booking_services.booking_confirm(booking=booked[who], now=now)

    reminded = booking_services.bookings_remind(now=now)  # both start 24-26 hours from now
    assert sorted(reminded) == sorted(b.pk for b in booked.values())

    assert len(twilio.messages) == 1
    sent = twilio.messages[0]
    assert sent["To"] == "+447412345678" and sent["From"] == FROM_NUMBER
    assert sent["Body"] == (
        f"{settings.CLINIC_NAME}: reminder, Follow-up session with Priya Shah tomorrow Tue 12 Jan at 10:00. "
        f"To change: https://book.example.com/my-bookings/{booked[patient].pk}/ Reply STOP to opt out."
    )
    assert sent["StatusCallback"] == "https://book.example.com/sms/twilio/status/"
    message = SmsMessage.objects.get()
    assert message.provider == "twilio" and message.provider_id == sent["sid"] and message.status == "queued"


def test_the_waitlist_offer_reaches_the_provider_with_the_right_text(twilio, django_capture_on_commit_callbacks):
    service = FollowUpFactory(name="Follow-up session")
    physio = PractitionerFactory(services=[service])
    patient = agreed_patient()
    now = datetime(2027, 1, 11, 9, 0, tzinfo=LONDON)
    entry = waitlist.waitlist_join(patient=patient, service=service, date_from=date(2027, 1, 12),
                                   date_to=date(2027, 1, 15), now=now)
    with django_capture_on_commit_callbacks(execute=True):
        offer = waitlist.waitlist_offer_make(entry=entry, practitioner=physio,
                                             start=datetime(2027, 1, 13, 14, 30, tzinfo=LONDON), now=now)
    [sent] = twilio.messages
    assert sent["To"] == "+447412345678"
    assert sent["Body"] == (
        "Physiobook Clinic, London: Follow-up session free Wed 13 Jan 14:30. Held for you until 09:15: "
        f"https://book.example.com/waitlist/offers/{offer.pk}/ Reply STOP to opt out."
    )


def test_a_signed_status_callback_updates_the_message_and_an_unsigned_one_is_refused(twilio, client):
    patient = agreed_patient()
    from sms.services import sms_send_to_patient

    message = sms_send_to_patient(patient=patient, body="Hello", purpose="test")
    url = "https://book.example.com" + reverse("sms:status")
    params = {"MessageSid": message.provider_id, "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32}

    forged = client.post(reverse("sms:status"), params, HTTP_X_TWILIO_SIGNATURE="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403
    assert client.post(reverse("sms:status"), params).status_code == 403
    message.refresh_from_db()
    assert message.status == "queued"

    signed = client.post(reverse("sms:status"), params, HTTP_X_TWILIO_SIGNATURE=sign(url, params))
    assert signed.status_code == 204
    message.refresh_from_db()
    assert message.status == "delivered"

    # A late "sent" after "delivered" does not move the status back.
    late = {**params, "MessageStatus": "sent"}
    client.post(reverse("sms:status"), late, HTTP_X_TWILIO_SIGNATURE=sign(url, late))
    message.refresh_from_db()
    assert message.status == "delivered"


def test_replying_stop_opts_the_patient_out_and_no_more_texts_are_sent(twilio, client):
    patient = agreed_patient()
    url = "https://book.example.com" + reverse("sms:inbound")
    params = {"From": "+447412345678", "Body": " Stop ", "MessageSid": "SMx"}
    response = client.post(reverse("sms:inbound"), params, HTTP_X_TWILIO_SIGNATURE=sign(url, params))
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    contact = SmsContact.objects.get(user=patient)
    assert contact.opted_out_at and not contact.may_text

    from sms.services import sms_send_to_patient

    assert sms_send_to_patient(patient=patient, body="Hello", purpose="test") is None
    assert twilio.messages == []


def test_an_unsigned_stop_is_ignored(twilio, client):
    patient = agreed_patient()
    client.post(reverse("sms:inbound"), {"From": "+447412345678", "Body": "STOP"})
    assert SmsContact.objects.get(user=patient).may_text


def test_the_console_provider_refuses_every_callback(client, settings):
    settings.SMS_PROVIDER = "console"
    assert client.post(reverse("sms:status"), {"MessageSid": "x", "MessageStatus": "delivered"}).status_code == 403


def test_the_patient_turns_texts_on_and_off_on_the_profile_page(client):
    patient = UserFactory()
    client.force_login(patient)
    assert "Reminders and offers by text" in client.get("/accounts/profile/").content.decode()
    bad = client.post("/sms/preferences/", {"phone": "020 7946 0000", "agreed": "on"})
    assert bad.status_code == 200 and "mobile" in bad.content.decode()
    assert not SmsContact.objects.exists()
    client.post("/sms/preferences/", {"phone": "07412 345678", "agreed": "on"})
    assert SmsContact.objects.get(user=patient).may_text
    client.post("/sms/preferences/", {"phone": "07412 345678"})
    assert not SmsContact.objects.get(user=patient).may_text


def test_a_provider_failure_is_recorded_and_does_not_break_the_caller(settings):
    settings.SMS_PROVIDER = "twilio"
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "x"
    settings.TWILIO_FROM_NUMBER = FROM_NUMBER
    settings.TWILIO_API_BASE = "http://127.0.0.1:9"  # nothing listens: connection refused
    from sms.services import sms_send_to_patient

    message = sms_send_to_patient(patient=agreed_patient(), body="Hello", purpose="test")
    assert message.status == SmsMessage.Status.FAILED


@pytest.mark.parametrize("word", ["START", " start ", "Unstop", "YES"])
def test_replying_start_after_stop_opts_back_in_with_the_time_and_source(twilio, client, word):
    patient = agreed_patient()
    url = "https://book.example.com" + reverse("sms:inbound")

    def reply(body):
        params = {"From": "+447412345678", "Body": body, "MessageSid": f"SM{body.strip()}"}
        return client.post(reverse("sms:inbound"), params, HTTP_X_TWILIO_SIGNATURE=sign(url, params))

    reply("STOP")
    assert not SmsContact.objects.get(user=patient).may_text
    at = datetime(2027, 2, 1, 9, 30, tzinfo=LONDON)
    with time_machine.travel(at, tick=False):
        response = reply(word)
    assert response.status_code == 200 and response["Content-Type"] == "text/xml"
    contact = SmsContact.objects.get(user=patient)
    assert contact.may_text and contact.opted_out_at is None
    assert (contact.consented_at, contact.consent_source) == (at, SmsContact.ConsentSource.SMS_REPLY)
    assert sms_send_to_patient(patient=patient, body="Hello", purpose="test").status == "queued"
    assert [m["Body"] for m in twilio.messages] == ["Hello"]


def test_an_unsigned_start_is_ignored_and_a_start_never_signs_up_a_number_that_did_not_agree(twilio, client):
    patient = agreed_patient()
    sms_consent_set(user=patient, phone="07412345678", agreed=False)  # texts turned off on the profile
    never = UserFactory(email="never@example.com")
    sms_consent_set(user=never, phone="07412 999888", agreed=False)
    client.post(reverse("sms:inbound"), {"From": "+447412345678", "Body": "START"})
    assert not SmsContact.objects.get(user=patient).may_text
    url = "https://book.example.com" + reverse("sms:inbound")
    params = {"From": "+447412999888", "Body": "START"}
    client.post(reverse("sms:inbound"), params, HTTP_X_TWILIO_SIGNATURE=sign(url, params))
    assert not SmsContact.objects.get(user=never).may_text


def test_profile_consent_records_its_source():
    contact = SmsContact.objects.get(user=agreed_patient())
    assert contact.consent_source == SmsContact.ConsentSource.PROFILE
