"""A visitor claims the first-session offer from the home page banner on a phone and is told to check
their inbox (the code is never shown to whoever typed the address); signed in with the confirmed
address they see the code and a live countdown, and booking a sciatica assessment with it shows
£60.00 instead of £75.00 at review.

Screenshots: artifacts/screenshots/offer-*.png.
"""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from offers.models import OfferCode
from tests.a11y import ALL_IMPACTS, assert_accessible, screenshot
from tests.factories import FollowUpFactory, OfferFactory, PractitionerFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "sam.patel@example.com"


@pytest.fixture
def clinic(settings, live_server):
    settings.SITE_URL = live_server.url
    assessment = ServiceFactory(name="Sciatica assessment", price_pence=7500, is_first_session=True)
    follow_up = FollowUpFactory()
    OfferFactory(services=[assessment])
    PractitionerFactory(services=[assessment, follow_up], user__first_name="Priya", user__last_name="Shah")
    return assessment


def claim_from_home_banner(page) -> OfferCode:
    page.goto("/")
    banner = page.locator(".offer-banner")
    expect(banner).to_contain_text("One Time Offer: 20 % off your first session, valid 24 hours")
    screenshot(page, "offer-01-home-banner")
    banner.get_by_label("Your email address").fill("  Sam.Patel@Example.com ")
    banner.get_by_role("button", name="Get my code").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    code = OfferCode.objects.get()
    assert code.email == EMAIL
    assert re.fullmatch(r"FIRST(-[2-9A-HJKMNP-TV-Z]{4}){3}", code.display_code)
    # Anyone can type an address: the code goes only to the inbox.
    assert code.display_code not in page.content() and code.code not in page.content()
    assert code.display_code in mail.outbox[-1].body
    screenshot(page, "offer-02-check-your-inbox-phone")
    return code


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", "correct-horse-battery")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))


def test_visitor_claims_the_offer_and_its_confirmed_owner_sees_a_live_countdown(phone_page, clinic):
    page = phone_page
    code = claim_from_home_banner(page)
    UserFactory(email=EMAIL)  # an account whose address is confirmed
    log_in(page, EMAIL)
    page.goto("/offer/code/")
    expect(page.locator(".offer-code")).to_have_text(code.display_code)
    expect(page.get_by_text("(London time)")).to_be_visible()

    countdown = page.locator(".offer-countdown")
    # countdown.js replaced the server's "24 hours" with a ticking h/min/s figure.
    expect(countdown).to_have_text(re.compile(r"^2[34] h \d\d min \d\d s$"))
    first = countdown.text_content()
    page.wait_for_timeout(1500)
    assert countdown.text_content() != first, "the countdown should tick"
    screenshot(page, "offer-02-code-phone", full_page=True)
    assert_accessible(page, impacts=ALL_IMPACTS)

    # No horizontal scrolling on a 390px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # Claiming again with a +tag gives no second code.
    page.goto("/offer/")
    page.get_by_label("Your email address").fill("SAM.PATEL+again@example.com")
    page.get_by_role("button", name="Get my code").click()
    expect(page.locator(".offer-code")).to_have_text(code.display_code)
    assert OfferCode.objects.count() == 1
    screenshot(page, "offer-03-claim-again-phone")


def test_the_code_page_without_javascript_shows_the_expiry_in_london_time(browser, live_server, clinic):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False,
                                  viewport={"width": 390, "height": 844}, locale="en-GB")
    page = context.new_page()
    try:
        UserFactory(email=EMAIL)
        log_in(page, EMAIL)
        page.goto("/offer/")
        page.get_by_label("Your email address").fill(EMAIL)
        page.get_by_role("button", name="Get my code").click()
        expect(page.locator(".offer-countdown")).to_have_text(re.compile(r"^(24 hours|23 hours \d+ minutes?)$"))
        expect(page.get_by_text(re.compile(r"Valid until \d\d:\d\d on \w+day \d+ \w+ \d{4}"))).to_be_visible()
        screenshot(page, "offer-04-code-no-js")
    finally:
        context.close()


def fill_intake(page) -> None:
    page.check("#id_pain_areas_1")  # buttock
    page.check("#id_pain_areas_2")  # thigh
    page.check("#id_side_0")  # left
    page.fill("#id_duration_weeks", "3")
    for name in ("bladder_or_bowel_changes", "saddle_numbness", "worsening_weakness_both_legs",
                 "cancer_history", "unexplained_weight_loss", "fever", "recent_trauma"):
        page.check(f"#id_{name}_0")  # "No"
    page.check("#id_leg_pain_4")  # the two 0-10 outcome scales
    page.check("#id_activity_limit_3")
    page.get_by_role("button", name="Continue").click()


def test_visitor_claims_then_books_with_the_code_pre_applied_and_sees_60_pounds(phone_page, clinic):
    page = phone_page
    code = claim_from_home_banner(page)

    # The emailed link goes straight into the booking flow for the first session: no service to
    # choose, no code to retype (the page itself never shows the code to whoever typed the address).
    book_url = re.search(r"https?://\S+/book/first-session/\?code=\S+", mail.outbox[-1].body).group(0)
    page.goto(book_url)
    page.get_by_role("link", name=re.compile("Any physiotherapist")).click()
    page.get_by_role("link", name="Next week").click()
    page.locator(".day-list a").first.click()
    page.locator(".time-grid button").first.click()
    fill_intake(page)

    # Not signed in yet: create the account with the address the code was sent to.
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Patel")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Mobile phone").fill("07700 900123")
    page.get_by_label("Password", exact=True).fill("a-long-safe-passphrase")
    page.get_by_label(re.compile(r"Password \(again\)")).fill("a-long-safe-passphrase")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your booking")

    # An unconfirmed address cannot use the code: confirm it from the email, as a person would.
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", next(
        m.body for m in reversed(mail.outbox) if "confirm-email" in m.body)).group(0)
    page.goto(link)
    page.locator("form button[type=submit]").last.click()
    page.goto("/book/review/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your booking")
    # The code from the link is already applied at review.
    expect(page.locator("[name=offer_code]")).to_have_value(code.display_code)
    expect(page.get_by_text("Code applied: 20% off")).to_be_visible()
    expect(page.locator(".summary")).to_contain_text("£60.00")
    expect(page.locator(".summary")).to_contain_text("£15.00")
    expect(page.get_by_role("button", name=re.compile("Continue to payment"))).to_contain_text("£60.00")
    screenshot(page, "offer-05-review-with-code")
    assert_accessible(page, impacts=ALL_IMPACTS)


def test_a_throttled_claim_says_so_clearly(phone_page, clinic, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"offer_claim": "1/hour"}}
    page = phone_page
    page.goto("/offer/")
    page.get_by_label("Your email address").fill("first@example.com")
    page.get_by_role("button", name="Get my code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    page.goto("/offer/")
    page.get_by_label("Your email address").fill("second@example.com")
    with page.expect_response(lambda r: r.url.endswith("/offer/") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Get my code").click()
    assert answer.value.status == 429
    expect(page.get_by_role("alert")).to_contain_text("Too many attempts")
    screenshot(page, "offer-06-throttled-phone")
    assert_accessible(page, impacts=ALL_IMPACTS)
    assert not OfferCode.objects.filter(email="second@example.com").exists()
