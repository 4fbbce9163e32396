"""Money records kept after an erasure (UK GDPR, issue 18): the amounts, Stripe ids and dates stay for the
accounts, but the free text people typed about the patient goes with their personal data (refund reasons,
desk notes, attention notes), and no staff page or admin list shows their name, email or phone."""

from datetime import date, datetime, time

import pytest
import time_machine
from django.contrib.auth.models import Group

from booking import services as booking_services
from booking.availability import LONDON
from booking.models import Booking, BookingEvent
from payments import services as payments
from payments.models import Attention, Payment, Refund
from privacy.services import ERASED_TEXT, patient_erase
from tests.factories import BookingFactory, PractitionerFactory, ReceptionistFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)  # a Tuesday, GMT
NAME, SURNAME, EMAIL, PHONE = "Gwendolyn", "Gonzaga", "gwen.gonzaga@example.com", "07700 900777"
PERSONAL = (NAME, SURNAME, EMAIL, PHONE, "900777")


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


@pytest.fixture
def kept(settings):
    """Two visits paid at the desk: a £15 refund still to hand back (open attention item) whose reason names
    the patient, and a £10 one handed back with a note giving her phone; a desk note with her email."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    service = ServiceFactory(price_pence=7500)
    physio = PractitionerFactory(services=[service])
    desk = ReceptionistFactory(first_name="Rita", last_name="Reception")
    patient = UserFactory(email=EMAIL, first_name=NAME, last_name=SURNAME, phone=PHONE)
    first = BookingFactory(patient=patient, practitioner=physio, service=service, start=at(10),
                           status=Booking.Status.ATTENDED)
    second = BookingFactory(patient=patient, practitioner=physio, service=service, start=at(14),
                            status=Booking.Status.ATTENDED)
    with time_machine.travel(at(16), tick=False):
        cash = payments.payment_take_at_desk(booking=first, method=Payment.Method.CASH, actor=desk)
        card = payments.payment_take_at_desk(booking=second, method=Payment.Method.CARD_TERMINAL, actor=desk)
        (open_refund,) = payments.booking_refund(booking=first, amount_pence=1500, actor=desk,
                                                 reason=f"{NAME} {SURNAME} was charged the assessment price twice")
        (done_refund,) = payments.booking_refund(booking=second, amount_pence=1000, actor=desk,
                                                 reason=f"Goodwill, see email from {EMAIL}")
        payments.refund_desk_done(refund_id=done_refund.pk, actor=desk, note=f"Handed back; she rang from {PHONE}")
        booking_services.booking_note(booking=first, actor=desk, reason=f"{NAME} asked for a receipt to {EMAIL}")
    with time_machine.travel(at(9, day=date(2026, 4, 1)), tick=False):
        patient_erase(user=patient, channel="phone", actor=desk, note="Identity checked by the last visit's date")
    return {"first": first, "second": second, "cash": cash, "card": card, "open_refund": open_refund,
            "done_refund": done_refund, "desk": desk, "physio": physio}


def _no_personal_data(html: str, where: str) -> None:
    for leaked in PERSONAL:
        assert leaked not in html, f"{leaked!r} on {where}"


def test_erasure_scrubs_typed_text_and_keeps_amounts_ids_and_dates(kept):
    open_refund = Refund.objects.get(pk=kept["open_refund"].pk)
    done_refund = Refund.objects.get(pk=kept["done_refund"].pk)
    assert (open_refund.reason, done_refund.reason) == (ERASED_TEXT, ERASED_TEXT)
    assert (open_refund.amount_pence, done_refund.amount_pence) == (1500, 1000)
    assert (open_refund.status, done_refund.status) == (Refund.Status.PENDING, Refund.Status.SUCCEEDED)
    assert open_refund.created_at == kept["open_refund"].created_at

    paid = Payment.objects.get(pk=kept["cash"].pk)
    assert (paid.amount_pence, paid.paid_at, paid.idempotency_key) == (7500, at(16), kept["cash"].idempotency_key)

    waiting = Attention.objects.get(refund=open_refund)
    assert waiting.resolved_at is None and waiting.amount_pence == 1500 and waiting.kind == Attention.Kind.DESK_REFUND
    assert waiting.message == f"Refund £15.00 at the desk (Cash at the clinic): {ERASED_TEXT}"
    handed = Attention.objects.get(refund=done_refund)
    assert handed.resolved_at is not None and handed.resolution == ERASED_TEXT and handed.amount_pence == 1000

    events = BookingEvent.objects.filter(booking__in=[kept["first"], kept["second"]])
    assert events.filter(action=BookingEvent.Action.NOTE).get().reason == ERASED_TEXT
    for event in events:
        _no_personal_data(f"{event.reason} {event.data}", f"event {event.action}")
    # What the accounts need of the log stays: who took which payment, when, for how much.
    payment_event = events.get(action=BookingEvent.Action.PAYMENT, data__payment_id=kept["cash"].pk)
    assert payment_event.at == at(16) and payment_event.actor == kept["desk"]
    assert events.get(action=BookingEvent.Action.REFUND, data__amount_pence=1500).data["refund_ids"] == [open_refund.pk]


def test_staff_pages_show_the_kept_money_without_the_patient(client, kept):
    client.force_login(kept["desk"])
    pages = {
        "day": f"/staff/day/{DAY}/",
        "week": f"/staff/week/all/{DAY}/",
        "takings": f"/staff/takings/?date={DAY}",
        "booking": f"/staff/bookings/{kept['first'].pk}/",
        "attention": "/payments/attention/",
    }
    html = {}
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, name
        html[name] = response.content.decode()
        _no_personal_data(html[name], name)
    assert "Refund at the desk: £15.00" in html["attention"] and ERASED_TEXT in html["attention"]
    assert f"£10.00: {ERASED_TEXT}" in html["attention"]  # recently resolved, with the note scrubbed
    assert 'data-total="15000"' in html["takings"] and "£150.00" in html["takings"]
    # The receipt of a kept payment is not a desk page (privacy.access): not found, never a name.
    receipt = client.get(f"/payments/receipts/{kept['cash'].pk}/")
    assert receipt.status_code == 404
    _no_personal_data(receipt.content.decode(), "receipt")


def test_the_manager_s_opened_record_and_the_admin_lists_hold_no_personal_data(client, kept):
    manager = UserFactory(email="owner@clinic.example", first_name="Olu", last_name="Owner", is_staff=True,
                          is_superuser=True)
    manager.groups.add(Group.objects.get_or_create(name="Manager")[0])
    client.force_login(manager)
    listing = client.get("/staff/retained-records/").content.decode()
    _no_personal_data(listing, "retained records")
    opened = client.post(f"/staff/retained-records/{kept['first'].pk}/", {"reason": "Accountant's year-end query"})
    assert opened.status_code == 200
    opened_html = opened.content.decode()
    _no_personal_data(opened_html, "the opened record")
    assert "£75.00" in opened_html and "£15.00" in opened_html and ERASED_TEXT in opened_html

    admin_pages = [
        "/admin/booking/booking/", f"/admin/booking/booking/{kept['first'].pk}/change/",
        "/admin/payments/payment/", "/admin/payments/refund/", "/admin/payments/attention/",
        f"/admin/payments/attention/{Attention.objects.get(refund=kept['open_refund']).pk}/change/",
        "/admin/accounts/user/", "/admin/privacy/datarequest/", "/admin/privacy/retainedbooking/",
        "/admin/privacy/erasure/", "/admin/privacy/retainedrecordaccess/",
    ]
    for path in admin_pages:
        response = client.get(path)
        assert response.status_code == 200, path
        _no_personal_data(response.content.decode(), path)
    attention_list = client.get("/admin/payments/attention/").content.decode()
    assert "1500" in attention_list and "1000" in attention_list


def test_the_scheduled_erasure_removes_the_money_records_and_their_attention_items_when_due(kept):
    from privacy.services import records_erase_due

    assert records_erase_due(today=date(2032, 3, 10)) == {"payments_records": 0, "bookings": 0, "patients": 0}
    assert Attention.objects.count() == 2  # kept six years, with the refunds they are about
    done = records_erase_due(today=date(2032, 3, 11))  # the day after six years from the payments (10 Mar 2026)
    assert done["payments_records"] == 2
    assert not Payment.objects.exists() and not Refund.objects.exists() and not Attention.objects.exists()
    assert Booking.objects.count() == 2  # the clinical record stays its eight years
