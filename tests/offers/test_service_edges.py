"""The offer services where a one-row database or a frozen wall clock would hide a bug.

Each test here closes a hole found by mutation testing (`make mutation`): with
only one code, one patient or one practitioner in the database, or with `now`
always equal to the wall clock, a wrong filter or an ignored argument passed.
So these tests put a second code, a second patient's history, or a `now` far
from the real clock into play.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from booking.exceptions import OfferNotFirstSession, OfferUsed
from booking.models import Booking
from offers.models import OfferCode
from offers.services import (
    OfferLost,
    offer_code_attach,
    offer_code_claim,
    offer_code_redeem,
    offer_code_release,
    offer_code_reserve,
    offer_code_validate,
)
from payments.models import Payment
from tests.factories import BookingFactory, OfferCodeFactory, UserFactory

from .conftest import INTAKE, MONDAY_8AM

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

# The moment each test passes as `now`, and a wall clock frozen ten days later
# (and on a fraction of a second): a service that ignored the `now` it was
# given would read the wall clock and be caught.
THEN = MONDAY_8AM
WALL_CLOCK = THEN + timedelta(days=10, microseconds=250_000)


@pytest.fixture(autouse=True)
def wall_clock():
    with time_machine.travel(WALL_CLOCK, tick=False):
        yield


@pytest.fixture
def code(offer, patient):
    return offer_code_claim(email=patient.email, now=THEN).code


@pytest.fixture
def bystander_code(offer):
    """Someone else's code, so a write that forgot its `pk=` filter would hit two rows."""
    return offer_code_claim(email="bystander@example.com", now=THEN).code


def held(patient, service, code=None, start=THEN + timedelta(days=1, hours=2), **fields):
    """A held booking written directly (no rules checked), optionally carrying a code."""
    defaults = {"status": Booking.Status.HELD, "hold_expires_at": THEN + timedelta(minutes=30)}
    defaults.update(fields)
    return BookingFactory(patient=patient, service=service, start=start, offer_code=code, **defaults)


# --- `now` is the one passed, not the wall clock -------------------------------------


def test_a_claim_dates_the_code_from_the_now_it_is_given(offer):
    code = offer_code_claim(email="early@example.com", now=THEN).code
    code.refresh_from_db()
    assert code.issued_at == THEN
    assert code.expires_at == THEN + timedelta(hours=24)


def test_validation_judges_expiry_at_the_now_it_is_given(code, patient, sciatica):
    # The wall clock is long past the code's 24 hours; at THEN + 1 hour it is valid.
    assert timezone.now() > code.expires_at
    quote = offer_code_validate(code_text=code.code, patient=patient, service=sciatica, now=THEN + timedelta(hours=1))
    assert quote.amount_due_pence == 6000


def test_redeeming_stamps_redeemed_at_with_the_now_it_is_given(code, patient, sciatica):
    booking = held(patient, sciatica, code)
    offer_code_attach(code=code, booking=booking)
    offer_code_redeem(booking=booking, now=THEN + timedelta(minutes=7))
    code.refresh_from_db()
    assert code.redeemed_by == booking and code.reserved_by is None
    assert code.redeemed_at == THEN + timedelta(minutes=7)


def test_redeeming_without_a_now_stamps_the_current_time_never_null(code, patient, sciatica):
    booking = held(patient, sciatica, code)
    offer_code_attach(code=code, booking=booking)
    with time_machine.travel(THEN + timedelta(minutes=9), tick=False):
        offer_code_redeem(booking=booking)
    code.refresh_from_db()
    assert code.redeemed_at == THEN + timedelta(minutes=9)


# --- writes touch their own code only ------------------------------------------------


def test_attaching_reserves_only_that_code(code, bystander_code, patient, sciatica):
    booking = held(patient, sciatica, code)
    offer_code_attach(code=code, booking=booking)
    code.refresh_from_db()
    bystander_code.refresh_from_db()
    assert code.reserved_by == booking
    assert bystander_code.reserved_by is None and bystander_code.redeemed_by is None


def test_redeeming_spends_only_that_code(code, bystander_code, patient, sciatica):
    booking = held(patient, sciatica, code)
    offer_code_attach(code=code, booking=booking)
    offer_code_redeem(booking=booking, now=THEN + timedelta(minutes=5))
    bystander_code.refresh_from_db()
    assert bystander_code.redeemed_by is None and bystander_code.redeemed_at is None
    code.refresh_from_db()
    assert code.redeemed_by == booking


def test_releasing_frees_only_that_bookings_code(code, bystander_code, patient, sciatica):
    mine = held(patient, sciatica, code)
    offer_code_attach(code=code, booking=mine)
    theirs = held(UserFactory(email="bystander@example.com"), sciatica, bystander_code, start=THEN + timedelta(days=2))
    offer_code_attach(code=bystander_code, booking=theirs)
    offer_code_release(booking=mine)
    code.refresh_from_db()
    bystander_code.refresh_from_db()
    assert code.reserved_by is None
    assert bystander_code.reserved_by == theirs


def test_releasing_never_frees_a_redeemed_code(code, patient, sciatica):
    booking = held(patient, sciatica, code)
    OfferCode.objects.filter(pk=code.pk).update(reserved_by=booking, redeemed_by=booking, redeemed_at=THEN)
    offer_code_release(booking=booking)
    code.refresh_from_db()
    assert code.reserved_by == booking and code.redeemed_by == booking


def test_reserving_over_a_lapsed_hold_clears_only_that_reservation(code, bystander_code, patient, sciatica):
    lapsed = held(patient, sciatica, code, hold_expires_at=THEN)
    OfferCode.objects.filter(pk=code.pk).update(reserved_by=lapsed)
    other = held(UserFactory(email="bystander@example.com"), sciatica, bystander_code, start=THEN + timedelta(days=2))
    OfferCode.objects.filter(pk=bystander_code.pk).update(reserved_by=other)
    quote = offer_code_reserve(code_text=code.code, patient=patient, service=sciatica, now=THEN + timedelta(minutes=1))
    assert quote.code.reserved_by_id is None and quote.discount_pence == 1500
    code.refresh_from_db()
    bystander_code.refresh_from_db()
    assert code.reserved_by is None
    assert bystander_code.reserved_by == other


# --- the database has the last word: attach refuses a taken code ----------------------


def test_attaching_a_code_another_booking_reserved_meanwhile_is_refused(code, patient, sciatica):
    first = held(patient, sciatica, code)
    OfferCode.objects.filter(pk=code.pk).update(reserved_by=first)
    second = held(patient, sciatica, code, start=THEN + timedelta(days=2))
    with pytest.raises(OfferUsed):
        offer_code_attach(code=code, booking=second)  # `code` is the stale, unreserved copy
    code.refresh_from_db()
    assert code.reserved_by == first


def test_attaching_a_code_redeemed_meanwhile_is_refused(code, patient, sciatica):
    paid = held(patient, sciatica, code, status=Booking.Status.CONFIRMED)
    OfferCode.objects.filter(pk=code.pk).update(redeemed_by=paid, redeemed_at=THEN)
    second = held(patient, sciatica, code, start=THEN + timedelta(days=2))
    with pytest.raises(OfferUsed):
        offer_code_attach(code=code, booking=second)
    code.refresh_from_db()
    assert code.reserved_by is None and code.redeemed_by == paid


# --- redeem: duplicate webhooks and late payments ------------------------------------


def test_redeeming_twice_for_the_same_booking_is_harmless(code, patient, sciatica):
    """A duplicate webhook redeems again: no error, and the first redemption's time stands."""
    booking = held(patient, sciatica, code)
    offer_code_attach(code=code, booking=booking)
    offer_code_redeem(booking=booking, now=THEN + timedelta(minutes=5))
    offer_code_redeem(booking=booking, now=THEN + timedelta(minutes=6))
    code.refresh_from_db()
    assert code.redeemed_by == booking
    assert code.redeemed_at == THEN + timedelta(minutes=5)


def test_a_late_payment_cannot_redeem_a_code_another_booking_already_redeemed(code, patient, sciatica):
    lapsed = held(patient, sciatica, code, hold_expires_at=THEN)  # its reservation was cleared by the next hold
    paid = held(patient, sciatica, code, start=THEN + timedelta(days=2), status=Booking.Status.CONFIRMED)
    OfferCode.objects.filter(pk=code.pk).update(redeemed_by=paid, redeemed_at=THEN + timedelta(minutes=40))
    with pytest.raises(OfferLost):
        offer_code_redeem(booking=lapsed, now=THEN + timedelta(minutes=50))
    code.refresh_from_db()
    assert code.redeemed_by == paid and code.redeemed_at == THEN + timedelta(minutes=40)


def test_a_late_payment_cannot_redeem_a_code_another_hold_now_reserves(code, patient, sciatica):
    lapsed = held(patient, sciatica, code, hold_expires_at=THEN)
    current = held(patient, sciatica, code, start=THEN + timedelta(days=2))
    OfferCode.objects.filter(pk=code.pk).update(reserved_by=current)
    with pytest.raises(OfferLost):
        offer_code_redeem(booking=lapsed, now=THEN + timedelta(minutes=50))
    code.refresh_from_db()
    assert code.reserved_by == current and code.redeemed_by is None


def test_a_booking_without_a_code_redeems_nothing(code, patient, sciatica):
    booking = held(patient, sciatica, None)
    offer_code_redeem(booking=booking, now=THEN)
    code.refresh_from_db()
    assert code.redeemed_by is None and code.redeemed_at is None


# --- first session: only the patient's own history counts ------------------------------


def test_another_patients_sessions_and_payments_do_not_refuse_the_offer(code, patient, sciatica, follow_up):
    regular = UserFactory(email="regular@example.com")
    for status in (Booking.Status.ATTENDED, Booking.Status.NO_SHOW, Booking.Status.CONFIRMED):
        BookingFactory(patient=regular, service=follow_up, status=status, start=THEN - timedelta(days=30))
    cancelled = BookingFactory(patient=regular, service=follow_up, status=Booking.Status.CANCELLED,
                               start=THEN - timedelta(days=20))
    Payment.objects.create(booking=cancelled, method=Payment.Method.CASH, status=Payment.Status.REFUNDED,
                           amount_pence=6000, idempotency_key="other-patient")
    quote = offer_code_validate(code_text=code.code, patient=patient, service=sciatica, now=THEN)
    assert quote.amount_due_pence == 6000
    # The same history on the patient's own account refuses it.
    BookingFactory(patient=patient, service=follow_up, status=Booking.Status.ATTENDED, start=THEN - timedelta(days=30))
    with pytest.raises(OfferNotFirstSession):
        offer_code_validate(code_text=code.code, patient=patient, service=sciatica, now=THEN)


def test_a_pending_payment_does_not_count_as_a_first_session(code, patient, sciatica, follow_up):
    booking = BookingFactory(patient=patient, service=follow_up, status=Booking.Status.CANCELLED)
    Payment.objects.create(booking=booking, method=Payment.Method.LOCAL_TEST, status=Payment.Status.PENDING,
                           amount_pence=6000, idempotency_key="pending")
    assert offer_code_validate(code_text=code.code, patient=patient, service=sciatica, now=THEN).discount_pence == 1500


# --- claims after the campaign ---------------------------------------------------------


def test_a_code_holder_claiming_after_the_campaign_ended_still_gets_their_code(code, offer):
    offer.active = False
    offer.save()
    again = offer_code_claim(email="  SAM.patient@example.com ", now=THEN + timedelta(days=2))
    assert not again.created
    assert again.code.pk == code.pk and again.code.expires_at == THEN + timedelta(hours=24)
    assert OfferCode.objects.count() == 1


def test_claiming_from_an_ended_campaign_passed_explicitly_is_refused(offer):
    from offers.services import NoOfferRunning

    offer.active = False
    offer.save()
    with pytest.raises(NoOfferRunning):
        offer_code_claim(email="new@example.com", offer=offer, now=THEN)
    assert not OfferCode.objects.exists()


def test_a_code_issued_by_staff_records_who_and_a_patients_claim_records_nobody(offer):
    from tests.factories import StaffFactory

    staff = StaffFactory()
    by_hand = offer_code_claim(email="caller@example.com", issued_by=staff, now=THEN).code
    by_page = offer_code_claim(email="walkin@example.com", now=THEN).code
    assert by_hand.issued_by == staff
    assert by_page.issued_by is None


# --- the shape of a code ------------------------------------------------------------------


def test_a_claimed_code_looks_like_first_and_three_groups_of_four():
    """Checked against the literal format, not the module's own constants."""
    from offers.services import generate_code

    for _ in range(200):
        raw = generate_code()
        assert re.fullmatch(r"FIRST[2-9A-HJKMNP-TV-Z]{12}", raw), raw
        assert re.fullmatch(r"FIRST(-[2-9A-HJKMNP-TV-Z]{4}){3}", OfferCodeFactory.build(code=raw).display_code)


def test_a_claimed_code_is_stored_in_the_literal_shape(offer):
    code = offer_code_claim(email="shape@example.com", now=THEN).code
    code.refresh_from_db()
    assert re.fullmatch(r"FIRST[2-9A-HJKMNP-TV-Z]{12}", code.code)


def test_holding_with_a_code_through_booking_hold_reserves_that_code_only(code, bystander_code, patient, sciatica, physio):
    from booking import services as booking_services

    with time_machine.travel(THEN, tick=False):
        booking = booking_services.booking_hold(
            patient=patient, service=sciatica, start=THEN + timedelta(days=1, hours=2), practitioner=physio,
            offer_code=code.display_code, intake=INTAKE,
        )
    code.refresh_from_db()
    bystander_code.refresh_from_db()
    assert code.reserved_by == booking and bystander_code.reserved_by is None


# --- another hold's reservation: live or lapsed at the `now` given ------------------------


def test_a_code_on_another_hold_live_at_the_now_given_is_refused_whatever_the_wall_clock(code, patient, sciatica):
    # The hold lapses at THEN + 2 hours: live at THEN + 1 hour, long lapsed by the wall clock.
    other = held(patient, sciatica, code, hold_expires_at=THEN + timedelta(hours=2))
    OfferCode.objects.filter(pk=code.pk).update(reserved_by=other)
    with pytest.raises(OfferUsed, match=r"^This offer code is already on another booking that is awaiting payment\.$"):
        offer_code_validate(code_text=code.code, patient=patient, service=sciatica, now=THEN + timedelta(hours=1))
    quote = offer_code_validate(code_text=code.code, patient=patient, service=sciatica, now=THEN + timedelta(hours=2))
    assert quote.discount_pence == 1500


def test_checking_a_code_for_the_hold_that_reserves_it_is_not_refused(code, patient, sciatica):
    from offers.services import offer_code_check

    mine = held(patient, sciatica, code, hold_expires_at=THEN + timedelta(hours=2))
    OfferCode.objects.filter(pk=code.pk).update(reserved_by=mine)
    code.refresh_from_db()
    now = THEN + timedelta(hours=1)
    assert offer_code_check(code=code, patient=patient, service=sciatica, now=now, for_booking=mine) == 20
    with pytest.raises(OfferUsed):
        offer_code_check(code=code, patient=patient, service=sciatica, now=now)
