"""The booking flow through the pages: choose, intake, sign in, review, pay, confirm."""

from datetime import datetime

import pytest

from booking.availability import LONDON
from booking.models import Booking
from payments.models import Payment
from tests.factories import BookingFactory, OfferCodeFactory, OfferFactory, UserFactory

from .conftest import intake_post

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

START = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)


def choose(client, service, start=START, who="any"):
    return client.post("/book/choose/", {"service": service.slug, "who": who, "start": start.isoformat()})


def test_pages_of_the_flow_render(client, clinic, frozen, django_assert_max_num_queries):
    service, physio = clinic
    assert client.get("/").status_code == 200
    assert b"Book an assessment" in client.get("/").content
    assert client.get("/book/").status_code == 200
    assert physio.name in client.get(f"/book/{service.slug}/").content.decode()
    with django_assert_max_num_queries(8):
        day = client.get(f"/book/{service.slug}/any/")
    assert "Tuesday 12 January" in day.content.decode()
    times = client.get(f"/book/{service.slug}/{physio.pk}/2027-01-12/").content.decode()
    assert "10:00" in times and START.isoformat() in times.replace("+00:00", "+00:00")


def test_day_page_pages_forward_a_week(client, clinic, frozen):
    service, _ = clinic
    page = client.get(f"/book/{service.slug}/any/?from=2027-01-18").content.decode()
    assert "Week of Monday 18 January" in page
    assert "?from=2027-01-25" in page and "?from=2027-01-11" in page


def test_bad_input_is_not_a_500(client, clinic, frozen):
    service, _ = clinic
    assert client.get(f"/book/{service.slug}/nobody/").status_code == 404
    assert client.get(f"/book/{service.slug}/any/not-a-date/").status_code == 404
    assert client.get(f"/book/{service.slug}/any/?from=garbage").status_code == 200
    assert client.post("/book/choose/", {"service": service.slug, "who": "any", "start": "tomorrow"}).status_code == 302


def test_full_flow_signs_in_without_losing_the_slot_and_confirms(
    client, clinic, frozen, mailoutbox, django_capture_on_commit_callbacks
):
    service, physio = clinic
    assert choose(client, service)["Location"] == "/book/intake/"
    response = client.post("/book/intake/", intake_post())
    assert response["Location"] == "/book/review/"
    login = client.get("/book/review/")
    assert login.status_code == 302 and "/accounts/login/?next=/book/review/" in login["Location"]
    signup = client.post("/accounts/signup/?next=/book/review/", {
        "first_name": "Sam", "last_name": "Patel", "email": "sam@example.com", "phone": "07700 900123",
        "password1": "a-long-safe-passphrase", "password2": "a-long-safe-passphrase", "next": "/book/review/",
    })
    assert signup.status_code == 302 and signup["Location"] == "/book/review/", signup.content.decode()[:2000]
    user = UserFactory._meta.model.objects.get(email="sam@example.com")
    assert (user.first_name, user.last_name, user.phone) == ("Sam", "Patel", "07700 900123")
    review = client.get("/book/review/").content.decode()
    assert "Tuesday 12 January 2027" in review and "10:00" in review and "£75.00" in review

    pay = client.post("/book/review/", {"action": "pay", "offer_code": ""})
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.HELD and booking.patient == user
    payment = Payment.objects.get(booking=booking)
    assert pay.status_code == 302 and pay["Location"] == payment.checkout_url
    session_id = payment.checkout_session_id
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(f"/payments/test-checkout/{session_id}/", {"action": "pay"})
    assert paid.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    page = client.get(f"/my-bookings/{booking.pk}/").content.decode()
    assert "Your booking is confirmed" in page and "loose" in page and "calendar.ics" in page
    assert "Tuesday 12 January 2027" in page and physio.name in page
    confirmations = [m for m in mailoutbox if m.subject.startswith("Booking confirmed")]
    assert len(confirmations) == 1 and confirmations[0].attachments[0][0] == "appointment.ics"
    assert "loose" in confirmations[0].body


def test_review_shows_offer_discount_or_refusal_beside_the_field(patient_client, patient, clinic, frozen):
    service, _ = clinic
    offer = OfferFactory(services=[service])
    code = OfferCodeFactory(offer=offer, email=patient.email, code="FIRSTABCDEFGHJK")
    choose(patient_client, service)
    patient_client.post("/book/intake/", intake_post())
    response = patient_client.post("/book/review/", {"action": "apply", "offer_code": "first-abcd-efgh-jk"})
    assert response.status_code == 200, response.get("Location")
    page = response.content.decode()
    assert "you save £15.00" in page and "£60.00" in page
    refused = patient_client.post("/book/review/", {"action": "apply", "offer_code": "FIRSTNOPE"}).content.decode()
    assert "We don&#x27;t recognise that offer code" in refused
    assert 'id="id_offer_code_error"' in refused
    assert 'aria-describedby="id_offer_code_helptext id_offer_code_error"' in refused
    patient_client.post("/book/review/", {"action": "apply", "offer_code": code.code})
    patient_client.post("/book/review/", {"action": "pay", "offer_code": code.code})
    booking = Booking.objects.get()
    assert (booking.discount_pence, booking.amount_due_pence, booking.offer_code_id) == (1500, 6000, code.pk)


def test_slot_taken_shows_alternatives_not_an_error(patient_client, clinic, frozen):
    service, physio = clinic
    choose(patient_client, service, who=str(physio.pk))
    patient_client.post("/book/intake/", intake_post())
    BookingFactory(service=service, practitioner=physio, start=START)
    page = patient_client.post("/book/review/", {"action": "pay", "offer_code": ""})
    assert page.status_code == 409
    text = page.content.decode()
    assert "was just taken" in text and 'name="start"' in text
    assert Booking.objects.count() == 1
    # Choosing an alternative keeps the answers and goes straight to review.
    alt = datetime(2027, 1, 12, 11, 0, tzinfo=LONDON)
    assert choose(patient_client, service, start=alt, who=str(physio.pk))["Location"] == "/book/review/"


def test_gateway_unavailable_keeps_the_hold_and_offers_a_retry(patient_client, clinic, frozen):
    from payments import gateway, local_gateway

    class Down:
        __name__ = "down"

        @staticmethod
        def checkout_session_create(request):
            raise gateway.GatewayUnavailable("down")

    service, _ = clinic
    choose(patient_client, service)
    patient_client.post("/book/intake/", intake_post())
    gateway.use_gateway(Down)
    try:
        page = patient_client.post("/book/review/", {"action": "pay", "offer_code": ""})
    finally:
        gateway.use_gateway(None)
    assert page.status_code == 503
    text = page.content.decode()
    booking = Booking.objects.get()
    assert "held until <strong>08:30</strong>" in text and f"/my-bookings/{booking.pk}/pay/" in text
    assert not Payment.objects.exists()
    retry = patient_client.post(f"/my-bookings/{booking.pk}/pay/")
    assert retry.status_code == 302 and Payment.objects.filter(booking=booking).count() == 1
    assert local_gateway  # the retry used the local gateway again


def test_times_are_london_wall_clock_in_summer(client, clinic):
    import time_machine

    service, physio = clinic
    with time_machine.travel(datetime(2027, 7, 12, 8, 0, tzinfo=LONDON), tick=False):
        page = client.get(f"/book/{service.slug}/{physio.pk}/2027-07-13/").content.decode()
    # 09:00 in London in July is 08:00 UTC.
    assert 'value="2027-07-13T08:00:00+00:00">09:00<' in page
    assert ">08:00<" not in page


def test_paying_twice_reuses_the_patients_own_hold(patient_client, clinic, frozen):
    service, _ = clinic
    choose(patient_client, service)
    patient_client.post("/book/intake/", intake_post())
    first = patient_client.post("/book/review/", {"action": "pay", "offer_code": ""})
    # Back, choose the same time again and pay again (or a double click).
    choose(patient_client, service)
    patient_client.post("/book/intake/", intake_post())
    second = patient_client.post("/book/review/", {"action": "pay", "offer_code": ""})
    assert first["Location"] == second["Location"]
    assert Booking.objects.count() == 1 and Payment.objects.count() == 1


def test_offer_code_guessing_on_the_review_page_is_throttled(patient_client, clinic, frozen, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "offer_validate_user": "3/hour"}}
    service, _ = clinic
    choose(patient_client, service)
    patient_client.post("/book/intake/", intake_post())
    for attempt in range(3):
        page = patient_client.post("/book/review/", {"action": "apply", "offer_code": f"FIRSTGUESS{attempt}"})
        assert "recognise" in page.content.decode()
    page = patient_client.post("/book/review/", {"action": "apply", "offer_code": "FIRSTGUESS9"}).content.decode()
    assert "Too many attempts" in page and 'id="id_offer_code_error"' in page
