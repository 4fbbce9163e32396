"""Screenshots and axe checks of the smaller new pages: reception's waitlist day, text-message preferences,
the "before your visit" scales (answered by keyboard), and the clinic's outcome figures."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from booking import services as booking_services
from booking.availability import LONDON
from outcomes.models import OutcomeScore
from tests.a11y import assert_accessible, screenshot
from tests.browser.helpers import log_in
from tests.factories import FollowUpFactory, PractitionerFactory, ReceptionistFactory, UserFactory
from waitlist import services as waitlist
from waitlist.models import WaitlistOffer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(settings, live_server):
    settings.SITE_URL = live_server.url
    service = FollowUpFactory(name="Follow-up session")
    physio = PractitionerFactory(services=[service], user__first_name="Priya", user__last_name="Shah")
    today = timezone.localtime(timezone.now(), LONDON).date()
    day = today + timedelta(days=8 if today.weekday() != 5 else 9)  # not a Sunday
    if day.weekday() == 6:
        day += timedelta(days=1)
    return service, physio, day


def test_reception_offers_a_waiting_patient_a_time_by_hand(laptop_page, clinic):
    service, physio, day = clinic
    for first in ("Ada", "Ben"):
        waitlist.waitlist_join(patient=UserFactory(first_name=first, last_name="Waiting"), service=service,
                               date_from=day, date_to=day + timedelta(days=3), times_of_day=["morning"])
    ReceptionistFactory(email="rita@clinic.example")
    page = laptop_page
    log_in(page, "rita@clinic.example")
    page.goto(f"/staff/waitlist/?date={day:%Y-%m-%d}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Waitlist for")
    screenshot(page, "waitlist-staff-day")
    assert_accessible(page)
    page.get_by_label("Time for Ada Waiting").select_option(index=1)
    page.locator("form", has=page.get_by_label("Time for Ada Waiting")).get_by_role("button", name="Offer").click()
    expect(page.get_by_text("has been offered")).to_be_visible()
    screenshot(page, "waitlist-staff-offered")
    assert_accessible(page)
    offer = WaitlistOffer.objects.get()
    assert offer.entry.patient.first_name == "Ada" and offer.state() == "holding"
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_text("Holding")).to_be_visible()
    screenshot(page, "waitlist-staff-phone")
    assert_accessible(page)


def test_a_patient_agrees_to_texts_and_answers_the_scales_by_keyboard(phone_page, clinic):
    service, physio, day = clinic
    patient = UserFactory(email="tess@example.com", first_name="Tess")
    booking = booking_services.booking_hold(patient=patient, service=service,
                                            start=datetime.combine(day, time(10), tzinfo=LONDON), practitioner=physio)
    booking_services.booking_confirm(booking=booking)
    page = phone_page
    log_in(page, "tess@example.com")

    page.goto("/accounts/profile/")
    page.get_by_role("link", name="Reminders and offers by text").click()
    page.get_by_label("Mobile number").fill("07412 345678")
    page.get_by_label("Text me appointment reminders and waitlist offers").check()
    screenshot(page, "sms-preferences")
    assert_accessible(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("You agreed on")).to_be_visible()
    screenshot(page, "sms-preferences-saved")

    page.goto(f"/my-bookings/{booking.pk}/")
    page.get_by_role("link", name="Answer two questions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your visit")
    screenshot(page, "outcomes-score-form")
    assert_accessible(page)
    # Keyboard only: Tab into each scale's radio group, arrow keys choose the value.
    page.locator("#id_leg_pain_0").focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_text("your answers are saved")).to_be_visible()
    score = OutcomeScore.objects.get()
    assert (score.leg_pain, score.activity_limit) == (6, 4)
    screenshot(page, "outcomes-score-saved")


def test_the_clinic_outcomes_page(laptop_page, clinic):
    service, physio, day = clinic
    ReceptionistFactory(email="rita@clinic.example")
    page = laptop_page
    log_in(page, "rita@clinic.example")
    page.goto("/staff/outcomes/?visits=3")
    expect(page.get_by_role("heading", level=1)).to_have_text("Are patients getting better?")
    screenshot(page, "outcomes-clinic")
    assert_accessible(page)


