"""Clinical safety in the intake: red flags stop the booking; other flags reach the physiotherapist."""

import re
from datetime import datetime

import pytest
import time_machine

from booking.availability import LONDON
from booking.intake import URGENT_SIGNS
from booking.models import Booking, UrgentAdvice
from payments.models import Payment

from .conftest import intake_post
from .test_booking_flow import choose

pytestmark = [pytest.mark.django_db, pytest.mark.booking]


@pytest.mark.parametrize("sign", ["bladder_or_bowel_changes", "saddle_numbness", "worsening_weakness_both_legs"])
def test_red_flag_stops_booking_with_urgent_message(patient_client, clinic, sign):
    service, _ = clinic
    choose(patient_client, service)
    response = patient_client.post("/book/intake/", intake_post(**{sign: "yes"}))
    # A redirect: reloading the urgent page never asks to resend the form.
    assert response.status_code == 302 and response["Location"] == "/urgent-care/"
    text = patient_client.get("/urgent-care/").content.decode()
    assert "Go to A&amp;E now or call 999" in text and 'href="tel:999"' in text
    assert "NHS 111" in text and "not sure" in text
    assert "Nothing has been booked and you have not been charged" in text
    assert URGENT_SIGNS[sign] in text
    # The answers are not kept, so the review step cannot be reached with them.
    assert patient_client.get("/book/review/")["Location"] == "/book/intake/"
    assert patient_client.post("/book/review/", {"action": "pay"})["Location"] == "/book/intake/"
    assert not Booking.objects.exists() and not Payment.objects.exists()


def test_urgent_page_leads_with_ae_and_999_before_111(patient_client, clinic):
    service, _ = clinic
    choose(patient_client, service)
    patient_client.post("/book/intake/", intake_post(saddle_numbness="yes"))
    text = patient_client.get("/urgent-care/").content.decode()
    main = text[text.index("<main"):]
    assert main.index("999") < main.index("111")
    assert 'href="tel:02079460000"' in main and "020 7946 0000" in main


def test_urgent_signs_come_first_whatever_else_is_blank(patient_client, clinic):
    """Both signs ticked, every other question skipped: urgent advice, not "answer the questions"."""
    service, _ = clinic
    choose(patient_client, service)
    response = patient_client.post("/book/intake/", {"bladder_or_bowel_changes": "yes", "saddle_numbness": "yes"})
    assert response["Location"] == "/urgent-care/"
    text = patient_client.get("/urgent-care/").content.decode()
    assert "Please answer the questions marked below" not in text
    assert URGENT_SIGNS["bladder_or_bowel_changes"] in text and URGENT_SIGNS["saddle_numbness"] in text
    advice = UrgentAdvice.objects.get()
    assert advice.signs == ["bladder_or_bowel_changes", "saddle_numbness"]
    assert advice.source == "online" and advice.booking is None
    assert not Booking.objects.exists() and not Payment.objects.exists()


def test_urgent_advice_is_recorded_with_time_and_signs(patient_client, clinic):
    service, _ = clinic
    choose(patient_client, service)
    with time_machine.travel(datetime(2027, 1, 11, 8, 5, tzinfo=LONDON), tick=False):
        patient_client.post("/book/intake/", intake_post(worsening_weakness_both_legs="yes", duration_weeks="x"))
    advice = UrgentAdvice.objects.get()
    assert advice.shown_at == datetime(2027, 1, 11, 8, 5, tzinfo=LONDON)
    assert advice.signs == ["worsening_weakness_both_legs"]


def test_flags_reach_the_booking(patient_client, clinic):
    service, _ = clinic
    choose(patient_client, service)
    patient_client.post("/book/intake/", intake_post(
        duration_weeks="12", cancer_history="yes", fever="yes", numbness="on", previous_injuries="Disc 2019",
    ))
    patient_client.post("/book/review/", {"action": "pay", "offer_code": ""})
    booking = Booking.objects.get()
    assert set(booking.flags) == {"cancer_history", "fever", "long_standing"}
    assert booking.intake["numbness"] is True and booking.intake["previous_injuries"] == "Disc 2019"
    assert booking.intake["pain_areas"] == ["buttock", "thigh"]


def test_missing_answers_are_shown_beside_each_field(patient_client, clinic):
    service, _ = clinic
    choose(patient_client, service)
    response = patient_client.post("/book/intake/", {"duration_weeks": "-1"})
    text = response.content.decode()
    for field in ("pain_areas", "side", "duration_weeks", "saddle_numbness", "fever"):
        assert f'id="id_{field}_error"' in text, field
    assert not Booking.objects.exists()


def test_follow_up_service_skips_the_intake(patient_client, clinic):
    from tests.factories import FollowUpFactory

    _, physio = clinic
    follow_up = FollowUpFactory()
    physio.services.add(follow_up)
    assert choose(patient_client, follow_up)["Location"] == "/book/review/"


def test_error_messages_say_what_to_do(patient_client, clinic):
    service, _ = clinic
    choose(patient_client, service)
    text = patient_client.post("/book/intake/", {}).content.decode()
    for message in ("Tick at least one area.", "Choose left, right or both.", "Enter the number of weeks", "Answer yes or no."):
        assert message in text


def test_a_second_booking_offers_the_previous_answers_but_asks_urgent_signs_afresh(patient_client, patient, clinic):
    from tests.factories import BookingFactory

    service, physio = clinic
    BookingFactory(patient=patient, practitioner=physio, service=service, intake={
        "pain_areas": ["calf"], "side": "right", "duration_weeks": 14, "numbness": True, "previous_injuries": "Disc 2019",
        "bladder_or_bowel_changes": False, "saddle_numbness": False, "worsening_weakness_both_legs": False,
        "cancer_history": False, "unexplained_weight_loss": False, "fever": False, "recent_trauma": False,
    })
    choose(patient_client, service)
    page = patient_client.get("/book/intake/").content.decode()
    assert "We have filled in your answers from your booking on" in page
    assert 'value="14"' in page and "Disc 2019" in page
    assert re.search(r'<input[^>]*value="calf"[^>]*checked', page)
    assert re.search(r'<input[^>]*name="cancer_history" value="no"[^>]*checked', page)
    # The cauda equina questions are answered for today, never carried over.
    assert not re.search(r'<input[^>]*name="saddle_numbness"[^>]*checked', page)
    assert not re.search(r'<input[^>]*name="bladder_or_bowel_changes"[^>]*checked', page)
