"""Reception's actions go through the same services and rules as online booking."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from payments.services import booking_cancel
from booking import services as booking_services
from booking.availability import LONDON
from booking.models import Booking, BookingEvent, TimeOff, WorkingHours
from booking.staff import services as desk
from payments import services as payment_services
from payments.models import Payment, Refund
from tests.factories import BookingFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)  # Monday
TUESDAY = date(2027, 1, 12)


def at(hour, minute=0, day=TUESDAY):
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def book_post(practitioner, service, **extra):
    return {
        "action": "book", "practitioner": practitioner.pk, "service": service.pk, "date": "2027-01-12",
        "time": "10:00", "patient_id": "", "new_first_name": "Carol", "new_last_name": "Caller",
        "new_phone": "07700 900999", "new_email": "", "payment": "clinic", "hold_minutes": "1440", **extra,
    }


def test_phone_caller_paying_at_clinic_is_confirmed_with_the_amount_due(reception_client, reception, physios,
                                                                        services):
    alex, _ = physios
    response = reception_client.post(reverse("staff:book"), book_post(alex, services[1]))
    assert response.status_code == 302 and response["Location"] == "/staff/day/2027-01-12/"
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.source == Booking.Source.RECEPTION and booking.created_by == reception
    assert booking.start == at(10)
    assert booking.patient.get_full_name() == "Carol Caller" and booking.patient.phone == "07700 900999"
    assert booking.patient.email.endswith("@" + desk.NO_EMAIL_DOMAIN)
    # Nothing is recorded as paid until reception takes the money.
    assert not Payment.objects.filter(booking=booking).exists()
    assert payment_services.balance_due_pence(booking=booking) == services[1].price_pence
    assert list(booking.events.values_list("action", "actor")) == [("held", reception.pk), ("confirmed", reception.pk)]


def test_a_caller_without_email_is_never_emailed(reception_client, reception, physios, services, patient,
                                                 django_capture_on_commit_callbacks):
    alex, _ = physios
    with django_capture_on_commit_callbacks(execute=True):
        reception_client.post(reverse("staff:book"), book_post(alex, services[1]))
        reception_client.post(reverse("staff:book"), book_post(alex, services[1], time="14:00", patient_id=patient.pk,
                                                               new_first_name="", new_phone=""))
    phone_only = Booking.objects.get(start=at(10))
    with django_capture_on_commit_callbacks(execute=True):
        booking_cancel(booking=phone_only, actor=reception, reason="Caller rang to cancel",
                                        refund_pence=0, by_staff=True)
    # Only the patient with an address heard about their booking.
    assert [m.to for m in mail.outbox] == [[patient.email]]


def test_find_existing_patient_by_phone_name_or_email(reception_client, patient, physios, services):
    for query in ("900123", "paula jones", patient.email.upper()):
        html = reception_client.post(reverse("staff:book"), {"action": "search", "q": query}).content.decode()
        assert f'value="{patient.pk}"' in html, query
    alex, _ = physios
    response = reception_client.post(reverse("staff:book"), book_post(alex, services[1], patient_id=patient.pk,
                                                                      new_first_name="", new_phone=""))
    assert response.status_code == 302
    assert Booking.objects.get().patient == patient


def test_payment_link_holds_for_the_chosen_time_and_emails_the_link(reception_client, physios, services, patient):
    alex, _ = physios
    response = reception_client.post(reverse("staff:book"), book_post(
        alex, services[1], patient_id=patient.pk, payment="link", hold_minutes="1440"))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.HELD
    assert booking.hold_expires_at == NOW + timedelta(hours=24)
    payment = Payment.objects.get(booking=booking)
    assert payment.status == Payment.Status.PENDING and payment.checkout_url
    [message] = mail.outbox
    assert message.to == [patient.email] and payment.checkout_url in message.body


def test_payment_link_needs_an_email_address(reception_client, physios, services):
    alex, _ = physios
    response = reception_client.post(reverse("staff:book"), book_post(alex, services[1], payment="link"))
    assert response.status_code == 200
    assert "A payment link needs an email address." in response.content.decode()
    assert not Booking.objects.exists()


def test_booking_a_taken_slot_is_a_form_error_and_writes_nothing(reception_client, physios, services, patient):
    alex, _ = physios
    BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(10, 15))
    users_before = UserFactory._meta.model.objects.count()
    response = reception_client.post(reverse("staff:book"), book_post(alex, services[1]))
    assert response.status_code == 200
    assert "overlaps Paula Jones 10:15-10:45 with Alex Ray" in response.content.decode()
    assert Booking.objects.count() == 1 and not Payment.objects.exists()
    # The new patient and the hold are one transaction: no stray patient either.
    assert UserFactory._meta.model.objects.count() == users_before


def test_reception_books_outside_online_notice_but_not_in_the_past(reception_client, physios, services):
    alex, _ = physios
    # 30 minutes from now: too soon online, fine at the desk (Monday 08:30 is outside hours, so use 09:00).
    response = reception_client.post(reverse("staff:book"), book_post(alex, services[1], date="2027-01-11", time="09:00"))
    assert response.status_code == 302
    response = reception_client.post(reverse("staff:book"), book_post(alex, services[1], date="2027-01-10", time="10:00"))
    assert response.status_code == 200 and "already passed" in response.content.decode()


def test_move_to_another_practitioner_keeps_payment_and_emails(reception_client, reception, physios, services, patient,
                                                                django_capture_on_commit_callbacks):
    alex, sam = physios
    booking = booking_services.booking_hold(patient=patient, service=services[1], start=at(10), practitioner=alex,
                                            source="reception", actor=reception)
    payment_services.payment_record_at_clinic(booking=booking, method="cash", actor=reception)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = reception_client.post(reverse("staff:move", args=[booking.pk]), {
            "practitioner": sam.pk, "date": "2027-01-12", "time": "11:30", "reason": "Prefers Sam"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.practitioner, booking.start, booking.status) == (sam, at(11, 30), Booking.Status.CONFIRMED)
    assert Payment.objects.get().booking == booking
    assert [m.subject for m in mail.outbox] == ["Booking moved to Tue 12 Jan at 11:30"]
    event = booking.events.get(action="rescheduled")
    assert event.actor == reception and event.reason == "Prefers Sam"


def test_moving_into_a_taken_slot_fails_cleanly(reception_client, physios, services, patient,
                                                django_capture_on_commit_callbacks):
    alex, sam = physios
    booking = BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(10))
    BookingFactory(practitioner=sam, service=services[1], start=at(11))
    before = Booking.objects.values_list("pk", "practitioner", "start", "end", "blocks_until", "status").order_by("pk")
    before = list(before)
    with django_capture_on_commit_callbacks(execute=True):
        response = reception_client.post(reverse("staff:move", args=[booking.pk]), {
            "practitioner": sam.pk, "date": "2027-01-12", "time": "11:15", "reason": ""})
    assert response.status_code == 200
    html = response.content.decode()
    # What is really in the way, and the nearest free times as links (tests/staff/test_refusals.py).
    assert "overlaps Pat Ient" in html and "11:00-11:30 with Sam Lee" in html and "Nearest free times" in html
    assert list(Booking.objects.values_list("pk", "practitioner", "start", "end", "blocks_until", "status").order_by("pk")) == before
    assert not BookingEvent.objects.filter(action="rescheduled").exists()
    assert mail.outbox == []


def test_cancel_with_partial_refund_and_reason(reception_client, reception, physios, services, patient):
    alex, _ = physios
    booking = booking_services.booking_hold(patient=patient, service=services[1], start=at(10), practitioner=alex,
                                            source="reception", actor=reception)
    payment_services.payment_record_at_clinic(booking=booking, method="card_terminal", actor=reception)
    url = reverse("staff:cancel", args=[booking.pk])
    # No reason: refused beside the field, nothing changed.
    response = reception_client.post(url, {"refund": "amount", "amount": "25.50", "reason": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    # More than was paid: refused, nothing changed.
    response = reception_client.post(url, {"refund": "amount", "amount": "61", "reason": "Too much"})
    assert response.status_code == 200 and "At most £60.00 was paid." in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and not Refund.objects.exists()
    response = reception_client.post(url, {"refund": "amount", "amount": "25.50", "reason": "Snowed in"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert Refund.objects.get().amount_pence == 2550
    assert booking.events.get(action="cancelled").reason == "Snowed in"


@pytest.mark.parametrize("choice,expected", [("full", 6000), ("none", 0)])
def test_cancel_full_or_no_refund(reception_client, reception, physios, services, patient, choice, expected):
    alex, _ = physios
    booking = booking_services.booking_hold(patient=patient, service=services[1], start=at(10), practitioner=alex,
                                            source="reception", actor=reception)
    payment_services.payment_record_at_clinic(booking=booking, method="cash", actor=reception)
    reception_client.post(reverse("staff:cancel", args=[booking.pk]), {"refund": choice, "reason": "Ill"})
    assert sum(Refund.objects.values_list("amount_pence", flat=True)) == expected
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CANCELLED


def test_no_show_only_once_started(reception_client, physios, services, patient):
    alex, _ = physios
    future = BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(10))
    started = BookingFactory(practitioner=alex, service=services[1], start=NOW - timedelta(minutes=30))
    reception_client.post(reverse("staff:mark", args=[future.pk]), {"action": "no_show"})
    reception_client.post(reverse("staff:mark", args=[started.pk]), {"action": "no_show"})
    assert Booking.objects.get(pk=future.pk).status == Booking.Status.CONFIRMED
    assert Booking.objects.get(pk=started.pk).status == Booking.Status.NO_SHOW
    # Arrived only from an hour before (tests/staff/test_arrival.py): tomorrow's booking is refused.
    reception_client.post(reverse("staff:mark", args=[future.pk]), {"action": "arrived"})
    assert Booking.objects.get(pk=future.pk).arrived_at is None


def test_time_off_over_a_booking_needs_confirmation(reception_client, physios, services, patient):
    alex, _ = physios
    booking = BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(12))
    data = {"practitioner": alex.pk, "date": "2027-01-12", "start_time": "12:00", "end_time": "13:00",
            "reason": "lunch", "note": ""}
    response = reception_client.post(reverse("staff:time_off_new"), data)
    assert response.status_code == 200
    assert "1 booking(s) fall in this time off" in response.content.decode()
    assert f'/staff/bookings/{booking.pk}/' in response.content.decode()
    assert not TimeOff.objects.exists()
    response = reception_client.post(reverse("staff:time_off_new"), {**data, "confirm": "1"})
    assert response.status_code == 302
    off = TimeOff.objects.get()
    assert (off.start, off.end) == (at(12), at(13))
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.CONFIRMED
    # It blocks online booking now, and reception can remove it.
    reception_client.post(reverse("staff:time_off_delete", args=[off.pk]))
    assert not TimeOff.objects.exists()


def test_time_off_all_day_holiday_blocks_booking(reception_client, physios, services):
    alex, _ = physios
    reception_client.post(reverse("staff:time_off_new"), {
        "practitioner": alex.pk, "date": "2027-01-12", "start_time": "00:00", "end_time": "24:00",
        "reason": "holiday", "note": "Skiing"})
    off = TimeOff.objects.get()
    assert (off.start, off.end) == (at(0), at(0, day=date(2027, 1, 13)))
    response = reception_client.post(reverse("staff:book"), book_post(alex, services[1]))
    assert response.status_code == 200 and not Booking.objects.exists()


def _hours_post(**days):
    data = {"effective_from": "2027-01-11"}
    for weekday in range(7):
        start, end = days.get(f"d{weekday}", ("09:00", "17:00"))
        data[f"d{weekday}_1_start"], data[f"d{weekday}_1_end"] = start, end
    return data


def test_working_hours_change_never_silently_orphans_a_booking(reception_client, physios, services, patient):
    alex, _ = physios
    late = BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(16))
    rows_before = list(WorkingHours.objects.filter(practitioner=alex).values_list("weekday", "start_time", "end_time",
                                                                                   "valid_from", "valid_until"))
    url = reverse("staff:working_hours", args=[alex.pk])
    # Tuesdays now end at 13:00: the 16:00 booking would fall outside.
    response = reception_client.post(url, _hours_post(d1=("09:00", "13:00")))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 booking(s) would fall outside the new working hours." in html
    assert f'/staff/bookings/{late.pk}/' in html and "Save anyway" in html
    assert list(WorkingHours.objects.filter(practitioner=alex).values_list(
        "weekday", "start_time", "end_time", "valid_from", "valid_until")) == rows_before
    # Confirmed: saved, the booking is kept (not cancelled, not moved) and reception is told.
    response = reception_client.post(url, {**_hours_post(d1=("09:00", "13:00")), "confirm": "1"}, follow=True)
    assert "1 booking(s) are now outside them" in response.content.decode()
    assert Booking.objects.get(pk=late.pk).status == Booking.Status.CONFIRMED
    tuesday = WorkingHours.objects.get(practitioner=alex, weekday=1, valid_from=date(2027, 1, 11))
    assert (tuesday.start_time, tuesday.end_time) == (time(9), time(13))


def test_working_hours_change_that_fits_saves_and_keeps_history(reception_client, physios, services, patient):
    alex, _ = physios
    BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(10))
    data = _hours_post(d1=("10:00", "18:00"), d6=("", ""))
    data["effective_from"] = "2027-01-12"
    response = reception_client.post(reverse("staff:working_hours", args=[alex.pk]), data)
    assert response.status_code == 302
    rows = WorkingHours.objects.filter(practitioner=alex)
    # Old rows end the day before; new ones start on the day. Sunday is no longer worked.
    assert set(rows.filter(valid_from__isnull=True).values_list("valid_until", flat=True)) == {date(2027, 1, 11)}
    assert not rows.filter(valid_from=date(2027, 1, 12), weekday=6).exists()
    assert rows.get(valid_from=date(2027, 1, 12), weekday=1).start_time == time(10)


def test_working_hours_check_ignores_past_cancelled_and_fitting_bookings(physios, services, patient):
    alex, _ = physios
    inside = BookingFactory(practitioner=alex, service=services[1], start=at(10))
    outside = BookingFactory(practitioner=alex, service=services[1], start=at(15))
    BookingFactory(practitioner=alex, service=services[1], start=at(16), status=Booking.Status.CANCELLED)
    BookingFactory(practitioner=alex, service=services[1], start=NOW - timedelta(days=1))
    rows = [desk.HoursRow(1, time(9), time(12))]
    assert desk.working_hours_check(practitioner=alex, rows=rows, effective_from=date(2027, 1, 10)) == [outside]
    assert inside not in desk.working_hours_check(practitioner=alex, rows=rows, effective_from=date(2027, 1, 10))


def test_payment_link_when_the_provider_is_down_keeps_the_hold(reception_client, physios, services, patient):
    import types

    from payments import gateway

    def unavailable(*args, **kwargs):
        raise gateway.GatewayUnavailable("down")

    down = types.SimpleNamespace(checkout_session_create=unavailable, checkout_session_expire=unavailable,
                                 refund_create=unavailable)
    alex, _ = physios
    gateway.use_gateway(down)
    try:
        response = reception_client.post(reverse("staff:book"), book_post(
            alex, services[1], patient_id=patient.pk, payment="link"), follow=True)
    finally:
        gateway.use_gateway(None)
    assert "The payment provider did not answer" in response.content.decode()
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.HELD and not Payment.objects.exists()
    assert mail.outbox == []
    # Provider back: "Send payment link" from the booking page.
    response = reception_client.post(reverse("staff:send_link", args=[booking.pk]), follow=True)
    assert "Payment link emailed" in response.content.decode()
    assert len(mail.outbox) == 1 and Payment.objects.get().checkout_url in mail.outbox[0].body


def test_new_patient_with_an_existing_email_is_a_form_error(reception_client, physios, services, patient):
    alex, _ = physios
    response = reception_client.post(reverse("staff:book"), book_post(alex, services[1], new_email=patient.email.upper()))
    assert response.status_code == 200
    assert "Already a patient: search for them instead." in response.content.decode()
    assert not Booking.objects.exists()


@pytest.mark.parametrize("day", ["2027-03-28", "2027-10-31"])
def test_day_view_on_clock_change_days(reception_client, physios, services, patient, day):
    alex, _ = physios
    start = datetime.combine(date.fromisoformat(day), time(10), tzinfo=LONDON)
    BookingFactory(practitioner=alex, service=services[1], patient=patient, start=start)
    response = reception_client.get(reverse("staff:day", args=[day]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "10:00" in html and "Paula Jones" in html
    data = reception_client.get(reverse("staff_api:calendar"), {"date": day}).json()
    [booking] = [b for p in data["practitioners"] for b in p["bookings"]]
    assert booking["start"] == start.isoformat()
