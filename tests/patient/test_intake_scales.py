"""The two 0-10 outcome scales inside the assessment's intake (issue 17): asked on the intake page, kept with the
draft, recorded as the visit's outcome score when the slot is held; urgent signs still come first."""

import re
from datetime import datetime

import pytest

from booking.availability import LONDON
from booking.intake import SCALES
from booking.models import Booking, UrgentAdvice
from outcomes.models import OutcomeScore
from payments.models import Payment

from .conftest import intake_post

pytestmark = [pytest.mark.django_db]

START = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)


def _checked(page: str, name: str) -> str | None:
    """The value of the checked radio button of that name on the page."""
    found = [m.group(0) for m in re.finditer(rf'<input type="radio" name="{name}"[^>]*>', page) if "checked" in m.group(0)]
    return re.search(r'value="([^"]*)"', found[0]).group(1) if len(found) == 1 else None


def choose(client, service):
    return client.post("/book/choose/", {"service": service.slug, "who": "any", "start": START.isoformat()})


def test_the_intake_page_asks_both_scales_and_the_hold_records_them_for_the_visit(patient_client, clinic, patient):
    service, physio = clinic
    assert choose(patient_client, service)["Location"] == "/book/intake/"
    page = patient_client.get("/book/intake/").content.decode()
    for question, ends in SCALES.values():
        assert question in page and ends[0] in page and ends[1] in page
    assert page.count('type="radio" name="leg_pain"') == 11 and page.count('type="radio" name="activity_limit"') == 11

    assert patient_client.post("/book/intake/", intake_post(leg_pain="7", activity_limit="3"))["Location"] == (
        "/book/review/")
    # Coming back to the step shows the answers given.
    back = patient_client.get("/book/intake/").content.decode()
    assert _checked(back, "leg_pain") == "7" and _checked(back, "activity_limit") == "3"
    patient_client.post("/book/review/", {"action": "pay", "offer_code": ""})
    booking = Booking.objects.get()
    assert booking.patient == patient and booking.status == Booking.Status.HELD
    score = OutcomeScore.objects.get()
    assert (score.booking, score.leg_pain, score.activity_limit, score.recorded_by) == (booking, 7, 3, patient)
    # The scales are the outcome record, not part of the stored intake (api.md's shape).
    assert "leg_pain" not in booking.intake and booking.intake["pain_areas"] == ["buttock", "thigh"]


@pytest.mark.parametrize("scales, errors", [
    ({"leg_pain": "", "activity_limit": ""}, 2),
    ({"leg_pain": "4", "activity_limit": ""}, 1),
    ({"leg_pain": "11", "activity_limit": "-1"}, 2),
    ({"leg_pain": "five", "activity_limit": "5"}, 1),
])
def test_a_missing_or_bad_scale_is_an_error_beside_it_and_nothing_moves_on(patient_client, clinic, scales, errors):
    service, _ = clinic
    choose(patient_client, service)
    response = patient_client.post("/book/intake/", intake_post(**scales))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="error" id="id_leg_pain_error"') + page.count('class="error" id="id_activity_limit_error"') \
        == errors
    assert "Please answer the questions marked below." in page
    assert not patient_client.session["booking_draft"]["intake"]
    assert not Booking.objects.exists() and not OutcomeScore.objects.exists()


@pytest.mark.parametrize("scales", [
    {},  # blank: the scales were never reached
    {"leg_pain": "", "activity_limit": ""},
    {"leg_pain": "12", "activity_limit": "x"},  # invalid
    {"leg_pain": "0", "activity_limit": "0"},  # valid and as good as it gets
])
def test_an_urgent_answer_shows_the_urgent_page_whatever_the_scales_say(patient_client, clinic, scales):
    service, _ = clinic
    choose(patient_client, service)
    answers = {k: v for k, v in intake_post(saddle_numbness="yes").items() if k not in SCALES}
    response = patient_client.post("/book/intake/", {**answers, **scales})
    assert response.status_code == 302 and response["Location"] == "/urgent-care/"
    assert UrgentAdvice.objects.get().signs == ["saddle_numbness"]
    assert not Booking.objects.exists() and not Payment.objects.exists() and not OutcomeScore.objects.exists()
    assert patient_client.session["booking_draft"]["intake"] is None
