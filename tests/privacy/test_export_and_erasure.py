"""A patient's export, then their erasure: what goes at once, what is kept and until when, and what comes back never."""

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.db import models
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from booking.models import Booking, BookingEvent
from offers.models import OfferCode
from offers.services import offer_code_claim
from payments.models import LocalCheckoutSession, Payment, Refund, StripeEvent
from privacy.models import DataRequest, Erasure, RetainedBooking, SentEmail
from privacy.retention import years_after
from privacy.services import patient_erase, records_erase_due
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    OfferFactory,
    ServiceFactory,
    UserFactory,
)

PASSWORD = "correct-horse-battery"
EMAIL = "jemima.puddle+physio@gmail.com"
# Every trace of the person that must be gone after erasure.
TRACES = ["Jemima", "Puddleduck", "jemima.puddle", "jemimapuddle", "07700 900123", "900123"]


def _local_day(moment):
    return timezone.localtime(moment).date()


@pytest.fixture
def history(db, recorded_mail, django_capture_on_commit_callbacks):
    """A patient with a code, an attended paid assessment, a paid then refunded follow-up, a lapsed hold."""
    patient = UserFactory(email=EMAIL, first_name="Jemima", last_name="Puddleduck", phone="07700 900123")
    EmailAddress.objects.update_or_create(user=patient, email=EMAIL, defaults={"verified": True, "primary": True})
    assessment, follow_up = ServiceFactory(), FollowUpFactory()
    OfferFactory(services=[assessment])
    with django_capture_on_commit_callbacks(execute=True):
        code = offer_code_claim(email=EMAIL).code  # emails the code: recorded
    now = timezone.now()
    attended = BookingFactory(patient=patient, service=assessment, start=now - timedelta(days=400),
                              status=Booking.Status.ATTENDED, offer_code=code,
                              intake={"pain_areas": ["thigh"], "previous_injuries": "fell off a bike"}, flags=["duration"])
    OfferCode.objects.filter(pk=code.pk).update(redeemed_by=attended)
    refunded = BookingFactory(patient=patient, service=follow_up, start=now - timedelta(days=100),
                              status=Booking.Status.CANCELLED, intake={"pain_areas": ["calf"]})
    lapsed = BookingFactory(patient=patient, service=follow_up, start=now - timedelta(days=50),
                            status=Booking.Status.EXPIRED)
    BookingEvent.objects.create(booking=refunded, action=BookingEvent.Action.CANCELLED, actor=patient, reason="moving away")
    paid_1 = Payment.objects.create(booking=attended, method=Payment.Method.STRIPE_CHECKOUT, amount_pence=6000,
                                    status=Payment.Status.SUCCEEDED, idempotency_key="k1", paid_at=now - timedelta(days=401))
    paid_2 = Payment.objects.create(booking=refunded, method=Payment.Method.CARD_TERMINAL, amount_pence=6000,
                                    status=Payment.Status.REFUNDED, idempotency_key="k2", paid_at=now - timedelta(days=101))
    Refund.objects.create(payment=paid_2, amount_pence=6000, status=Refund.Status.SUCCEEDED, reason="cancelled early")
    Payment.objects.create(booking=lapsed, method=Payment.Method.STRIPE_CHECKOUT, amount_pence=6000,
                           status=Payment.Status.EXPIRED, idempotency_key="k3", checkout_session_id="cs_lapsed")
    LocalCheckoutSession.objects.create(session_id="cs_local_1", amount_pence=6000, description="Follow-up",
                                        customer_email=EMAIL, expires_at=now, success_url="http://x/", cancel_url="http://x/")
    StripeEvent.objects.create(event_id="evt_1", type="checkout.session.completed",
                               payload={"id": "evt_1", "data": {"object": {"id": "cs_1", "object": "checkout.session",
                                                                           "customer_details": {"email": EMAIL, "name": "Jemima Puddleduck"}}}})
    return {"patient": patient, "code": code, "attended": attended, "refunded": refunded, "lapsed": lapsed,
            "paid_1": paid_1, "paid_2": paid_2}


def _traces_left() -> list[str]:
    """Every (table.column) of every model that still mentions the person."""
    found = []
    for model in apps.get_models():
        text_fields = [f for f in model._meta.concrete_fields
                       if isinstance(f, (models.CharField, models.TextField, models.JSONField))]
        if not text_fields:
            continue
        qs = model._default_manager.all()
        for field in text_fields:
            column = f"_t_{field.name}"
            annotated = qs.annotate(**{column: Cast(field.name, TextField())})
            query = Q()
            for trace in TRACES:
                query |= Q(**{f"{column}__icontains": trace})
            if annotated.filter(query).exists():
                found.append(f"{model._meta.db_table}.{field.column}")
    return found


def test_export_then_erasure(client, history, recorded_mail):
    patient = history["patient"]
    client.force_login(patient)
    other_device = type(client)()
    other_device.force_login(patient)

    # Export: everything, as JSON and as a readable page.
    data = client.get("/accounts/profile/data.json").json()
    assert data["profile"]["last_name"] == "Puddleduck" and data["profile"]["phone"] == "07700 900123"
    assert [b["status"] for b in data["bookings"]] == ["attended", "cancelled", "expired"]
    assert data["bookings"][0]["intake"]["previous_injuries"] == "fell off a bike"
    assert {p["amount_pence"] for p in data["payments"]} == {6000}
    assert data["payments"][1]["refunds"][0]["amount_pence"] == 6000
    assert data["offer_codes"][0]["code"] == history["code"].display_code
    assert data["emails_sent"][0]["subject"] and data["emails_sent"][0]["to"] == EMAIL
    assert data["outcome_scores"] == [] and data["waitlist"] == []
    page = client.get("/accounts/profile/data/").content.decode()
    assert "Puddleduck" in page and "fell off a bike" in page and history["code"].display_code in page
    assert DataRequest.objects.filter(user=patient, kind="export", channel="online").count() == 2

    # Erasure, from the profile.
    response = client.post("/accounts/profile/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/privacy/account-deleted/"

    # The patient cannot log in, and a session on another device has ended.
    assert not client.login(username=EMAIL, password=PASSWORD)
    client.post("/accounts/login/", {"login": EMAIL, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert other_device.get("/my-bookings/").status_code == 302

    # Their name and contact details are gone from every table.
    assert _traces_left() == []
    assert not SentEmail.objects.exists() and not EmailAddress.objects.filter(user=patient).exists()

    # The kept records remain, each with its end date; the lapsed hold is gone.
    attended, refunded = history["attended"], history["refunded"]
    kept = {r.booking_id: r for r in RetainedBooking.objects.all()}
    assert set(kept) == {attended.pk, refunded.pk}
    assert not Booking.objects.filter(pk=history["lapsed"].pk).exists()
    clinical_until = years_after(_local_day(attended.start), 8)
    assert kept[attended.pk].clinical_until == clinical_until
    assert kept[attended.pk].financial_until == years_after(_local_day(history["paid_1"].paid_at), 6)
    assert kept[attended.pk].keep_until == clinical_until
    assert kept[refunded.pk].clinical_until is None
    assert kept[refunded.pk].keep_until == years_after(_local_day(history["paid_2"].paid_at), 6)
    attended.refresh_from_db()
    assert attended.intake["previous_injuries"] == "fell off a bike"  # the clinical record stays whole
    refunded.refresh_from_db()
    assert refunded.intake == {}  # kept for the accounts only: its health answers go
    assert Payment.objects.filter(booking__in=[attended, refunded]).count() == 2
    assert Refund.objects.filter(payment=history["paid_2"]).count() == 1
    assert DataRequest.objects.filter(user=patient, kind="erasure", channel="online").exists()

    # The offer cannot be claimed again with the same mailbox, however it is written.
    codes_before, recorded_mail[:] = OfferCode.objects.count(), []
    for address in [EMAIL, "JemimaPuddle@googlemail.com", "jemima.puddle+again@gmail.com"]:
        claim = offer_code_claim(email=address)
        assert not claim.created
    assert OfferCode.objects.count() == codes_before and recorded_mail == []
    assert client.post("/offer/", {"email": "jemima.puddle@gmail.com"}).status_code in (200, 302)
    assert OfferCode.objects.count() == codes_before


def test_kept_records_are_erased_by_the_scheduled_task_when_their_dates_pass(history):
    patient = history["patient"]
    erasure = patient_erase(user=patient, channel="online")
    attended_kept = RetainedBooking.objects.get(booking=history["attended"])
    refunded_kept = RetainedBooking.objects.get(booking=history["refunded"])

    # Dates are the last day kept: on them nothing goes.
    assert attended_kept.financial_until < refunded_kept.keep_until
    assert records_erase_due(today=attended_kept.financial_until) == {"payments_records": 0, "bookings": 0, "patients": 0}

    # Six years after the assessment's payment: that payment record goes; its clinical record stays.
    done = records_erase_due(today=attended_kept.financial_until + timedelta(days=1))
    assert done == {"payments_records": 1, "bookings": 0, "patients": 0}
    assert Booking.objects.filter(pk=history["attended"].pk).exists()
    assert not Payment.objects.filter(booking=history["attended"]).exists()
    attended_kept.refresh_from_db()
    assert attended_kept.financial_until is None and attended_kept.keep_until == attended_kept.clinical_until

    # Six years after the refunded follow-up's payment: that booking, payment and refund go.
    done = records_erase_due(today=refunded_kept.keep_until + timedelta(days=1))
    assert done == {"payments_records": 0, "bookings": 1, "patients": 0}
    assert not Booking.objects.filter(pk=history["refunded"].pk).exists()
    assert not Refund.objects.exists()

    # Eight years after the last treatment: nothing is left, not even the anonymised account.
    done = records_erase_due(today=attended_kept.clinical_until + timedelta(days=1))
    assert done == {"payments_records": 0, "bookings": 1, "patients": 1}
    assert not Booking.objects.filter(patient_id=patient.pk).exists()
    assert not type(patient).objects.filter(pk=patient.pk).exists()
    assert not Erasure.objects.filter(pk=erasure.pk).exists()
    assert DataRequest.objects.filter(kind="erasure", user__isnull=True).exists()  # the log outlives it, nameless


def test_erase_due_records_command_runs_and_reports(history):
    from io import StringIO

    from django.core.management import call_command

    patient_erase(user=history["patient"], channel="online")
    out = StringIO()
    call_command("erase_due_records", stdout=out)
    assert "Erased 0 kept bookings" in out.getvalue()
    assert RetainedBooking.objects.count() == 2


def test_an_upcoming_booking_refuses_erasure_with_a_form_error(client, db):
    patient = UserFactory(email="soon@example.com", first_name="Sue")
    BookingFactory(patient=patient, start=timezone.now() + timedelta(days=2), status=Booking.Status.CONFIRMED)
    client.force_login(patient)
    response = client.post("/accounts/profile/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 400 and "Cancel it first" in response.content.decode()
    patient.refresh_from_db()
    assert patient.is_active and patient.first_name == "Sue" and not Erasure.objects.exists()


def test_a_wrong_password_erases_nothing(client, db):
    patient = UserFactory(email="oops@example.com")
    client.force_login(patient)
    response = client.post("/accounts/profile/delete/", {"password": "guess", "confirm": "on"})
    assert response.status_code == 400 and "That password is not right." in response.content.decode()
    assert not Erasure.objects.exists()


def test_delete_account_needs_csrf(db):
    from django.test import Client

    patient = UserFactory(email="csrf@example.com")
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)
    assert client.post("/accounts/profile/delete/", {"password": PASSWORD, "confirm": "on"}).status_code == 403
    assert not Erasure.objects.exists()


def test_staff_accounts_are_not_erased_here(db):
    from privacy.exceptions import StaffAccount

    with pytest.raises(StaffAccount):
        patient_erase(user=UserFactory(email="desk@clinic.example", is_staff=True), channel="online")


def test_export_queries_do_not_grow_with_history(client, history, django_assert_max_num_queries):
    client.force_login(history["patient"])
    for days in range(20):
        BookingFactory(patient=history["patient"], start=timezone.now() - timedelta(days=600 + days),
                       status=Booking.Status.ATTENDED)
    with django_assert_max_num_queries(14):
        assert client.get("/accounts/profile/data.json").status_code == 200


def test_export_has_outcome_scores_and_waitlist_and_erasure_removes_the_waitlist(client, history):
    from datetime import date

    from outcomes.models import OutcomeScore
    from waitlist.models import WaitlistEntry

    patient, attended = history["patient"], history["attended"]
    OutcomeScore.objects.create(booking=attended, leg_pain=7, activity_limit=5)
    WaitlistEntry.objects.create(patient=patient, service=attended.service, date_from=date(2026, 1, 5),
                                 date_to=date(2026, 1, 9), intake={"previous_injuries": "waitlist knee"})
    client.force_login(patient)
    data = client.get("/accounts/profile/data.json").json()
    assert [(s["booking_id"], s["leg_pain"], s["activity_limit"]) for s in data["outcome_scores"]] == [
        (attended.pk, 7, 5)]
    assert [(w["service"], w["intake"]["previous_injuries"]) for w in data["waitlist"]] == [
        (attended.service.name, "waitlist knee")]
    page = client.get("/accounts/profile/data/").content.decode()
    assert "leg pain 7/10" in page and "waitlist knee" in page

    patient_erase(user=patient, channel="online", actor=patient)
    assert not WaitlistEntry.objects.exists()  # health answers with no record to keep
    assert OutcomeScore.objects.filter(booking=attended).exists()  # part of the kept clinical record


def test_erasure_removes_the_mobile_number_its_consent_and_the_texts_sent(history, settings):
    from sms.models import SmsContact, SmsMessage
    from sms.services import sms_consent_set, sms_send_to_patient

    settings.SMS_PROVIDER = "console"
    patient = history["patient"]
    sms_consent_set(user=patient, phone="07412 345678", agreed=True)
    sms_send_to_patient(patient=patient, body="Reminder: physio tomorrow at 10:00", purpose="reminder")
    assert SmsContact.objects.filter(user=patient).exists() and SmsMessage.objects.filter(to="+447412345678").exists()

    patient_erase(user=patient, channel="online", actor=patient)

    assert not SmsContact.objects.filter(phone="+447412345678").exists()
    assert not SmsMessage.objects.filter(to="+447412345678").exists()
    assert not SmsMessage.objects.filter(body__contains="physio tomorrow").exists()
