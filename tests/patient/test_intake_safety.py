"""Clinical safety in the intake: red flags stop the booking; other flags reach the physiotherapist."""

import pytest

from booking.models import Booking
from payments.models import Payment

from .conftest import intake_post
from .test_booking_flow import choose

pytestmark = [pytest.mark.django_db, pytest.mark.booking]


@pytest.mark.parametrize("sign", ["bladder_or_bowel_changes", "saddle_numbness", "worsening_weakness_both_legs"])
def test_red_flag_stops_booking_with_urgent_message(patient_client, clinic, sign):
    service, _ = clinic
    choose(patient_client, service)
    response = patient_client.post("/book/intake/", intake_post(**{sign: "yes"}))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Please get urgent medical help now" in text and "NHS 111" in text and "999" in text and "A&amp;E" in text
    assert "No booking has been made" in text
    # The answers are not kept, so the review step cannot be reached with them.
    assert patient_client.get("/book/review/")["Location"] == "/book/intake/"
    assert patient_client.post("/book/review/", {"action": "pay"})["Location"] == "/book/intake/"
    assert not Booking.objects.exists() and not Payment.objects.exists()


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
