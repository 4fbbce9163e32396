"""api.md rows: offer claim (anyone) and offer validate (patient)."""

from datetime import timedelta

import pytest

from booking.models import Booking
from offers.models import OfferCode
from tests.factories import BookingFactory, OfferCodeFactory, UserFactory

from .support import NOW, assert_error, make_api

pytestmark = [pytest.mark.django_db]


# --- claim -------------------------------------------------------------------


CLAIMED = {"detail": "Check your inbox: if this address can have a code, we've emailed it there.",
           "percent_off": 20, "validity_hours": 24}


def test_claim_new_address_is_202_without_the_code_which_goes_by_email(anon, clinic, mailoutbox,
                                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = anon.post("/api/v1/offers/claim/", {"email": "  New.Person@Example.com "})
    assert response.status_code == 202
    code = OfferCode.objects.get()
    assert code.email == "new.person@example.com"
    assert response.json() == CLAIMED
    assert code.display_code not in response.content.decode()
    assert mailoutbox[0].to == ["new.person@example.com"] and code.display_code in mailoutbox[0].body


def test_claim_for_a_known_address_answers_exactly_as_for_a_new_one(anon, clinic, frozen):
    first = anon.post("/api/v1/offers/claim/", {"email": "pat@example.com"})
    import time_machine

    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        again = make_api().post("/api/v1/offers/claim/", {"email": "PAT@example.com"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json() == CLAIMED
    assert OfferCode.objects.count() == 1


def test_claim_works_for_logged_in_clients_too(api, clinic):
    assert api.post("/api/v1/offers/claim/", {"email": api.user.email}).status_code == 202


@pytest.mark.parametrize("body", [{}, {"email": "not-an-email"}, {"email": ""}, {"email": ["a@b.com"]},
                                  {"email": "x" * 250 + "@example.com"}, {"email": "a\x00@example.com"}])
def test_claim_invalid_email_is_400(anon, clinic, body):
    response = anon.post("/api/v1/offers/claim/", body)
    assert "email" in assert_error(response, 400, "invalid")["errors"]
    assert OfferCode.objects.count() == 0


def test_claim_is_throttled_per_ip(anon, clinic, rates):
    rates(offer_claim="2/hour")
    for n in range(2):
        assert anon.post("/api/v1/offers/claim/", {"email": f"p{n}@example.com"}).status_code == 202
    refused = anon.post("/api/v1/offers/claim/", {"email": "p3@example.com"})
    assert_error(refused, 429, "throttled")
    assert 0 < int(refused["Retry-After"]) <= 3600
    other_ip = make_api().client.post("/api/v1/offers/claim/", {"email": "p4@example.com"}, format="json",
                                      REMOTE_ADDR="10.0.0.9")
    assert other_ip.status_code == 202
    assert OfferCode.objects.count() == 3


# --- validate ------------------------------------------------------------------


def _validate(api, code, service="sciatica-assessment"):
    return api.post("/api/v1/offers/validate/", {"code": code, "service": service})


def test_validate_valid_code_quotes_the_price(api, clinic):
    code = OfferCodeFactory(offer=clinic.offer, email=api.user.email, issued_at=NOW, expires_at=NOW + timedelta(hours=24))
    response = _validate(api, code.display_code.lower())
    assert response.status_code == 200
    assert response.json() == {
        "valid": True, "percent_off": 20, "discount_pence": 1500, "amount_due_pence": 6000,
        "expires_at": "2027-01-12T08:00:00+00:00",
    }


def _refusal(response, reason):
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["valid"] is False and body["code"] == reason and body["detail"]
    return body


def test_validate_refusals_each_with_its_reason(api, clinic):
    mine = dict(offer=clinic.offer, email=api.user.email, issued_at=NOW - timedelta(hours=1))
    _refusal(_validate(api, "FIRST-NOPE-NOPE-XX"), "unknown")
    expired = OfferCodeFactory(**{**mine, "issued_at": NOW - timedelta(days=2)}, expires_at=NOW - timedelta(days=1))
    _refusal(_validate(api, expired.code), "expired")
    expired.delete()
    theirs = OfferCodeFactory(offer=clinic.offer, email="someone.else@example.com", expires_at=NOW + timedelta(hours=5))
    _refusal(_validate(api, theirs.code), "not_yours")
    code = OfferCodeFactory(**mine, expires_at=NOW + timedelta(hours=5))
    _refusal(_validate(api, code.code, service="follow-up"), "wrong_service")
    other = BookingFactory(patient=UserFactory(), practitioner=clinic.physio_a, service=clinic.assessment)
    OfferCode.objects.filter(pk=code.pk).update(redeemed_by=other, redeemed_at=NOW)
    _refusal(_validate(api, code.code), "used")
    OfferCode.objects.filter(pk=code.pk).update(redeemed_by=None, redeemed_at=None)
    BookingFactory(patient=api.user, practitioner=clinic.physio_b, service=clinic.follow_up,
                   status=Booking.Status.CONFIRMED)
    _refusal(_validate(api, code.code), "not_first_session")


def test_validate_needs_login(anon, clinic):
    assert_error(_validate(anon, "FIRST-AAAA-AAAA-AA"), 401, "not_authenticated")


def test_validate_bad_input_is_400(api, clinic):
    assert_error(api.post("/api/v1/offers/validate/", {"code": "X"}), 400, "invalid")
    assert_error(api.post("/api/v1/offers/validate/", {"code": {"a": 1}, "service": "sciatica-assessment"}), 400, "invalid")
    assert_error(_validate(api, "X", service="nope"), 400, "unknown_service")


def test_validate_is_throttled_per_account_and_per_ip(clinic, rates, frozen):
    # Every request counts against both limits, including one the other limit refused.
    rates(offer_validate_user="3/hour", offer_validate_ip="5/hour")
    first, second = make_api(UserFactory(), "token"), make_api(UserFactory(), "session")
    for _ in range(3):
        _refusal(_validate(first, "FIRST-NOPE"), "unknown")
    assert_error(_validate(first, "FIRST-NOPE"), 429, "throttled")  # the account's limit
    _refusal(_validate(second, "FIRST-NOPE"), "unknown")  # the IP's fifth
    assert_error(_validate(second, "FIRST-NOPE"), 429, "throttled")  # the IP's limit
    # From another address the second account still has its third try; the first has none.
    elsewhere = {"code": "FIRST-NOPE", "service": "sciatica-assessment"}
    ok = second.client.post("/api/v1/offers/validate/", elsewhere, format="json", REMOTE_ADDR="10.0.0.7", **second.headers)
    _refusal(ok, "unknown")
    no = first.client.post("/api/v1/offers/validate/", elsewhere, format="json", REMOTE_ADDR="10.0.0.8", **first.headers)
    assert_error(no, 429, "throttled")
