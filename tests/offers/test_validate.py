"""Validation: every refusal names its reason; the 24-hour edges; "first session"; throttles."""

from datetime import timedelta

import pytest
import time_machine
from django.test import RequestFactory, override_settings

from booking import services as booking_services
from booking.exceptions import (
    OfferExpired,
    OfferNotFirstSession,
    OfferNotYours,
    OfferUnknown,
    OfferUsed,
    OfferWrongService,
)
from booking.models import Booking
from offers.services import offer_code_claim, offer_code_validate
from offers.throttles import RateLimited, offer_code_validate_for_request
from payments.models import Payment
from tests.factories import BookingFactory, UserFactory

from .conftest import INTAKE, MONDAY_8AM

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(offer, patient):
    with time_machine.travel(MONDAY_8AM, tick=False):
        return offer_code_claim(email=patient.email).code


def validate(code_text, patient, service, at):
    with time_machine.travel(at, tick=False):
        return offer_code_validate(code_text=code_text, patient=patient, service=service)


def test_valid_code_quotes_20_percent_off_a_first_session(code, patient, sciatica):
    quote = validate(code.display_code.lower(), patient, sciatica, MONDAY_8AM + timedelta(hours=1))
    assert (quote.percent_off, quote.discount_pence, quote.amount_due_pence) == (20, 1500, 6000)
    assert quote.expires_at == code.expires_at


def test_valid_one_second_before_24_hours(code, patient, sciatica):
    quote = validate(code.code, patient, sciatica, MONDAY_8AM + timedelta(hours=24) - timedelta(seconds=1))
    assert quote.amount_due_pence == 6000


def test_refused_as_expired_exactly_at_24_hours_with_when(code, patient, sciatica):
    with pytest.raises(OfferExpired) as refused:
        validate(code.code, patient, sciatica, MONDAY_8AM + timedelta(hours=24))
    assert refused.value.code == "expired"
    assert refused.value.as_dict()["expired_at"] == code.expires_at.isoformat()
    assert "12 January 2027 at 08:00 (London time)" in refused.value.message


def test_refused_unknown(code, patient, sciatica):
    with pytest.raises(OfferUnknown) as refused:
        validate("FIRST-2222-3333-4444", patient, sciatica, MONDAY_8AM)
    assert refused.value.code == "unknown"
    with pytest.raises(OfferUnknown):
        validate("", patient, sciatica, MONDAY_8AM)


def test_refused_not_yours_for_another_account(code, sciatica):
    with pytest.raises(OfferNotYours) as refused:
        validate(code.code, UserFactory(email="someone.else@example.com"), sciatica, MONDAY_8AM)
    assert refused.value.code == "not_yours"


def test_account_email_matches_whatever_its_case(code, sciatica):
    shouty = UserFactory(email="other@example.com")
    shouty.email = "  SAM.Patient@Example.COM"  # as an older account might have stored it
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=shouty, email=shouty.email, verified=True)  # and confirmed it
    assert validate(code.code, shouty, sciatica, MONDAY_8AM).discount_pence == 1500


def test_someone_elses_used_code_says_not_yours_not_used(code, patient, sciatica):
    # Ownership first: a guesser learns nothing about other people's codes.
    BookingFactory(patient=patient, service=sciatica, status=Booking.Status.CONFIRMED, offer_code=code)
    code.redeemed_by = Booking.objects.get()
    code.save()
    with pytest.raises(OfferNotYours):
        validate(code.code, UserFactory(email="guesser@example.com"), sciatica, MONDAY_8AM)


def test_refused_used_once_redeemed(code, patient, sciatica):
    booking = BookingFactory(patient=UserFactory(), service=sciatica, offer_code=code)
    code.redeemed_by = booking
    code.save()
    with pytest.raises(OfferUsed) as refused:
        validate(code.code, patient, sciatica, MONDAY_8AM)
    assert refused.value.code == "used"


def test_refused_used_while_another_hold_reserves_it(code, patient, sciatica, physio):
    with time_machine.travel(MONDAY_8AM, tick=False):
        booking_services.booking_hold(patient=patient, service=sciatica, start=MONDAY_8AM + timedelta(days=1, hours=2),
                                      practitioner=physio, offer_code=code.code, intake=INTAKE)
    with pytest.raises(OfferUsed):
        validate(code.code, patient, sciatica, MONDAY_8AM + timedelta(minutes=10))
    # Once that hold has lapsed (30 minutes), the code is usable again even before any clean-up.
    assert validate(code.code, patient, sciatica, MONDAY_8AM + timedelta(minutes=30)).discount_pence == 1500


def test_refused_wrong_service(code, patient, follow_up):
    with pytest.raises(OfferWrongService) as refused:
        validate(code.code, patient, follow_up, MONDAY_8AM)
    assert refused.value.code == "wrong_service"


def test_refused_for_a_first_session_the_campaign_does_not_cover(code, patient):
    from tests.factories import ServiceFactory

    other_first = ServiceFactory(name="Knee assessment", is_first_session=True)
    with pytest.raises(OfferWrongService):
        validate(code.code, patient, other_first, MONDAY_8AM)


@pytest.mark.parametrize("status", [Booking.Status.ATTENDED, Booking.Status.NO_SHOW, Booking.Status.CONFIRMED])
def test_refused_not_first_session_after_an_attended_no_show_or_paid_booking(code, patient, sciatica, follow_up, status):
    BookingFactory(patient=patient, service=follow_up, status=status, start=MONDAY_8AM - timedelta(days=30))
    with pytest.raises(OfferNotFirstSession) as refused:
        validate(code.code, patient, sciatica, MONDAY_8AM)
    assert refused.value.code == "not_first_session"


def test_refused_not_first_session_after_a_paid_booking_later_cancelled(code, patient, sciatica, follow_up):
    booking = BookingFactory(patient=patient, service=follow_up, status=Booking.Status.CANCELLED)
    Payment.objects.create(booking=booking, method=Payment.Method.CASH, status=Payment.Status.REFUNDED,
                           amount_pence=6000, idempotency_key="k1")
    with pytest.raises(OfferNotFirstSession):
        validate(code.code, patient, sciatica, MONDAY_8AM)


@pytest.mark.parametrize("status", [Booking.Status.CANCELLED, Booking.Status.EXPIRED])
def test_a_cancelled_unpaid_or_lapsed_booking_does_not_count_as_a_session(code, patient, sciatica, status):
    booking = BookingFactory(patient=patient, service=sciatica, status=status)
    Payment.objects.create(booking=booking, method=Payment.Method.LOCAL_TEST, status=Payment.Status.EXPIRED,
                           amount_pence=7500, idempotency_key="k2")
    assert validate(code.code, patient, sciatica, MONDAY_8AM).amount_due_pence == 6000


def test_anonymous_visitor_is_told_not_yours_not_a_500(code, sciatica):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(OfferNotYours):
        validate(code.code, AnonymousUser(), sciatica, MONDAY_8AM)


# --- throttles for the page flow --------------------------------------------------


def _request(user, ip="10.1.1.1"):
    request = RequestFactory().post("/book/review/", REMOTE_ADDR=ip)
    request.user = user
    return request


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"offer_validate_ip": "100/hour", "offer_validate_user": "3/hour"}})
@time_machine.travel(MONDAY_8AM + timedelta(minutes=1), tick=False)
def test_validation_is_throttled_per_account_with_429(code, patient, sciatica):
    for n in range(3):
        with pytest.raises(OfferUnknown):
            offer_code_validate_for_request(_request(patient, ip=f"10.0.0.{n}"), code_text="FIRST-GUESS", service=sciatica)
    with pytest.raises(RateLimited) as limited:
        offer_code_validate_for_request(_request(patient, ip="10.0.0.99"), code_text=code.code, service=sciatica)
    assert limited.value.status_code == 429 and limited.value.code == "throttled"
    assert limited.value.retry_after > 0
    # Another account from the same addresses is not limited.
    other = UserFactory()
    with pytest.raises(OfferNotYours):
        offer_code_validate_for_request(_request(other, ip="10.0.0.1"), code_text=code.code, service=sciatica)


@override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"offer_validate_ip": "3/hour", "offer_validate_user": "100/hour"}})
@time_machine.travel(MONDAY_8AM + timedelta(minutes=1), tick=False)
def test_validation_is_throttled_per_ip_with_429(code, sciatica):
    for _ in range(3):
        with pytest.raises(OfferNotYours):
            offer_code_validate_for_request(_request(UserFactory()), code_text=code.code, service=sciatica)
    with pytest.raises(RateLimited):
        offer_code_validate_for_request(_request(UserFactory()), code_text=code.code, service=sciatica)
    with pytest.raises(OfferNotYours):  # another address still gets an answer
        offer_code_validate_for_request(_request(UserFactory(), ip="10.9.9.9"), code_text=code.code, service=sciatica)
