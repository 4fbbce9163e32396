"""The 24-hour free-cancellation window, said plainly where it applies (issue 13)."""

from datetime import datetime, timedelta

import pytest

from payments.services import booking_cancel
from booking import services
from booking.availability import LONDON
from booking.models import Booking
from tests.factories import StaffFactory

from .conftest import NOW, intake_post
from .test_booking_flow import choose
from .test_my_bookings import paid_booking

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

SOON = datetime(2027, 1, 11, 14, 0, tzinfo=LONDON)  # 6 hours after NOW: inside the window
LATER = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)  # 26 hours after NOW: outside


def test_time_picker_marks_times_inside_the_window(client, clinic, frozen):
    service, physio = clinic
    today = client.get(f"/book/{service.slug}/{physio.pk}/2027-01-11/").content.decode()
    assert "no refund</span>" in today and "less than 24 hours away" in today
    button = today[today.index(f'value="{SOON.isoformat()}"'):]
    assert button.index("no refund") < button.index("</button>")
    tomorrow = client.get(f"/book/{service.slug}/{physio.pk}/2027-01-12/").content.decode()
    assert "no refund</span>" not in tomorrow


def test_review_inside_the_window_says_no_refund_no_move(patient_client, clinic):
    service, _ = clinic
    choose(patient_client, service, start=SOON)
    patient_client.post("/book/intake/", intake_post())
    page = patient_client.get("/book/review/").content.decode()
    assert "less than 24 hours away" in page
    assert "you get no refund" in page and "cannot be moved online" in page
    assert 'href="tel:02079460000"' in page
    assert "Free cancellation with a full refund" not in page


def test_review_inside_the_window_with_a_code_says_the_code_is_spent(patient_client, patient, clinic):
    from tests.factories import OfferCodeFactory, OfferFactory

    service, _ = clinic
    code = OfferCodeFactory(offer=OfferFactory(services=[service]), email=patient.email)
    choose(patient_client, service, start=SOON)
    patient_client.post("/book/intake/", intake_post())
    page = patient_client.post("/book/review/", {"action": "apply", "offer_code": code.code}).content.decode()
    assert "offer code used on it is <strong>spent</strong>" in page


def test_review_outside_the_window_offers_free_cancellation(patient_client, clinic):
    service, _ = clinic
    choose(patient_client, service, start=LATER)
    patient_client.post("/book/intake/", intake_post())
    page = patient_client.get("/book/review/").content.decode()
    assert "Free cancellation with a full refund" in page and "you get no refund" not in page


def test_confirmation_email_states_this_bookings_policy(patient, clinic, frozen, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    service, physio = clinic
    inside = paid_booking(patient, physio, service, start=SOON)
    outside = paid_booking(patient, physio, service, start=LATER + timedelta(days=1))
    for booking in (inside, outside):
        Booking.objects.filter(pk=booking.pk).update(status=Booking.Status.HELD, hold_expires_at=NOW + timedelta(minutes=30))
        booking.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            services.booking_confirm(booking=booking, now=NOW)
    inside_mail, outside_mail = mailoutbox[-2:]
    assert "there is no refund" in inside_mail.body and "cannot be moved online" in inside_mail.body
    assert "free cancellation with a full refund" in outside_mail.body
    assert "Tuesday 12 January, 10:00" in outside_mail.body  # 24 hours before 13 Jan 10:00
    assert "there is no refund" not in outside_mail.body


def test_cancel_inside_the_window_shows_no_refund_and_why(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service, start=SOON)
    page = patient_client.get(f"/my-bookings/{booking.pk}/cancel/").content.decode()
    assert "no refund" in page and "cannot be moved online" in page and 'href="tel:02079460000"' in page
    response = patient_client.post(f"/my-bookings/{booking.pk}/cancel/", {"reason": ""}, follow=True)
    page = response.content.decode()
    assert "No refund was given: it was less than 24 hours away." in page
    assert "Nothing: " in page and "less than 24 hours before the appointment" in page


def test_cancelled_with_refund_shows_the_amount(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service, start=LATER)
    page = patient_client.post(f"/my-bookings/{booking.pk}/cancel/", {"reason": ""}, follow=True).content.decode()
    assert "A full refund of £75.00 is on its way" in page


def test_clinic_cancellation_email_apologises_and_gives_the_reason(patient, clinic, frozen, mailoutbox,
                                                                   django_capture_on_commit_callbacks):
    service, physio = clinic
    booking = paid_booking(patient, physio, service, start=LATER)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, actor=StaffFactory(), reason="Your physiotherapist is ill",
                                refund_pence=7500, by_staff=True, now=NOW)
    body = mailoutbox[-1].body
    assert "We are sorry" in body and "The reason: Your physiotherapist is ill" in body
    assert "020 7946 0000" in body


def test_patient_cancellation_email_does_not_apologise(patient, clinic, frozen, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    service, physio = clinic
    booking = paid_booking(patient, physio, service, start=SOON)
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=booking, actor=patient, now=NOW)
    body = mailoutbox[-1].body
    assert "We are sorry" not in body and "less than 24 hours before" in body


@pytest.mark.parametrize("first_session, steps", [(True, 7), (False, 6)])
def test_step_counter_counts_the_real_steps(patient_client, clinic, first_session, steps):
    from tests.factories import FollowUpFactory

    service, physio = clinic
    if not first_session:
        service = FollowUpFactory()
        physio.services.add(service)
    assert f"Step 2 of {steps}" in patient_client.get(f"/book/{service.slug}/").content.decode()
    assert f"Step 4 of {steps}" in patient_client.get(f"/book/{service.slug}/any/2027-01-12/").content.decode()
    choose(patient_client, service, start=LATER)
    if first_session:
        assert f"Step 5 of {steps}" in patient_client.get("/book/intake/").content.decode()
        patient_client.post("/book/intake/", intake_post())
    assert f"Step {steps - 1} of {steps}" in patient_client.get("/book/review/").content.decode()
