"""api.md rows: bookings create, list, detail, cancel, reschedule (patient; both kinds of auth)."""

import types
from datetime import datetime, timedelta

import pytest
import time_machine

from booking.availability import LONDON
from booking.models import Booking, UrgentAdvice
from offers.models import OfferCode, mailbox_hash
from outcomes.models import OutcomeScore
from payments import gateway
from payments import services as payments
from payments.models import Payment
from tests.factories import BookingFactory, OfferCodeFactory, UserFactory

from .support import INTAKE, NOW, TUESDAY_10, assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

BOOKING_FIELDS = {
    "id", "service", "practitioner", "start", "end", "status", "price_pence", "discount_pence", "amount_due_pence",
    "offer_code", "hold_expires_at", "checkout_url", "created_at",
}


def _book(api, **overrides):
    body = {"service": "sciatica-assessment", "start": TUESDAY_10.isoformat(), "intake": INTAKE, **overrides}
    return api.post("/api/v1/bookings/", {k: v for k, v in body.items() if v is not ...})


# --- create ----------------------------------------------------------------------


def test_create_holds_the_slot_and_returns_the_booking(api, clinic):
    response = _book(api, practitioner=clinic.physio_b.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert BOOKING_FIELDS <= set(body)
    booking = Booking.objects.get()
    assert booking.patient == api.user and booking.status == Booking.Status.HELD
    assert body["id"] == booking.pk
    assert body["service"] == "sciatica-assessment"
    assert body["practitioner"] == {"id": clinic.physio_b.pk, "name": clinic.physio_b.name}
    assert body["start"] == "2027-01-12T10:00:00+00:00" and body["end"] == "2027-01-12T10:45:00+00:00"
    assert body["status"] == "held"
    assert (body["price_pence"], body["discount_pence"], body["amount_due_pence"]) == (7500, 0, 7500)
    assert body["offer_code"] is None
    assert body["hold_expires_at"] == "2027-01-11T08:30:00+00:00"
    assert body["created_at"] == "2027-01-11T08:00:00+00:00"
    payment = Payment.objects.get(booking=booking)
    assert body["checkout_url"] == payment.checkout_url and body["checkout_url"]
    # ... and reading it back gives the same booking.
    assert api.get(f"/api/v1/bookings/{booking.pk}/").json() == body


def test_create_with_any_practitioner_and_an_offer_code(api, clinic):
    code = OfferCodeFactory(offer=clinic.offer, email=api.user.email, expires_at=NOW + timedelta(hours=3))
    body = _book(api, offer_code=code.display_code.lower()).json()
    assert body["practitioner"]["id"] in {clinic.physio_a.pk, clinic.physio_b.pk}
    assert (body["discount_pence"], body["amount_due_pence"], body["offer_code"]) == (1500, 6000, code.display_code)
    code.refresh_from_db()
    assert code.reserved_by_id == body["id"]


def test_create_a_follow_up_needs_no_intake(api, clinic):
    response = _book(api, service="follow-up", intake=...)
    assert response.status_code == 201
    assert response.json()["practitioner"]["id"] == clinic.physio_a.pk


def test_create_when_the_payment_provider_is_down_keeps_the_hold_without_checkout_url(api, clinic):
    def unavailable(request):
        raise gateway.GatewayUnavailable("down")

    gateway.use_gateway(types.ModuleType("down_gateway"))
    gateway.current().checkout_session_create = unavailable
    try:
        response = _book(api)
    finally:
        gateway.use_gateway(None)
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "held" and body["checkout_url"] is None
    assert Booking.objects.get().status == Booking.Status.HELD
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "overrides, code, field",
    [
        ({"service": ...}, "invalid", "service"),
        ({"start": ...}, "invalid", "start"),
        ({"start": "tomorrow at ten"}, "invalid", "start"),
        ({"start": "2027-01-12T10:00:00"}, "invalid", "start"),  # naive: which 10:00?
        ({"start": 1768212000}, "invalid", "start"),
        ({"start": "9999-12-31T23:59:59+14:00"}, "invalid", "start"),
        ({"practitioner": "one"}, "invalid", "practitioner"),
        ({"practitioner": 10**30}, "invalid", "practitioner"),
        ({"intake": "sore back"}, "invalid", "intake"),
        ({"offer_code": ["x"]}, "invalid", "offer_code"),
        ({"start": "2027-01-12T10:05:00+00:00"}, "invalid_start", None),  # off the grid
        ({"start": "2027-01-11T07:00:00+00:00"}, "invalid_start", None),  # past
        ({"start": "2027-01-11T09:00:00+00:00"}, "invalid_start", None),  # under 2 hours' notice
        ({"service": "no-such-service"}, "unknown_service", None),
        ({"practitioner": 987654}, "unknown_practitioner", None),
        ({"intake": ...}, "intake_required", None),
        ({"intake": {"pain_areas": [{}], "side": ["left"], "duration_weeks": "3"}}, "invalid_intake", "pain_areas"),
        ({"intake": {**INTAKE, "previous_injuries": "nul\x00"}}, "invalid_intake", "previous_injuries"),
    ],
)
def test_create_invalid_input_is_400_and_writes_nothing(api, clinic, overrides, code, field):
    body = assert_error(_book(api, **overrides), 400, code)
    if field:
        assert field in body["errors"]
    assert not Booking.objects.exists()


@pytest.mark.parametrize("reason", ["unknown", "expired", "not_yours", "wrong_service", "used", "not_first_session"])
def test_create_with_a_refused_offer_code_is_400_with_its_reason(api, clinic, reason):
    service = "sciatica-assessment"
    code = OfferCodeFactory(offer=clinic.offer, email=api.user.email, issued_at=NOW - timedelta(hours=1),
                            expires_at=NOW + timedelta(hours=3))
    if reason == "unknown":
        code.code = "FIRST2222222222"
    elif reason == "expired":
        OfferCode.objects.filter(pk=code.pk).update(expires_at=NOW - timedelta(minutes=1))
    elif reason == "not_yours":
        OfferCode.objects.filter(pk=code.pk).update(email="else@example.com", mailbox_hash=mailbox_hash("else@example.com"))
    elif reason == "wrong_service":
        service = "follow-up"
    elif reason == "used":
        other = BookingFactory(patient=UserFactory(), practitioner=clinic.physio_a, service=clinic.assessment)
        OfferCode.objects.filter(pk=code.pk).update(redeemed_by=other, redeemed_at=NOW)
    elif reason == "not_first_session":
        BookingFactory(patient=api.user, practitioner=clinic.physio_a, service=clinic.follow_up,
                       start=NOW - timedelta(days=30))
    before = Booking.objects.count()
    assert_error(_book(api, service=service, offer_code=code.code), 400, reason)
    assert Booking.objects.count() == before


def test_create_on_a_taken_slot_is_409_with_alternatives(api, clinic):
    for physio in (clinic.physio_a, clinic.physio_b):
        BookingFactory(practitioner=physio, service=clinic.assessment, start=TUESDAY_10)
    body = assert_error(_book(api), 409, "slot_taken")
    assert body["alternatives"]
    assert all(datetime.fromisoformat(a["start"]) != TUESDAY_10 for a in body["alternatives"])
    assert {"start", "end", "practitioner"} == set(body["alternatives"][0])
    assert Booking.objects.count() == 2


def test_create_with_red_flags_is_422_urgent_care_and_books_nothing(api, clinic):
    body = assert_error(_book(api, intake={**INTAKE, "saddle_numbness": True}), 422, "urgent_care")
    assert "A&E now or call 999" in body["detail"] and "111" in body["detail"]
    assert body["signs"] == ["saddle_numbness"]
    assert not Booking.objects.exists()


@pytest.mark.parametrize("intake", [
    # Both signs answered, every other question skipped.
    {"bladder_or_bowel_changes": True, "saddle_numbness": True},
    # Otherwise invalid answers and an unknown question beside a sign.
    {"pain_areas": "everywhere", "side": "up", "duration_weeks": -3, "surprise": 1, "saddle_numbness": True},
])
def test_urgent_care_422_comes_first_with_otherwise_invalid_intake(api, clinic, intake):
    body = assert_error(_book(api, intake=intake), 422, "urgent_care")
    assert "saddle_numbness" in body["signs"]
    assert not Booking.objects.exists() and not Payment.objects.exists()
    advice = UrgentAdvice.objects.get()
    assert advice.source == "api" and advice.booking is None and "saddle_numbness" in advice.signs


def test_urgent_care_422_comes_first_even_with_a_bad_start_and_service(api, clinic):
    response = _book(api, service="no-such-service", start="tomorrow", intake={"worsening_weakness_both_legs": True})
    assert_error(response, 422, "urgent_care")
    assert not Booking.objects.exists()


def test_intake_without_urgent_signs_is_still_checked_field_by_field(api, clinic):
    body = assert_error(_book(api, intake={"pain_areas": [], "saddle_numbness": False}), 400, "invalid_intake")
    assert "pain_areas" in body["errors"]
    assert not UrgentAdvice.objects.exists()


def test_the_intake_takes_the_two_outcome_scales_as_optional_fields(api, clinic):
    """api.md's intake plus optional leg_pain / activity_limit (0-10): recorded as the visit's outcome score."""
    response = _book(api, intake={**INTAKE, "leg_pain": 8, "activity_limit": 6})
    assert response.status_code == 201, response.content
    score = OutcomeScore.objects.get()
    assert (score.booking_id, score.leg_pain, score.activity_limit) == (response.json()["id"], 8, 6)
    assert "leg_pain" not in Booking.objects.get().intake
    # Without them, as before: booked, no score.
    assert _book(api, start="2027-01-12T14:00:00+00:00").status_code == 201
    assert OutcomeScore.objects.count() == 1


@pytest.mark.parametrize("scales, bad", [
    ({"leg_pain": 11, "activity_limit": 3}, {"leg_pain"}),
    ({"leg_pain": -1, "activity_limit": 2.5}, {"leg_pain", "activity_limit"}),
    ({"leg_pain": "5", "activity_limit": True}, {"leg_pain", "activity_limit"}),
    ({"leg_pain": 4}, {"activity_limit"}),  # one without the other
])
def test_a_bad_outcome_scale_is_a_400_naming_it_and_books_nothing(api, clinic, scales, bad):
    body = assert_error(_book(api, intake={**INTAKE, **scales}), 400, "invalid_intake")
    assert set(body["errors"]) == bad
    assert not Booking.objects.exists() and not OutcomeScore.objects.exists() and not Payment.objects.exists()


def test_urgent_care_422_comes_first_whatever_the_outcome_scales_say(api, clinic):
    assert_error(_book(api, intake={"saddle_numbness": True, "leg_pain": 99, "activity_limit": "x"}), 422, "urgent_care")
    assert not Booking.objects.exists() and not OutcomeScore.objects.exists()


def test_create_needs_login(anon, clinic):
    assert_error(_book(anon), 401, "not_authenticated")
    assert not Booking.objects.exists()


def test_create_is_throttled_per_account(api, clinic, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "booking_create": "1/hour"}}
    assert _book(api, service="follow-up", intake=..., start="2027-01-12T09:00:00+00:00").status_code == 201
    refused = _book(api, service="follow-up", intake=..., start="2027-01-12T11:00:00+00:00")
    assert_error(refused, 429, "throttled")
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert Booking.objects.count() == 1
    # Reading is not throttled.
    assert api.get("/api/v1/bookings/").status_code == 200


# --- list and detail -------------------------------------------------------------------


def test_list_own_bookings_newest_start_first(api, clinic, django_assert_max_num_queries):
    mine = [
        BookingFactory(patient=api.user, practitioner=clinic.physio_a, service=clinic.follow_up,
                       start=NOW + timedelta(days=d, hours=2))
        for d in (3, 10, 1)
    ]
    held = _book(api).json()
    BookingFactory(patient=UserFactory(), practitioner=clinic.physio_b, service=clinic.assessment)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/bookings/")
    assert response.status_code == 200
    body = response.json()
    assert [b["id"] for b in body] == [mine[1].pk, mine[0].pk, held["id"], mine[2].pk]
    assert all(BOOKING_FIELDS <= set(b) for b in body)
    assert body[2]["checkout_url"] == held["checkout_url"]


def test_list_and_detail_need_login(anon, clinic):
    assert_error(anon.get("/api/v1/bookings/"), 401, "not_authenticated")
    booking = BookingFactory(practitioner=clinic.physio_a, service=clinic.assessment)
    assert_error(anon.get(f"/api/v1/bookings/{booking.pk}/"), 401, "not_authenticated")


def test_someone_elses_booking_is_404_never_403(api, clinic):
    theirs = BookingFactory(patient=UserFactory(), practitioner=clinic.physio_a, service=clinic.assessment)
    start = theirs.start
    assert_error(api.get(f"/api/v1/bookings/{theirs.pk}/"), 404, "not_found")
    assert_error(api.post(f"/api/v1/bookings/{theirs.pk}/cancel/", {}), 404, "not_found")
    assert_error(api.post(f"/api/v1/bookings/{theirs.pk}/reschedule/",
                          {"start": "2027-01-13T10:00:00+00:00"}), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.status == Booking.Status.CONFIRMED and theirs.start == start
    for missing in (theirs.pk + 1000, 0, 2**63, 10**40):
        assert_error(api.get(f"/api/v1/bookings/{missing}/"), 404, "not_found")


# --- cancel ----------------------------------------------------------------------------


def test_cancel_a_held_booking_refunds_nothing(api, clinic):
    held = _book(api).json()
    response = api.post(f"/api/v1/bookings/{held['id']}/cancel/", {"reason": "Changed my mind"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled" and body["refund_pence"] == 0 and body["checkout_url"] is None
    assert BOOKING_FIELDS <= set(body)
    assert Booking.objects.get().status == Booking.Status.CANCELLED


def test_cancel_a_paid_booking_outside_the_window_refunds_in_full(api, clinic):
    held = Booking.objects.get(pk=_book(api).json()["id"])
    payments.payment_record_at_clinic(booking=held, method=Payment.Method.CARD_TERMINAL, actor=None)
    body = api.post(f"/api/v1/bookings/{held.pk}/cancel/").json()
    assert body["status"] == "cancelled" and body["refund_pence"] == 7500


def test_cancel_inside_the_window_refunds_nothing(api, clinic):
    held = Booking.objects.get(pk=_book(api).json()["id"])
    payments.payment_record_at_clinic(booking=held, method=Payment.Method.CASH, actor=None)
    with time_machine.travel(TUESDAY_10 - timedelta(hours=3), tick=False):
        body = api.post(f"/api/v1/bookings/{held.pk}/cancel/", {"reason": ""}).json()
    assert body["status"] == "cancelled" and body["refund_pence"] == 0


def test_cancel_twice_or_after_the_start_is_409(api, clinic):
    held = _book(api).json()
    assert api.post(f"/api/v1/bookings/{held['id']}/cancel/").status_code == 200
    assert_error(api.post(f"/api/v1/bookings/{held['id']}/cancel/"), 409, "not_cancellable")
    past = BookingFactory(patient=api.user, practitioner=clinic.physio_a, service=clinic.follow_up,
                          start=NOW - timedelta(hours=1))
    assert_error(api.post(f"/api/v1/bookings/{past.pk}/cancel/"), 409, "not_cancellable")
    assert_error(api.post(f"/api/v1/bookings/{held['id']}/cancel/", {"reason": 5 * ["x"]}), 400, "invalid")


# --- reschedule ------------------------------------------------------------------------


def test_reschedule_moves_the_booking(api, clinic):
    held = _book(api, practitioner=clinic.physio_a.pk).json()
    response = api.post(f"/api/v1/bookings/{held['id']}/reschedule/",
                        {"start": "2027-01-13T14:00:00Z", "practitioner": clinic.physio_b.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == held["id"] and body["status"] == "held"
    assert body["start"] == "2027-01-13T14:00:00+00:00"
    assert body["practitioner"]["id"] == clinic.physio_b.pk
    same_physio = api.post(f"/api/v1/bookings/{held['id']}/reschedule/", {"start": "2027-01-14T09:00:00+00:00"})
    assert same_physio.json()["practitioner"]["id"] == clinic.physio_b.pk


def test_reschedule_onto_a_taken_slot_is_409_slot_taken(api, clinic):
    held = _book(api, practitioner=clinic.physio_a.pk).json()
    BookingFactory(practitioner=clinic.physio_a, service=clinic.assessment,
                   start=datetime(2027, 1, 13, 14, 0, tzinfo=LONDON))
    body = assert_error(api.post(f"/api/v1/bookings/{held['id']}/reschedule/", {"start": "2027-01-13T14:00:00+00:00"}),
                        409, "slot_taken")
    assert body["alternatives"]
    assert Booking.objects.get(pk=held["id"]).start == TUESDAY_10


def test_reschedule_inside_the_policy_window_is_409(api, clinic):
    held = _book(api).json()
    booking = Booking.objects.get(pk=held["id"])
    payments.payment_record_at_clinic(booking=booking, method=Payment.Method.CASH, actor=None)
    with time_machine.travel(TUESDAY_10 - timedelta(hours=5), tick=False):
        assert_error(api.post(f"/api/v1/bookings/{held['id']}/reschedule/", {"start": "2027-01-14T10:00:00+00:00"}),
                     409, "policy_window")


def test_reschedule_bad_input(api, clinic):
    held = _book(api).json()
    path = f"/api/v1/bookings/{held['id']}/reschedule/"
    assert_error(api.post(path, {}), 400, "invalid")
    assert_error(api.post(path, {"start": "2027-01-14T10:00:00"}), 400, "invalid")
    assert_error(api.post(path, {"start": "2027-01-14T10:07:00+00:00"}), 400, "invalid_start")
    assert_error(api.post(path, {"start": "2027-01-14T10:00:00+00:00", "practitioner": 424242}), 400, "unknown_practitioner")
    api.post(f"/api/v1/bookings/{held['id']}/cancel/")
    assert_error(api.post(path, {"start": "2027-01-14T10:00:00+00:00"}), 409, "not_reschedulable")


def test_cancel_and_reschedule_need_login(anon, clinic):
    booking = BookingFactory(practitioner=clinic.physio_a, service=clinic.assessment)
    assert_error(anon.post(f"/api/v1/bookings/{booking.pk}/cancel/"), 401, "not_authenticated")
    assert_error(anon.post(f"/api/v1/bookings/{booking.pk}/reschedule/", {"start": "2027-01-14T10:00:00Z"}),
                 401, "not_authenticated")


def test_a_lapsed_hold_reads_expired_without_a_checkout_url(api, clinic):
    held = _book(api).json()
    assert held["status"] == "held" and held["checkout_url"]
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        body = api.get(f"/api/v1/bookings/{held['id']}/").json()
    assert body["status"] == "expired" and body["checkout_url"] is None
    assert Booking.objects.get().status == Booking.Status.HELD  # the clean-up job has not run
