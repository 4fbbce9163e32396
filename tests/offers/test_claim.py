"""Claiming: one code per address ever, shown with its time left, emailed; the claim page and its throttle."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from offers.models import OfferCode
from offers.services import NoOfferRunning, offer_code_claim

from tests.factories import UserFactory

from .conftest import MONDAY_8AM

pytestmark = pytest.mark.django_db


@time_machine.travel(MONDAY_8AM, tick=False)
def test_claim_issues_a_code_valid_24_hours_and_emails_it_after_commit(offer, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        claim = offer_code_claim(email="Sam@Example.com")
    assert mailoutbox == []  # nothing is sent before the claim commits
    for callback in callbacks:
        callback()
    assert claim.created
    code = claim.code
    assert code.email == "sam@example.com"
    assert code.expires_at - code.issued_at == timedelta(hours=24)
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["sam@example.com"]
    assert code.display_code in message.subject and code.display_code in message.body
    assert "08:00 on Tuesday 12 January 2027 (London time)" in message.body


@pytest.mark.parametrize("again", ["sam@example.com", "SAM@EXAMPLE.COM", "  Sam@Example.Com \t", "\nsam@example.COM\n"])
def test_one_code_per_address_whatever_the_case_or_whitespace(offer, again, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = offer_code_claim(email="Sam@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        second = offer_code_claim(email=again)
    assert not second.created
    assert second.code.pk == first.code.pk
    assert OfferCode.objects.count() == 1
    # Claiming again emails the same code again (the answer must not differ from a first claim).
    assert len(mailoutbox) == 2 and first.code.display_code in mailoutbox[1].body


def test_an_expired_code_is_returned_not_replaced(offer):
    with time_machine.travel(MONDAY_8AM, tick=False):
        first = offer_code_claim(email="sam@example.com").code
    with time_machine.travel(MONDAY_8AM + timedelta(days=3), tick=False):
        again = offer_code_claim(email="sam@example.com")
        assert not again.created and again.code.pk == first.pk
        assert again.code.state_at() == OfferCode.State.EXPIRED


def test_claim_without_a_running_offer_is_refused(db):
    with pytest.raises(NoOfferRunning):
        offer_code_claim(email="sam@example.com")


@pytest.mark.parametrize("bad", ["", "not-an-email", "a@", "   "])
def test_claim_refuses_a_malformed_address(offer, bad):
    with pytest.raises(ValidationError):
        offer_code_claim(email=bad)
    assert not OfferCode.objects.exists()


# --- the page ---------------------------------------------------------------


def test_home_page_shows_the_banner_posting_to_the_claim_page(client, offer):
    response = client.get("/")
    html = response.content.decode()
    assert "One Time Offer: 20 % off your first session, valid 24 hours" in html
    assert f'action="{reverse("offers:claim")}"' in html
    assert 'name="email"' in html


def test_claim_page_url():
    assert reverse("offers:claim") == "/offer/"


@time_machine.travel(MONDAY_8AM, tick=False)
def test_claiming_on_the_page_shows_the_code_countdown_and_london_expiry(client, offer, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/offer/", {"email": " Sam@Example.com "})
    assert response.status_code == 302 and response["Location"] == reverse("offers:claimed")
    code = OfferCode.objects.get()
    # Whoever typed the address is told to check the inbox; the code is not on the page.
    anonymous = client.get(response["Location"]).content.decode()
    assert "Check your inbox" in anonymous and code.display_code not in anonymous
    # Signed in with the confirmed address, its owner sees it.
    client.force_login(UserFactory(email="sam@example.com"))
    page = client.get(response["Location"]).content.decode()
    assert code.display_code in page
    assert 'data-seconds-left="86400"' in page  # the live countdown's start (countdown.js)
    assert "24 hours" in page  # the countdown's text without JavaScript
    assert "08:00 on Tuesday 12 January 2027" in page and "(London time)" in page
    assert "js/countdown.js" in page
    assert len(mailoutbox) == 1


def test_claiming_again_answers_as_a_first_claim_and_the_owner_sees_the_time_left(client, offer):
    with time_machine.travel(MONDAY_8AM, tick=False):
        first = client.post("/offer/", {"email": "sam@example.com"}, follow=True)
    code = OfferCode.objects.get()
    other_browser = client.__class__()
    with time_machine.travel(MONDAY_8AM + timedelta(hours=20, minutes=30), tick=False):
        again = other_browser.post("/offer/", {"email": "SAM@example.com"}, follow=True)
        other_browser.force_login(UserFactory(email="sam@example.com"))
        page = other_browser.get(reverse("offers:claimed")).content.decode()
    assert again.content == first.content and code.display_code not in again.content.decode()
    assert OfferCode.objects.count() == 1
    assert code.display_code in page
    assert "3 hours 30 minutes" in page and f'data-seconds-left="{3 * 3600 + 30 * 60}"' in page


def test_claiming_again_after_24_hours_says_it_has_expired_and_when(client, offer):
    with time_machine.travel(MONDAY_8AM, tick=False):
        client.post("/offer/", {"email": "sam@example.com"})
    with time_machine.travel(MONDAY_8AM + timedelta(hours=24), tick=False):
        client.force_login(UserFactory(email="sam@example.com"))
        page = client.post("/offer/", {"email": "sam@example.com"}, follow=True).content.decode()
    assert "Your offer code has expired" in page
    assert "08:00 on Tuesday 12 January 2027" in page
    assert "data-seconds-left" not in page
    assert OfferCode.objects.count() == 1


def test_claim_page_with_a_bad_address_shows_the_error_beside_the_field(client, offer):
    response = client.post("/offer/", {"email": "nope"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not OfferCode.objects.exists()


def test_code_page_without_a_claim_goes_back_to_the_claim_page(client):
    response = client.get(reverse("offers:claimed"))
    assert response.status_code == 302 and response["Location"] == "/offer/"


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"offer_claim": "3/hour"}})
@time_machine.travel(MONDAY_8AM + timedelta(minutes=1), tick=False)
def test_page_claims_are_throttled_per_ip_with_429(client, offer):
    for n in range(3):
        assert client.post("/offer/", {"email": f"person{n}@example.com"}).status_code == 302
    response = client.post("/offer/", {"email": "person9@example.com"})
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert not OfferCode.objects.filter(email="person9@example.com").exists()
    # Another address (IP) is not affected.
    assert client.post("/offer/", {"email": "x@example.com"}, REMOTE_ADDR="10.0.0.9").status_code == 302
    # The window passes: allowed again.
    with time_machine.travel(MONDAY_8AM + timedelta(days=400), tick=False):
        assert client.post("/offer/", {"email": "person9@example.com"}).status_code == 302


# 02:30 BST on Saturday 30 October 2027: 24 real hours later is 01:30 GMT on the fall-back night,
# the second time the clock reads 01:30, so the email and the refusal must say which.
SATURDAY_BEFORE_FALL_BACK = datetime(2027, 10, 30, 1, 30, tzinfo=UTC)


@time_machine.travel(SATURDAY_BEFORE_FALL_BACK, tick=False)
def test_a_code_expiring_in_the_repeated_hour_says_gmt(offer, sciatica, mailoutbox, django_capture_on_commit_callbacks):
    from offers.exceptions import OfferExpired
    from offers.services import offer_code_validate

    with django_capture_on_commit_callbacks(execute=True):
        code = offer_code_claim(email="late@example.com").code
    assert code.expires_at == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert "until 01:30 GMT on Sunday 31 October 2027 (London time)" in mailoutbox[0].body
    with pytest.raises(OfferExpired) as refused:
        offer_code_validate(code_text=code.code, patient=UserFactory(email="late@example.com"), service=sciatica, now=code.expires_at)
    assert "31 October 2027 at 01:30 GMT (London time)" in refused.value.message
