"""Money at the desk: pay at the clinic leaves an amount due; Take payment records it with who took it;
a receipt for every payment; the day's takings by method and practitioner."""

from datetime import datetime, time
from functools import partial

import pytest
from django.core import mail
from django.urls import reverse

from booking.availability import LONDON
from booking.calendar import calendar_days
from booking.exceptions import NothingToPay
from booking.models import Booking, BookingEvent
from booking.staff import services as desk
from payments import services as payment_services
from payments.models import Payment
from payments.receipts import takings_for_day
from tests.factories import BookingFactory, ReceptionistFactory, UserFactory
from tests.races import race, split

NOW = datetime(2027, 1, 12, 8, 30, tzinfo=LONDON)
TUESDAY = NOW.date()


def at(hour, minute=0):
    return datetime.combine(TUESDAY, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def owing(physios, services, patient, reception):
    """Paula booked by phone to pay at the clinic: confirmed, £60 due."""
    result = desk.reception_book(patient=patient, service=services[1], practitioner=physios[0], start=at(10),
                                 payment=desk.PAY_AT_CLINIC, actor=reception)
    return result.booking


@pytest.mark.django_db
def test_pay_at_clinic_shows_the_amount_due_on_calendar_booking_page_and_email(
        frozen, reception_client, physios, services, reception, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        booking = desk.reception_book(
            patient=UserFactory(first_name="Ema", last_name="Ill"), service=services[1], practitioner=physios[0],
            start=at(10), payment=desk.PAY_AT_CLINIC, actor=reception).booking
    assert booking.status == Booking.Status.CONFIRMED
    (pday, _) = calendar_days(date_from=TUESDAY, date_to=TUESDAY)
    assert [b.due_pence for b in pday.bookings] == [6000]
    assert "£60.00 due" in reception_client.get(reverse("staff:day", args=["2027-01-12"])).content.decode()
    page = reception_client.get(reverse("staff:booking", args=[booking.pk])).content.decode()
    assert "To pay at the clinic" in page and "Take payment: £60.00" in page
    (confirmation,) = mail.outbox
    assert "£60.00 to pay at the clinic" in confirmation.body


@pytest.mark.django_db
def test_take_payment_records_it_with_who_took_it_and_shows_the_receipt(
        frozen, reception_client, reception, owing, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = reception_client.post(reverse("staff:take_payment", args=[owing.pk]), {"method": "cash"})
    payment = Payment.objects.get(booking=owing)
    assert response.status_code == 302 and response["Location"] == reverse("payments:receipt", args=[payment.pk])
    assert payment.method == "cash" and payment.status == Payment.Status.SUCCEEDED
    assert payment.amount_pence == 6000 and payment.created_by == reception and payment.paid_at == NOW
    assert owing.events.filter(action=BookingEvent.Action.PAYMENT, actor=reception).exists()
    assert payment_services.balance_due_pence(booking=owing) == 0
    receipt = reception_client.get(response["Location"]).content.decode()
    for text in ("Physiobook Clinic", "Paula Jones", "Follow-up treatment", "Tuesday 12 January 2027, 10:00",
                 "£60.00", "Cash at the clinic", "Rita Desk"):
        assert text in receipt, text
    (email,) = mail.outbox
    assert email.to == [owing.patient.email] and "Receipt PB-20270112-" in email.subject
    assert "Amount paid: £60.00" in email.body and "Cash at the clinic" in email.body


@pytest.mark.django_db
def test_taking_payment_twice_is_refused_and_nothing_due_is_shown(frozen, reception_client, owing):
    reception_client.post(reverse("staff:take_payment", args=[owing.pk]), {"method": "card_terminal"})
    response = reception_client.post(reverse("staff:take_payment", args=[owing.pk]), {"method": "cash"}, follow=True)
    assert "Nothing is due for this booking" in response.content.decode()
    assert Payment.objects.filter(booking=owing).count() == 1
    with pytest.raises(NothingToPay):
        payment_services.payment_take_at_desk(booking=owing, method="cash", actor=None)


@pytest.mark.django_db
def test_take_payment_refuses_an_unknown_method_and_a_held_booking(frozen, reception_client, reception, physios,
                                                                     services, patient, owing):
    response = reception_client.post(reverse("staff:take_payment", args=[owing.pk]), {"method": "cheque"}, follow=True)
    assert "Choose card terminal or cash" in response.content.decode()
    held = BookingFactory(patient=patient, practitioner=physios[1], service=services[1], start=at(11),
                          status=Booking.Status.HELD, hold_expires_at=at(12))
    with pytest.raises(NothingToPay):
        payment_services.payment_take_at_desk(booking=held, method="cash", actor=reception)
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_receipt_is_the_patients_own_and_reception_only(frozen, client, reception_client, owing, physios):
    reception_client.post(reverse("staff:take_payment", args=[owing.pk]), {"method": "cash"})
    url = reverse("payments:receipt", args=[Payment.objects.get().pk])
    client.force_login(owing.patient)
    assert client.get(url).status_code == 200
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(physios[1].user)
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_takings_summary_by_method_and_practitioner(frozen, reception_client, reception, physios, services,
                                                    django_assert_max_num_queries):
    alex, sam = physios
    for n, (who, method) in enumerate([(alex, "cash"), (alex, "card_terminal"), (sam, "card_terminal")]):
        booking = desk.reception_book(patient=UserFactory(), service=services[1], practitioner=who,
                                      start=at(10 + n), payment=desk.PAY_AT_CLINIC, actor=reception).booking
        payment_services.payment_take_at_desk(booking=booking, method=method, actor=reception)
    online = BookingFactory(practitioner=sam, service=services[0], start=at(15))
    Payment.objects.create(booking=online, method=Payment.Method.STRIPE_CHECKOUT, status=Payment.Status.SUCCEEDED,
                           amount_pence=7500, idempotency_key="online-1", paid_at=NOW)
    takings = takings_for_day(TUESDAY)
    assert [(line.label, line.count, line.pence) for line in takings.by_method] == [
        ("Stripe Checkout", 1, 7500), ("Card terminal at the clinic", 2, 12000), ("Cash at the clinic", 1, 6000)]
    assert [(line.label, line.count, line.pence) for line in takings.by_practitioner] == [
        ("Alex Ray", 2, 12000), ("Sam Lee", 2, 13500)]
    assert takings.total_pence == 25500
    assert takings_for_day(date_after(TUESDAY)).total_pence == 0
    with django_assert_max_num_queries(8):
        page = reception_client.get(reverse("staff:takings"), {"date": "2027-01-12"}).content.decode()
    assert "£255.00" in page and "Cash at the clinic" in page and "Sam Lee" in page


def date_after(day):
    from datetime import timedelta

    return day + timedelta(days=1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_two_receptionists_taking_one_payment_record_it_once(physios, services, patient):
    receptionists = [ReceptionistFactory() for _ in range(4)]
    booking = desk.reception_book(patient=patient, service=services[1], practitioner=physios[0],
                                  start=datetime(2030, 1, 8, 10, tzinfo=LONDON), payment=desk.PAY_AT_CLINIC,
                                  actor=receptionists[0]).booking
    taken, refused = split(race(*(
        partial(payment_services.payment_take_at_desk, booking=booking, method="cash", actor=who)
        for who in receptionists
    )), NothingToPay)
    assert (len(taken), len(refused)) == (1, 3), taken + refused
    assert Payment.objects.filter(booking=booking).count() == 1
