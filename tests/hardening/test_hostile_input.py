"""Issue 12's findings, each a test: hostile input gets a clear refusal, never a 500, and changes nothing."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from booking.availability import LONDON
from booking.models import Booking, TimeOff
from common import hostile
from tests.factories import (
    BookingFactory,
    PractitionerFactory,
    ReceptionistFactory,
    ServiceFactory,
    StaffFactory,
    UserFactory,
)


pytestmark = [pytest.mark.django_db]

DEEP = ("[" * 1000 + "]" * 1000).encode()


@pytest.fixture
def clinic(db):
    service = ServiceFactory(slug="sciatica-assessment")
    week = [(d, time(9), time(17)) for d in range(7)]
    physio = PractitionerFactory(services=[service], hours=week, user=StaffFactory(first_name="Alex"))
    return service, physio


# --- the policy itself ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["²", "٣", "-1", "0", "99999999999999999999", "1e3", " 1", "", None, "1\x00"])
def test_ids_are_ascii_digits_within_a_bigint(text):
    assert hostile.parse_id(text) is None


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "2027-02-30", "２０２７-01-01", "2027-1-1", "a\x00"])
def test_dates_outside_the_calendar_or_malformed_are_refused(text):
    assert hostile.parse_date(text) is None


def test_datetimes_need_an_offset_within_fourteen_hours_and_a_calendar_year():
    assert hostile.parse_aware_datetime("2027-01-12T10:00:00+14:00") is not None
    for text in ["2027-01-12T10:00:00+20:00", "2027-01-12T10:00:00-15:00", "9999-12-31T23:59:59+00:00",
                 "0001-01-01T00:00:00+00:00", "2027-01-12T10:00:00", "x" * 5000]:
        assert hostile.parse_aware_datetime(text) is None, text


@pytest.mark.parametrize("text", ["NaN", "sNaN", "1e999999", "-1", "Infinity", "1.234", "£", "1,2,3e5"])
def test_pounds_refuse_nan_exponents_negatives_and_a_third_decimal(text):
    assert hostile.parse_pounds(text) is None


def test_search_words_are_capped_and_lose_nul():
    assert hostile.search_words("a\x00b " * 2000) == ["ab"] * hostile.MAX_QUERY_WORDS
    assert len("".join(hostile.search_words("x" * 100_000))) == hostile.MAX_QUERY_CHARS


# --- JSON nested 1,000 deep --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/offers/claim/", "/api/v1/bookings/", "/_allauth/app/v1/auth/login",
                                  "/_allauth/browser/v1/auth/signup", "/payments/stripe/webhook/"])
def test_json_nested_a_thousand_deep_is_a_400_parse_error_everywhere(client, path):
    response = client.post(path, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_api_json_with_nan_is_a_parse_error(client):
    response = client.post("/api/v1/offers/claim/", b'{"email": NaN}', content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


# --- patient pages --------------------------------------------------------------------------


def test_unicode_digits_in_the_booking_path_are_404(client, clinic, frozen):
    assert client.get("/book/sciatica-assessment/%C2%B2/").status_code == 404
    assert client.get("/book/sciatica-assessment/99999999999999999999/").status_code == 404


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_extreme_dates_in_the_booking_pages_are_not_500(client, clinic, frozen, day):
    assert client.get(f"/book/sciatica-assessment/any/?from={day}").status_code == 200
    assert client.get(f"/book/sciatica-assessment/any/{day}/").status_code == 404


@pytest.mark.parametrize("start", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:45:00+00:00",
                                   "2027-01-12T10:00:00+20:00"])
def test_a_posted_start_out_of_range_never_enters_the_draft(client, clinic, frozen, start):
    service, _ = clinic
    response = client.post("/book/choose/", {"service": service.slug, "who": "any", "start": start})
    assert response.status_code == 302 and "/book/sciatica-assessment/any/" in response["Location"]
    assert "booking_draft" not in client.session
    # The later pages of the flow still answer (they send the patient back to choose a time).
    assert client.get("/book/intake/").status_code == 302
    patient = UserFactory()
    client.force_login(patient)
    assert client.get("/book/review/").status_code == 302


def test_a_draft_with_a_hostile_start_already_in_the_session_sends_the_patient_back(client, clinic, frozen):
    session = client.session
    session["booking_draft"] = {"service": "sciatica-assessment", "practitioner": None,
                                "start": "9999-12-31T23:45:00+00:00", "intake": None, "offer_code": ""}
    session.save()
    assert client.get("/book/intake/").status_code == 302


def test_nul_in_a_form_field_is_a_400_and_books_nothing(client, clinic, frozen):
    response = client.post("/book/choose/", {"service": "sciatica\x00", "who": "any", "start": "x"})
    assert response.status_code == 400
    assert client.get("/payments/test-checkout/cs_%00/").status_code == 400
    assert not Booking.objects.exists()


def test_api_start_with_an_offset_beyond_fourteen_hours_is_400(client, clinic, frozen):
    patient = UserFactory()
    client.force_login(patient)
    response = client.post("/api/v1/bookings/", {"service": "sciatica-assessment", "start": "2027-01-12T10:00:00+20:00"},
                           content_type="application/json")
    assert response.status_code == 400 and "start" in response.json()["errors"]
    booking = BookingFactory(patient=patient, practitioner=clinic[1], service=clinic[0],
                             start=datetime(2027, 1, 14, 10, tzinfo=LONDON))
    moved = client.post(f"/api/v1/bookings/{booking.pk}/reschedule/", {"start": "2027-01-15T10:00:00-16:00"},
                        content_type="application/json")
    assert moved.status_code == 400
    booking.refresh_from_db()
    assert booking.start == datetime(2027, 1, 14, 10, tzinfo=LONDON)


# --- staff pages and the staff API ------------------------------------------------------------


@pytest.fixture
def reception_client(client, frozen):
    client.force_login(ReceptionistFactory())
    return client


@pytest.mark.parametrize("query", ["date=9999-12-31", "date=0001-01-01", "date=2027-01-12&practitioner=%C2%B2",
                                   "date=2027-01-12&practitioner=99999999999999999999"])
def test_staff_calendar_api_refuses_hostile_dates_and_ids(reception_client, clinic, query):
    response = reception_client.get(f"/api/v1/staff/calendar/?{query}")
    assert response.status_code in (400, 404)
    assert set(response.json()) >= {"detail", "code"}


@pytest.mark.parametrize("url", ["/staff/day/9999-12-31/", "/staff/day/0001-01-01/", "/staff/?date=9999-12-31",
                                 "/staff/my-day/?date=9999-12-31", "/staff/my-day/?practitioner=%C2%B2",
                                 "/staff/book/?practitioner=%C2%B2&start=9999-12-31T23:59:59%2B00:00",
                                 "/staff/time-off/new/?date=0001-01-01&practitioner=99999999999999999999"])
def test_staff_pages_with_extreme_dates_or_ids_are_not_500(reception_client, clinic, frozen, url):
    assert reception_client.get(url).status_code in (200, 302, 404)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_time_off_in_year_one_or_9999_is_a_form_error_and_not_saved(reception_client, clinic, frozen, day):
    _, physio = clinic
    response = reception_client.post("/staff/time-off/new/", {
        "practitioner": physio.pk, "date": day, "start_time": "09:00", "end_time": "24:00", "reason": "holiday",
    })
    assert response.status_code == 200
    assert "date" in response.context["form"].errors
    assert not TimeOff.objects.exists()


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "1e999999", "-5", "10.001"])
def test_cancel_refund_amount_that_is_not_money_is_a_form_error(reception_client, clinic, frozen, amount):
    service, physio = clinic
    booking = BookingFactory(practitioner=physio, service=service, start=datetime(2027, 1, 14, 10, tzinfo=LONDON))
    response = reception_client.post(f"/staff/bookings/{booking.pk}/cancel/",
                                     {"refund": "amount", "amount": amount, "reason": "test"})
    assert response.status_code == 200 and "amount" in response.context["form"].errors
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize("q", ["x" * 100_000, " ".join(["word"] * 1500)])
def test_patient_search_with_huge_queries_answers(reception_client, clinic, frozen, q, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = reception_client.post("/staff/book/", {"action": "search", "q": q})
    assert response.status_code == 200


def test_patient_search_with_a_nul_is_refused(reception_client, clinic):
    assert reception_client.get("/staff/book/?q=a%00b").status_code == 400


def test_desk_forms_refuse_year_9999_and_24_00(reception_client, clinic, frozen):
    service, physio = clinic
    patient = UserFactory()
    booking = BookingFactory(patient=patient, practitioner=physio, service=service,
                             start=datetime(2027, 1, 14, 10, tzinfo=LONDON))
    before = Booking.objects.count()
    book = reception_client.post("/staff/book/", {"practitioner": physio.pk, "service": service.pk,
                                                  "date": "9999-12-31", "time": "24:00", "patient_id": patient.pk,
                                                  "payment": "card", "hold_minutes": "1440"})
    assert book.status_code == 200 and "date" in book.context["form"].errors
    move = reception_client.post(f"/staff/bookings/{booking.pk}/move/", {"practitioner": physio.pk,
                                                                          "date": "9999-12-31", "time": "10:00"})
    assert move.status_code == 200 and "date" in move.context["form"].errors
    hours = reception_client.post(f"/staff/practitioners/{physio.pk}/hours/", {"effective_from": "9999-12-31",
                                                                              "d0_1_start": "09:00", "d0_1_end": "24:00"})
    assert hours.status_code == 200 and hours.context["form"].errors
    assert Booking.objects.count() == before
    booking.refresh_from_db()
    assert booking.start == datetime(2027, 1, 14, 10, tzinfo=LONDON)
