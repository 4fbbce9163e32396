"""Clinical safety and the 24-hour window, as a patient on a phone meets them (issue 13).

Screenshots: artifacts/screenshots/safety-*.png (the urgent page, the review inside
the 24-hour window, the confirmation email rendered as HTML). Every page is checked
with axe-core for violations of any impact.
"""

import re
from datetime import time

import pytest
from django.core import mail
from playwright.sync_api import expect

from booking.intake_link import intake_link_url
from booking.models import Booking, UrgentAdvice
from booking.staff import services as desk
from payments.models import Payment
from tests.a11y import ALL_IMPACTS, assert_accessible, screenshot
from tests.factories import (
    PASSWORD,
    PractitionerFactory,
    ReceptionistFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(settings, live_server):
    settings.SITE_URL = live_server.url
    assessment = ServiceFactory(description="A 45-minute assessment of your back and leg pain.")
    # Works round the clock, every day: the first free time is always inside the 24-hour window.
    physio = PractitionerFactory(services=[assessment], user__first_name="Priya", user__last_name="Shah",
                                 hours=[(day, time(0), time(23, 45)) for day in range(7)])
    return assessment, physio


def check(page, name: str) -> None:
    screenshot(page, f"safety-{name}")
    assert_accessible(page, impacts=ALL_IMPACTS)


def first_time(page, service) -> None:
    page.goto(f"/book/{service.slug}/any/")
    page.locator(".day-list a").first.click()
    page.locator(".time-grid button").first.click()


def log_in(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_urgent_advice_comes_first_with_an_incomplete_form(phone_page, clinic):
    service, _ = clinic
    page = phone_page
    first_time(page, service)
    # Only the two signs: every other question is left blank.
    page.locator("#id_bladder_or_bowel_changes_1").check()
    page.locator("#id_saddle_numbness_1").check()
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/urgent-care/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Go to A&E now or call 999")
    expect(page.get_by_text("Please answer the questions marked below")).to_have_count(0)
    main = page.locator("main")
    expect(main).to_contain_text("New problems controlling your bladder or bowels")
    expect(main).to_contain_text("Numbness around your genitals, bottom or inner thighs")
    expect(page.get_by_role("link", name="call 999")).to_have_attribute("href", "tel:999")
    expect(page.get_by_role("link", name="call NHS 111")).to_have_attribute("href", "tel:111")
    expect(main.get_by_role("link", name="020 7946 0000")).to_have_attribute("href", "tel:02079460000")
    expect(page.get_by_text("Nothing has been booked and you have not been charged")).to_be_visible()
    check(page, "01-urgent-page")

    # A page reached by redirect: reloading it asks nothing and records nothing twice.
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog), dialog.dismiss()))
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Go to A&E now or call 999")
    assert dialogs == []
    assert UrgentAdvice.objects.count() == 1
    assert not Booking.objects.exists() and not Payment.objects.exists()


def test_urgent_page_from_a_phone_booked_intake_link(phone_page, clinic):
    service, physio = clinic
    from datetime import timedelta

    from django.utils import timezone

    patient = UserFactory(first_name="Paula", last_name="Jones", phone="07700 900123")
    start = (timezone.now() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    booking = desk.reception_book(patient=patient, service=service, practitioner=physio, start=start,
                                  payment=desk.PAY_AT_CLINIC, actor=ReceptionistFactory()).booking
    link = intake_link_url(booking)
    # The link reaches the patient in the confirmation email (tests/staff/test_intake_link.py); here it is opened.
    assert booking.intake_pending

    page = phone_page
    page.goto(link)  # no password: the link is the key
    expect(page.get_by_role("heading", level=1)).to_have_text("Before your assessment")
    check(page, "02-intake-link")
    page.locator("#id_worsening_weakness_both_legs_1").check()  # Yes; the rest left blank
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Go to A&E now or call 999")
    expect(page.locator("main")).to_contain_text("Weakness getting worse in both legs")
    check(page, "03-urgent-page-from-intake-link")
    booking.refresh_from_db()
    assert booking.needs_urgent_call
    assert UrgentAdvice.objects.get().booking == booking


def test_a_booking_inside_24_hours_says_no_refund_at_review_in_the_email_and_on_cancel(phone_page, clinic,
                                                                                       mailoutbox):
    service, _ = clinic
    UserFactory(email="pat@example.com", first_name="Pat")
    page = phone_page
    page.goto(f"/book/{service.slug}/any/")
    page.locator(".day-list a").first.click()
    expect(page.locator(".time-grid button").first).to_contain_text("no refund")
    check(page, "04-time-picker-window")
    page.locator(".time-grid button").first.click()
    page.check("#id_pain_areas_0")
    page.check("#id_side_2")
    page.fill("#id_duration_weeks", "2")
    for name in ("bladder_or_bowel_changes", "saddle_numbness", "worsening_weakness_both_legs",
                 "cancer_history", "unexplained_weight_loss", "fever", "recent_trauma"):
        page.check(f"#id_{name}_0")
    page.get_by_role("button", name="Continue").click()
    log_in(page, "pat@example.com")

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your booking")
    policy = page.locator(".policy-window")
    expect(policy).to_contain_text("less than 24 hours away")
    expect(policy).to_contain_text("If you cancel it, you get no refund")
    expect(policy).to_contain_text("cannot be moved online")
    # Logged in on a 390 px phone, the header stays on one line and nothing scrolls sideways.
    assert page.locator(".site-header").bounding_box()["height"] < 60
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    check(page, "05-review-inside-window")

    page.get_by_role("button", name=re.compile("Continue to payment")).click()
    page.get_by_role("button", name=re.compile("Pay")).first.click()
    expect(page.get_by_text("Your booking is confirmed")).to_be_visible()
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED

    confirmation = next(m for m in mail.outbox if m.subject.startswith("Booking confirmed"))
    assert "there is no refund" in confirmation.body and "cannot be moved online" in confirmation.body
    html = confirmation.alternatives[0][0]
    email_page = page.context.new_page()
    email_page.set_viewport_size({"width": 390, "height": 844})
    email_page.set_content(html)
    expect(email_page.get_by_text("there is no refund")).to_be_visible()
    screenshot(email_page, "safety-06-confirmation-email-html")
    email_page.close()

    # My bookings: a tap anywhere on the card opens the booking.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    card = page.locator(".booking-row").first
    box = card.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 10, box["y"] + box["height"] - 10)
    expect(page).to_have_url(re.compile(rf"/my-bookings/{booking.pk}/$"))

    page.get_by_role("link", name="Cancel booking").click()
    expect(page.locator(".policy")).to_contain_text("no refund")
    check(page, "07-cancel-inside-window")
    page.get_by_role("button", name="Yes, cancel this booking").click()
    expect(page.get_by_text("No refund was given: it was less than 24 hours away.")).to_be_visible()
    expect(page.locator(".no-refund")).to_contain_text("less than 24 hours before the appointment")
    check(page, "08-cancelled-no-refund")
