"""Phone bookings of an assessment: the intake link, "intake pending", and an urgent answer (issue 13)."""

from datetime import datetime

import pytest
import time_machine
from django.urls import reverse

from booking.availability import LONDON
from booking.intake_link import intake_link_token, intake_link_url
from booking.models import UrgentAdvice
from booking.staff import services as desk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

NOW = datetime(2027, 1, 12, 7, 0, tzinfo=LONDON)
START = datetime(2027, 1, 13, 10, 0, tzinfo=LONDON)
ANSWERS = {
    "pain_areas": ["buttock"], "side": "left", "duration_weeks": "10", "previous_injuries": "",
    "bladder_or_bowel_changes": "no", "saddle_numbness": "no", "worsening_weakness_both_legs": "no",
    "cancer_history": "no", "unexplained_weight_loss": "no", "fever": "yes", "recent_trauma": "no",
}


@pytest.fixture
def phone_booking(services, physios, patient, reception, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        made = desk.reception_book(patient=patient, service=services[0], practitioner=physios[0], start=START,
                                   payment=desk.PAY_AT_CLINIC, actor=reception)
    return made.booking


def test_phone_booking_emails_the_intake_link_and_shows_intake_pending(phone_booking, mailoutbox, reception_client):
    mail = mailoutbox[-1]
    assert mail.subject.startswith("Booking confirmed")
    assert intake_link_url(phone_booking) in mail.body
    day = reception_client.get(reverse("staff:day", args=["2027-01-13"])).content.decode()
    assert day.count(">Intake pending<") == 2  # the booking, and the key
    detail = reception_client.get(reverse("staff:booking", args=[phone_booking.pk])).content.decode()
    assert intake_link_url(phone_booking) in detail


def test_intake_link_works_without_a_password_and_clears_pending(phone_booking, client, reception_client):
    url = reverse("booking:intake_link", args=[intake_link_token(phone_booking)])
    page = client.get(url)
    assert page.status_code == 200 and "Before your assessment" in page.content.decode()
    response = client.post(url, ANSWERS)
    assert response.status_code == 302
    phone_booking.refresh_from_db()
    assert phone_booking.intake["pain_areas"] == ["buttock"]
    assert set(phone_booking.flags) == {"fever", "long_standing"}
    assert not phone_booking.intake_pending
    assert "We have your answers" in client.get(url).content.decode()
    day = reception_client.get(reverse("staff:day", args=["2027-01-13"])).content.decode()
    assert day.count(">Intake pending<") == 1  # only the key


def test_an_urgent_answer_shows_the_urgent_page_and_flags_the_booking(phone_booking, client, reception_client):
    url = reverse("booking:intake_link", args=[intake_link_token(phone_booking)])
    # Urgent first: the other questions are left blank.
    response = client.post(url, {"saddle_numbness": "yes"})
    assert response["Location"] == "/urgent-care/"
    page = client.get("/urgent-care/").content.decode()
    assert "Go to A&amp;E now or call 999" in page
    phone_booking.refresh_from_db()
    assert phone_booking.needs_urgent_call and "urgent_call" in phone_booking.flags
    advice = UrgentAdvice.objects.get()
    assert advice.booking == phone_booking and advice.source == "intake_link" and advice.signs == ["saddle_numbness"]
    detail = reception_client.get(reverse("staff:booking", args=[phone_booking.pk])).content.decode()
    assert "Call the patient now" in detail and 'href="tel:07700 900123"' in detail
    day = reception_client.get(reverse("staff:day", args=["2027-01-13"])).content.decode()
    assert "URGENT: cauda equina signs" in day


def test_invalid_answers_are_shown_beside_the_fields(phone_booking, client):
    url = reverse("booking:intake_link", args=[intake_link_token(phone_booking)])
    response = client.post(url, {**ANSWERS, "pain_areas": [], "side": ""})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_pain_areas_error"' in page and 'id="id_side_error"' in page
    phone_booking.refresh_from_db()
    assert phone_booking.intake_pending


def test_a_forged_or_mangled_token_is_404(phone_booking, client):
    token = intake_link_token(phone_booking)
    assert client.get(reverse("booking:intake_link", args=[token[:-2] + "xx"])).status_code == 404
    assert client.get(reverse("booking:intake_link", args=["not-a-token"])).status_code == 404


def test_the_link_stops_taking_answers_once_the_booking_started(phone_booking, client):
    url = reverse("booking:intake_link", args=[intake_link_token(phone_booking)])
    with time_machine.travel(datetime(2027, 1, 13, 10, 5, tzinfo=LONDON), tick=False):
        response = client.post(url, ANSWERS)
    assert "no longer takes answers" in response.content.decode()
    phone_booking.refresh_from_db()
    assert phone_booking.intake == {}


def test_reception_sees_the_days_urgent_advice_count(reception_client, physios):
    UrgentAdvice.objects.create(shown_at=datetime(2027, 1, 12, 6, 0, tzinfo=LONDON), signs=["saddle_numbness"], source="online")
    UrgentAdvice.objects.create(shown_at=datetime(2027, 1, 12, 23, 30, tzinfo=LONDON), signs=["fever"], source="api")
    UrgentAdvice.objects.create(shown_at=datetime(2027, 1, 13, 0, 30, tzinfo=LONDON), signs=["fever"], source="api")
    page = reception_client.get(reverse("staff:day", args=["2027-01-12"])).content.decode()
    assert 'data-urgent-advice-count="2"' in page



def test_unanswered_health_questions_are_asked_not_saved_as_no(phone_booking, client):
    url = reverse("booking:intake_link", args=[intake_link_token(phone_booking)])
    answers = {k: v for k, v in ANSWERS.items() if k not in ("cancer_history", "fever")}
    page = client.post(url, answers).content.decode()
    assert 'id="id_cancer_history_error"' in page and 'id="id_fever_error"' in page
    phone_booking.refresh_from_db()
    assert phone_booking.intake == {} and phone_booking.intake_pending
