"""A new visitor books a sciatica assessment on a phone, pays on the local test page, then cancels it.

Every page is screenshotted (artifacts/screenshots/patient-*.png) and checked
with axe-core; the intake step is filled in with the keyboard alone.
"""

import re

import pytest
from playwright.sync_api import expect

from booking.models import Booking
from outcomes.models import OutcomeScore
from tests.a11y import ALL_IMPACTS, assert_accessible, screenshot
from tests.factories import FollowUpFactory, PractitionerFactory, ServiceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(settings, live_server):
    # Checkout and success URLs are built from SITE_URL: point them at the test server.
    settings.SITE_URL = live_server.url
    assessment = ServiceFactory(description="A 45-minute assessment of your back and leg pain, with a plan.")
    follow_up = FollowUpFactory()
    PractitionerFactory(services=[assessment, follow_up], user__first_name="Priya", user__last_name="Shah",
                        title="Senior physiotherapist, MCSP")
    PractitionerFactory(services=[assessment, follow_up], user__first_name="Tom", user__last_name="Reid")
    return assessment


def step(page, name: str) -> None:
    screenshot(page, f"patient-{name}")
    # Every patient page: zero axe violations of any impact (issue 13).
    assert_accessible(page, impacts=ALL_IMPACTS)


def tab_to(page, element_id: str, limit: int = 60) -> None:
    """Press Tab until the element has focus: the keyboard is the only input."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"could not reach #{element_id} with Tab")


def fill_intake_with_keyboard(page) -> None:
    tab_to(page, "id_pain_areas_1")  # Buttock
    page.keyboard.press("Space")
    tab_to(page, "id_pain_areas_2")  # Thigh
    page.keyboard.press("Space")
    tab_to(page, "id_side_0")  # Left: the first radio of the group takes focus
    page.keyboard.press("Space")
    tab_to(page, "id_duration_weeks")
    page.keyboard.type("10")  # over 8 weeks: flagged for the physiotherapist
    tab_to(page, "id_tingling")
    page.keyboard.press("Space")
    for name in ("bladder_or_bowel_changes", "saddle_numbness", "worsening_weakness_both_legs",
                 "cancer_history", "unexplained_weight_loss", "fever", "recent_trauma"):
        tab_to(page, f"id_{name}_0")  # "No"
        page.keyboard.press("Space")
    # The two 0-10 scales (issue 17): Tab into each group, arrows move along it and choose.
    tab_to(page, "id_leg_pain_0")
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_activity_limit_0"
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    expect(page.locator("#id_leg_pain_6")).to_be_checked()
    expect(page.locator("#id_activity_limit_5")).to_be_checked()
    page.locator("#scales-heading").scroll_into_view_if_needed()
    step(page, "05b-intake-scales")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Continue"
    page.keyboard.press("Enter")


def test_new_visitor_books_pays_and_cancels_on_a_phone(phone_page, clinic):
    page = phone_page
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("sciatica")
    step(page, "01-home")

    page.get_by_role("link", name="Book an assessment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who would you like to see?")
    step(page, "02-practitioner")

    page.get_by_role("link", name=re.compile("Any physiotherapist")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a day")
    step(page, "03-day")

    # A week ahead, so the cancellation later is outside the 24-hour window.
    page.get_by_role("link", name="Next week").click()
    expect(page.locator(".week-title")).to_contain_text("Week of")
    page.locator(".day-list a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Choose a time on")
    step(page, "04-time")

    page.locator(".time-grid button").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("About your pain")
    step(page, "05-intake")
    fill_intake_with_keyboard(page)

    # Not signed in: the login page, which keeps the chosen time.
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_text("Your chosen time is kept")).to_be_visible()
    expect(page.locator(".note").get_by_role("link", name="Sign up here")).to_be_visible()
    step(page, "06-login")

    page.locator(".note").get_by_role("link", name="Sign up here").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Patel")
    page.get_by_label("Email").fill("sam.patel@example.com")
    page.get_by_label("Mobile phone").fill("07700 900123")
    page.get_by_label("Password", exact=True).fill("a-long-safe-passphrase")
    page.get_by_label(re.compile("Password \\(again\\)")).fill("a-long-safe-passphrase")
    step(page, "07-signup")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your booking")
    expect(page.locator(".summary")).to_contain_text("£75.00")
    expect(page.locator(".summary")).to_contain_text("London time")
    step(page, "08-review")

    page.get_by_role("button", name=re.compile("Continue to payment")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Test payment")
    step(page, "09-test-payment")
    page.get_by_role("button", name=re.compile("Pay £75.00")).click()

    expect(page.get_by_text("Your booking is confirmed")).to_be_visible()
    expect(page.get_by_text("loose, comfortable clothing")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Add to calendar"))).to_be_visible()
    step(page, "10-confirmed")
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.flags == ["long_standing"] and booking.intake["tingling"] is True
    score = OutcomeScore.objects.get()  # the scales answered in the intake: this visit's outcome record
    assert (score.booking, score.leg_pain, score.activity_limit) == (booking, 6, 5)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My bookings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My bookings")
    step(page, "11-my-bookings")

    page.locator(".booking-list a").first.click()
    old_start = booking.start
    page.get_by_role("link", name="Change the time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change the time")
    step(page, "12-reschedule-days")
    page.locator(".day-list a").nth(1).click()
    expect(page.get_by_role("heading", name=re.compile("Times on"))).to_be_visible()
    step(page, "13-reschedule-times")
    page.locator("#times .time-grid button").nth(4).click()
    expect(page.get_by_role("heading", name="Move your booking?")).to_be_visible()
    step(page, "13b-reschedule-confirm")
    booking.refresh_from_db()
    assert booking.start == old_start  # nothing moves before "Yes, move it"
    page.get_by_role("button", name="Yes, move it").click()
    expect(page.get_by_text("Your booking has been moved")).to_be_visible()
    expect(page.get_by_text("Your booking is confirmed")).to_have_count(0)
    booking.refresh_from_db()
    assert booking.start != old_start and booking.status == Booking.Status.CONFIRMED
    step(page, "14-rescheduled")

    page.get_by_role("link", name="Cancel booking").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your booking?")
    expect(page.locator(".policy")).to_contain_text("full refund of £75.00")
    step(page, "15-cancel")
    page.get_by_role("button", name="Yes, cancel this booking").click()

    expect(page.get_by_text("Your booking is cancelled")).to_be_visible()
    step(page, "16-cancelled")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_red_flags_stop_the_booking_with_an_urgent_message(phone_page, clinic):
    page = phone_page
    page.goto(f"/book/{clinic.slug}/any/")
    page.locator(".day-list a").first.click()
    page.locator(".time-grid button").first.click()
    page.get_by_label("Lower back").check()
    page.get_by_label("Both").check()
    page.get_by_label("How many weeks").fill("1")
    for name in ("bladder_or_bowel_changes", "worsening_weakness_both_legs", "cancer_history",
                 "unexplained_weight_loss", "fever", "recent_trauma"):
        page.locator(f"#id_{name}_0").check()
    page.locator("#id_saddle_numbness_1").check()  # Yes
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Go to A&E now or call 999")
    expect(page.get_by_role("link", name="call 999")).to_be_visible()
    expect(page.get_by_role("link", name="call NHS 111")).to_be_visible()
    expect(page.get_by_text("Nothing has been booked and you have not been charged")).to_be_visible()
    step(page, "17-urgent-care")
    assert not Booking.objects.exists()


def test_intake_errors_show_beside_the_fields(phone_page, clinic):
    page = phone_page
    page.goto(f"/book/{clinic.slug}/any/")
    page.locator(".day-list a").first.click()
    page.locator(".time-grid button").first.click()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#id_pain_areas_error")).to_be_visible()
    expect(page.locator("#id_saddle_numbness_error")).to_be_visible()
    expect(page.locator("#id_leg_pain_error")).to_have_text("Choose 0 to 10.")
    step(page, "18-intake-errors")


def test_account_pages_are_styled_and_accessible(phone_page, clinic):
    from tests.factories import UserFactory

    UserFactory(email="returning@example.com")
    page = phone_page
    page.goto("/accounts/password/reset/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    step(page, "20-password-reset")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("returning@example.com")
    page.get_by_label("Password", exact=True).fill("wrong-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error-summary")).to_be_visible()
    step(page, "21-login-error")
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("You are signed in")).to_be_visible()
    for path, name in (("/accounts/profile/", "22-profile"), ("/accounts/password/change/", "23-password-change"),
                       ("/accounts/email/", "24-email"), ("/accounts/logout/", "25-logout"),
                       ("/my-bookings/", "26-my-bookings-empty")):
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        step(page, name)
    page.goto("/accounts/profile/")
    page.get_by_label("Mobile phone").fill("12")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_phone_error")).to_contain_text("10 to 15 digits")
    step(page, "27-profile-error")


def sign_in(page, email="returning@example.com"):
    from tests.factories import UserFactory

    UserFactory(email=email)
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("You are signed in")).to_be_visible()


def test_slot_taken_and_payment_unavailable_pages(phone_page, clinic):
    from datetime import datetime

    from payments import gateway
    from tests.factories import BookingFactory

    page = phone_page
    sign_in(page)
    physio = clinic.practitioners.order_by("pk").first()
    page.goto(f"/book/{clinic.slug}/{physio.pk}/")
    page.locator(".day-list a").first.click()
    page.locator(".time-grid button").first.click()
    page.get_by_label("Calf").check()
    page.get_by_label("Right").check()
    page.get_by_label("How many weeks").fill("2")
    for name in ("bladder_or_bowel_changes", "saddle_numbness", "worsening_weakness_both_legs", "cancer_history",
                 "unexplained_weight_loss", "fever", "recent_trauma"):
        page.locator(f"#id_{name}_0").check()
    page.locator("#id_leg_pain_5").check()
    page.locator("#id_activity_limit_5").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your booking")

    # Someone else takes the time while this patient reads the review page
    # (the chosen time lives in the server-side session).
    from django.contrib.sessions.models import Session

    draft = next(s.get_decoded()["booking_draft"] for s in Session.objects.all() if "booking_draft" in s.get_decoded())
    BookingFactory(service=clinic, practitioner=physio, start=datetime.fromisoformat(draft["start"]))
    page.get_by_label("Offer code").fill("FIRST-NOPE")
    page.get_by_role("button", name="Apply code").click()
    expect(page.locator("#id_offer_code_error")).to_contain_text("recognise")
    step(page, "30-offer-refused")
    page.get_by_label("Offer code").fill("")
    page.get_by_role("button", name=re.compile("Continue to payment")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("was just taken")
    step(page, "31-slot-taken")

    page.locator(".time-grid button").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your booking")

    class Down:
        __name__ = "down"

        @staticmethod
        def checkout_session_create(request):
            raise gateway.GatewayUnavailable("down")

    gateway.use_gateway(Down)
    try:
        page.get_by_role("button", name=re.compile("Continue to payment")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Payment is unavailable right now")
        step(page, "32-payment-unavailable")
    finally:
        gateway.use_gateway(None)
    page.get_by_role("button", name="Try payment again").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Test payment")
    page.get_by_role("button", name="Cancel").click()
    # Back on the booking: still held, with Pay now.
    expect(page.get_by_role("button", name=re.compile("Pay now"))).to_be_visible()
    step(page, "33-held-pay-now")


def test_laptop_layout(laptop_page, clinic):
    page = laptop_page
    page.goto("/")
    step(page, "40-laptop-home")
    page.get_by_role("link", name="Book an assessment").click()
    page.get_by_role("link", name=re.compile("Any physiotherapist")).click()
    step(page, "41-laptop-day")
    page.locator(".day-list a").first.click()
    step(page, "42-laptop-time")
