"""The code's life on a booking: reserve at hold (price locked), redeem on payment, release on lapse or cancel."""

from datetime import timedelta

import pytest
import time_machine

from payments.services import booking_cancel
from booking import services as booking_services
from booking.exceptions import OfferExpired, OfferUsed
from booking.models import Booking
from offers.models import OfferCode
from offers.services import offer_code_claim
from payments import local_gateway
from payments import services as payments
from payments.models import Payment

from .conftest import INTAKE, MONDAY_8AM

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

ISSUED = MONDAY_8AM
TUESDAY_10AM = MONDAY_8AM + timedelta(days=1, hours=2)
TUESDAY_11AM = TUESDAY_10AM + timedelta(hours=1)


@pytest.fixture
def code(offer, patient):
    with time_machine.travel(ISSUED, tick=False):
        return offer_code_claim(email=patient.email).code


def hold(patient, service, start, at, code_text=None, practitioner=None):
    with time_machine.travel(at, tick=False):
        return booking_services.booking_hold(
            patient=patient, service=service, start=start, practitioner=practitioner, offer_code=code_text, intake=INTAKE
        )


def pay(booking, at):
    """Drive a payment the way the local test checkout does: start, pay at the 'provider', completed."""
    with time_machine.travel(at, tick=False):
        payment = payments.payment_start(booking=booking)
        session = local_gateway.checkout_session_pay(payment.checkout_session_id)
        payments.payment_checkout_completed(session=session)
    payment.refresh_from_db()
    booking.refresh_from_db()
    return payment


def state(code, at):
    code.refresh_from_db()
    return code.state_at(at)


def test_a_hold_reserves_the_code_and_locks_the_discounted_price(code, patient, sciatica, physio):
    booking = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.display_code.lower())
    assert (booking.price_pence, booking.discount_pence, booking.amount_due_pence) == (7500, 1500, 6000)
    assert booking.offer_code == code
    assert state(code, ISSUED + timedelta(hours=1)) == OfferCode.State.RESERVED
    assert OfferCode.objects.with_state(ISSUED + timedelta(hours=1)).get().state == "reserved"


def test_a_hold_at_23_59_paid_after_24_00_keeps_the_discount_and_redeems(code, patient, sciatica, physio):
    at_23_59 = ISSUED + timedelta(hours=23, minutes=59)
    booking = hold(patient, sciatica, TUESDAY_10AM, at_23_59, code.code)
    assert booking.amount_due_pence == 6000
    after_24_00 = ISSUED + timedelta(hours=24, minutes=10)  # the code's 24 hours are over; the hold (30 min) is not
    payment = pay(booking, after_24_00)
    assert payment.status == Payment.Status.SUCCEEDED and payment.amount_pence == 6000
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.amount_due_pence == 6000 and booking.discount_pence == 1500
    code.refresh_from_db()
    assert code.redeemed_by == booking and code.reserved_by is None
    assert code.redeemed_at == after_24_00
    assert state(code, after_24_00) == OfferCode.State.REDEEMED


def test_a_hold_made_at_24_00_is_refused_as_expired_and_writes_nothing(code, patient, sciatica, physio):
    with pytest.raises(OfferExpired):
        hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=24), code.code)
    assert not Booking.objects.exists()


def test_redeemed_code_cannot_be_used_again(code, patient, sciatica, physio):
    booking = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.code)
    pay(booking, ISSUED + timedelta(hours=1, minutes=5))
    with pytest.raises(OfferUsed):
        hold(patient, sciatica, TUESDAY_11AM, ISSUED + timedelta(hours=2), code.code)


def test_a_second_hold_while_the_first_stands_is_refused(code, patient, sciatica, physio):
    hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.code)
    with pytest.raises(OfferUsed):
        hold(patient, sciatica, TUESDAY_11AM, ISSUED + timedelta(hours=1, minutes=5), code.code)
    assert Booking.objects.count() == 1


def test_a_lapsed_hold_releases_the_code_via_clean_up(code, patient, sciatica, physio):
    booking = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.code)
    lapsed_at = ISSUED + timedelta(hours=1, minutes=30)
    booking_services.bookings_expire_lapsed(now=lapsed_at)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    assert state(code, lapsed_at) == OfferCode.State.AVAILABLE
    again = hold(patient, sciatica, TUESDAY_11AM, lapsed_at + timedelta(minutes=1), code.code)
    assert again.discount_pence == 1500
    assert state(code, lapsed_at) == OfferCode.State.RESERVED
    code.refresh_from_db()
    assert code.reserved_by == again


def test_a_lapsed_hold_releases_the_code_to_a_new_hold_without_clean_up(code, patient, sciatica, physio):
    first = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.code)
    # 30 minutes later, no clean-up job ran: the first booking is still "held" in the table.
    second = hold(patient, sciatica, TUESDAY_11AM, ISSUED + timedelta(hours=1, minutes=30), code.code)
    assert second.discount_pence == 1500
    code.refresh_from_db()
    assert code.reserved_by == second
    first.refresh_from_db()
    assert first.status == Booking.Status.HELD and first.hold_expires_at <= ISSUED + timedelta(hours=1, minutes=30)
    # Clean-up later does not take the code from the new hold.
    booking_services.bookings_expire_lapsed(now=ISSUED + timedelta(hours=1, minutes=35))
    code.refresh_from_db()
    assert code.reserved_by == second


def test_a_released_code_is_still_refused_once_its_24_hours_are_over(code, patient, sciatica, physio):
    hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=23, minutes=45), code.code)
    with pytest.raises(OfferExpired):
        hold(patient, sciatica, TUESDAY_11AM, ISSUED + timedelta(hours=24, minutes=16), code.code)


def test_cancelling_an_unpaid_booking_releases_the_code(code, patient, sciatica, physio):
    booking = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.code)
    with time_machine.travel(ISSUED + timedelta(hours=1, minutes=5), tick=False):
        booking_cancel(booking=booking, actor=patient, reason="Changed my mind")
    assert state(code, ISSUED + timedelta(hours=1, minutes=5)) == OfferCode.State.AVAILABLE
    again = hold(patient, sciatica, TUESDAY_11AM, ISSUED + timedelta(hours=1, minutes=6), code.code)
    assert again.amount_due_pence == 6000


def test_cancelling_a_paid_booking_keeps_the_code_redeemed(code, patient, sciatica, physio):
    booking = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.code)
    pay(booking, ISSUED + timedelta(hours=1, minutes=5))
    with time_machine.travel(ISSUED + timedelta(hours=2), tick=False):
        booking_cancel(booking=booking, actor=patient, reason="Can't come")
    assert state(code, ISSUED + timedelta(hours=2)) == OfferCode.State.REDEEMED


def test_checkout_expiry_releases_the_code(code, patient, sciatica, physio):
    booking = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.code)
    with time_machine.travel(ISSUED + timedelta(hours=1, minutes=1), tick=False):
        payment = payments.payment_start(booking=booking)
        payments.payment_checkout_expired(session_id=payment.checkout_session_id)
    assert state(code, ISSUED + timedelta(hours=1, minutes=1)) == OfferCode.State.AVAILABLE


def test_late_payment_for_a_lapsed_hold_whose_code_went_to_a_new_hold_is_refunded(code, patient, sciatica, physio):
    first = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=1), code.code)
    with time_machine.travel(ISSUED + timedelta(hours=1, minutes=2), tick=False):
        first_payment = payments.payment_start(booking=first)
    second = hold(patient, sciatica, TUESDAY_11AM, ISSUED + timedelta(hours=1, minutes=40), code.code)
    # The first checkout's payment arrives late (clocks differ): it must not take the code from the second hold.
    with time_machine.travel(ISSUED + timedelta(hours=1, minutes=41), tick=False):
        session = local_gateway.checkout_session_pay(first_payment.checkout_session_id)
        payments.payment_checkout_completed(session=session)
    first_payment.refresh_from_db()
    first.refresh_from_db()
    assert first_payment.auto_refunded
    assert first.status != Booking.Status.CONFIRMED
    code.refresh_from_db()
    assert code.reserved_by == second and code.redeemed_by is None
    pay(second, ISSUED + timedelta(hours=1, minutes=45))
    code.refresh_from_db()
    assert code.redeemed_by == second


def test_late_payment_for_a_lapsed_hold_with_its_code_still_free_redeems_it(code, patient, sciatica, physio):
    first = hold(patient, sciatica, TUESDAY_10AM, ISSUED + timedelta(hours=23, minutes=50), code.code)
    with time_machine.travel(ISSUED + timedelta(hours=23, minutes=51), tick=False):
        payment = payments.payment_start(booking=first)
    booking_services.bookings_expire_lapsed(now=ISSUED + timedelta(hours=24, minutes=21))
    with time_machine.travel(ISSUED + timedelta(hours=24, minutes=22), tick=False):
        session = local_gateway.checkout_session_pay(payment.checkout_session_id)
        payments.payment_checkout_completed(session=session)
    first.refresh_from_db()
    assert first.status == Booking.Status.CONFIRMED and first.amount_due_pence == 6000
    code.refresh_from_db()
    assert code.redeemed_by == first
