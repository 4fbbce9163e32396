"""My bookings: list, detail, cancel (inside and outside 24 h), reschedule, privacy, .ics."""

from datetime import datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from booking import services
from booking.availability import LONDON
from booking.models import Booking
from payments.models import Payment
from tests.factories import BookingFactory, UserFactory

from .conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

START = datetime(2027, 1, 14, 10, 0, tzinfo=LONDON)  # Thursday, three days after NOW


def paid_booking(patient, physio, service, start=START):
    booking = BookingFactory(patient=patient, practitioner=physio, service=service, start=start)
    Payment.objects.create(booking=booking, method=Payment.Method.LOCAL_TEST, status=Payment.Status.SUCCEEDED,
                           amount_pence=booking.amount_due_pence, payment_intent_id="pi_local_x",
                           idempotency_key=f"k{booking.pk}", paid_at=NOW)
    return booking


def test_list_shows_upcoming_and_past_in_few_queries(patient_client, patient, clinic, django_assert_max_num_queries):
    service, physio = clinic
    for days in (1, 2, 3):
        BookingFactory(patient=patient, practitioner=physio, service=service, start=START + timedelta(days=days))
    BookingFactory(patient=patient, practitioner=physio, service=service, start=NOW - timedelta(days=7))
    BookingFactory(patient=patient, practitioner=physio, service=service, start=START + timedelta(days=9),
                   status=Booking.Status.CANCELLED)
    BookingFactory(practitioner=physio, service=service, start=START)  # someone else's
    with django_assert_max_num_queries(4):
        page = patient_client.get("/my-bookings/")
    assert len(page.context["upcoming"]) == 3 and len(page.context["past"]) == 2


def test_another_patients_booking_is_404_everywhere(patient_client, clinic):
    service, physio = clinic
    theirs = BookingFactory(patient=UserFactory(), practitioner=physio, service=service, start=START)
    for url in (f"/my-bookings/{theirs.pk}/", f"/my-bookings/{theirs.pk}/cancel/",
                f"/my-bookings/{theirs.pk}/calendar.ics", f"/my-bookings/{theirs.pk}/reschedule/"):
        assert patient_client.get(url).status_code == 404, url
    for url in (f"/my-bookings/{theirs.pk}/cancel/", f"/my-bookings/{theirs.pk}/pay/",
                f"/my-bookings/{theirs.pk}/reschedule/"):
        assert patient_client.post(url, {"start": START.isoformat()}).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.status == Booking.Status.CONFIRMED and theirs.start == START


def test_anonymous_visitor_is_sent_to_log_in(client, clinic):
    service, physio = clinic
    booking = BookingFactory(practitioner=physio, service=service, start=START)
    response = client.get(f"/my-bookings/{booking.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_cancel_outside_24_hours_states_and_gives_a_full_refund(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    page = patient_client.get(f"/my-bookings/{booking.pk}/cancel/").content.decode()
    assert "full refund of £75.00" in page
    response = patient_client.post(f"/my-bookings/{booking.pk}/cancel/", {"reason": ""})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert sum(r.amount_pence for r in booking.payments.get().refunds.all()) == 7500


def test_cancel_inside_24_hours_states_and_gives_no_refund(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    with time_machine.travel(START - timedelta(hours=23), tick=False):
        page = patient_client.get(f"/my-bookings/{booking.pk}/cancel/").content.decode()
        assert "no refund" in page and "full refund" not in page
        patient_client.post(f"/my-bookings/{booking.pk}/cancel/", {"reason": "Can't make it"})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert not booking.payments.get().refunds.exists()


def test_cancel_at_exactly_24_hours_is_still_free(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    with time_machine.travel(START - timedelta(hours=24), tick=False):
        assert "full refund" in patient_client.get(f"/my-bookings/{booking.pk}/cancel/").content.decode()


def test_reschedule_moves_the_booking_and_keeps_the_payment(patient_client, patient, clinic, mailoutbox,
                                                         django_capture_on_commit_callbacks):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    page = patient_client.get(f"/my-bookings/{booking.pk}/reschedule/?from=2027-01-11&day=2027-01-15").content.decode()
    new_start = datetime(2027, 1, 15, 14, 0, tzinfo=LONDON)
    assert new_start.isoformat() in page
    with django_capture_on_commit_callbacks(execute=True):
        response = patient_client.post(f"/my-bookings/{booking.pk}/reschedule/",
                                       {"start": new_start.isoformat(), "confirm": "yes"})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.start == new_start and booking.status == Booking.Status.CONFIRMED
    assert booking.payments.get().status == Payment.Status.SUCCEEDED
    assert mailoutbox[-1].subject.startswith("Booking moved to Fri 15 Jan at 14:00")


def test_choosing_a_new_time_asks_to_confirm_before_moving(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    new_start = datetime(2027, 1, 15, 14, 0, tzinfo=LONDON)
    response = patient_client.post(f"/my-bookings/{booking.pk}/reschedule/", {"start": new_start.isoformat()})
    page = response.content.decode()
    assert response.status_code == 200 and "Move your booking?" in page and "Friday 15 January 2027, 14:00" in page
    assert 'name="confirm" value="yes"' in page
    booking.refresh_from_db()
    assert booking.start == START


def test_after_a_move_one_message_not_two(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    new_start = datetime(2027, 1, 15, 14, 0, tzinfo=LONDON)
    response = patient_client.post(f"/my-bookings/{booking.pk}/reschedule/",
                                   {"start": new_start.isoformat(), "confirm": "yes"}, follow=True)
    page = response.content.decode()
    assert "Your booking has been moved" in page
    assert "Your booking is confirmed" not in page


def test_reschedule_inside_24_hours_is_refused_on_the_page(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    with time_machine.travel(START - timedelta(hours=3), tick=False):
        page = patient_client.get(f"/my-bookings/{booking.pk}/reschedule/").content.decode()
        assert "cannot be moved online" in page
        patient_client.post(f"/my-bookings/{booking.pk}/reschedule/", {"start": (START + timedelta(days=1)).isoformat()})
    booking.refresh_from_db()
    assert booking.start == START


def test_reschedule_to_a_taken_slot_shows_alternatives(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    taken = datetime(2027, 1, 15, 14, 0, tzinfo=LONDON)
    BookingFactory(practitioner=physio, service=service, start=taken)
    response = patient_client.post(f"/my-bookings/{booking.pk}/reschedule/", {"start": taken.isoformat(), "confirm": "yes"})
    assert response.status_code == 409 and "was just taken" in response.content.decode()
    booking.refresh_from_db()
    assert booking.start == START


def test_held_booking_offers_pay_now_until_the_hold_lapses(patient_client, patient, clinic):
    service, physio = clinic
    booking = services.booking_hold(patient=patient, service=service, start=START,
                                    intake={"pain_areas": ["calf"], "side": "right", "duration_weeks": 1})
    page = patient_client.get(f"/my-bookings/{booking.pk}/").content.decode()
    assert "Pay now" in page and "08:30" in page
    assert "Pay now (£75.00)" in patient_client.get("/my-bookings/").content.decode()
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        page = patient_client.get(f"/my-bookings/{booking.pk}/").content.decode()
        assert "Pay now" not in page and "not paid in time" in page
        assert "Pay now" not in patient_client.get("/my-bookings/").content.decode()
        response = patient_client.post(f"/my-bookings/{booking.pk}/pay/")
        assert response.status_code == 302 and response["Location"] == f"/my-bookings/{booking.pk}/"
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "start, utc_hour, tz_offset",
    [
        (datetime(2027, 7, 13, 10, 0, tzinfo=LONDON), 9, timedelta(hours=1)),  # BST
        (datetime(2027, 1, 12, 10, 0, tzinfo=LONDON), 10, timedelta(0)),  # GMT
    ],
)
def test_ics_parses_and_has_the_right_time_across_dst(patient_client, patient, clinic, start, utc_hour, tz_offset):
    service, physio = clinic
    booking = BookingFactory(patient=patient, practitioner=physio, service=service, start=start)
    response = patient_client.get(f"/my-bookings/{booking.pk}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    event = next(iter(calendar.walk("VEVENT")))
    dtstart, dtend = event.decoded("dtstart"), event.decoded("dtend")
    assert dtstart == start and dtstart.astimezone(LONDON).hour == 10
    assert dtstart.utcoffset() == tz_offset and dtstart.astimezone(LONDON).utcoffset() == tz_offset
    assert (dtstart - tz_offset).replace(tzinfo=None).hour == utc_hour
    assert dtend - dtstart == timedelta(minutes=45)
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert calendar.walk("VTIMEZONE"), "a VTIMEZONE lets calendars without the Olson database place it right"
    assert str(event["uid"]) == f"booking-{booking.pk}@physiobook"


def test_cancellation_email_says_what_happens_to_the_money_and_cancels_the_calendar_event(
    patient_client, patient, clinic, mailoutbox, django_capture_on_commit_callbacks
):
    service, physio = clinic
    paid = paid_booking(patient, physio, service)
    held = services.booking_hold(patient=patient, service=service, start=START + timedelta(days=1),
                                 intake={"pain_areas": ["calf"], "side": "right", "duration_weeks": 1})
    with django_capture_on_commit_callbacks(execute=True):
        patient_client.post(f"/my-bookings/{paid.pk}/cancel/", {"reason": ""})
        patient_client.post(f"/my-bookings/{held.pk}/cancel/", {"reason": ""})
    first, second = [m for m in mailoutbox if m.subject.startswith("Booking cancelled")]
    assert "A refund of £75.00 is on its way" in first.body
    assert "You had not paid for this booking" in second.body
    event = next(iter(Calendar.from_ical(first.attachments[0][1]).walk("VEVENT")))
    assert str(event["status"]) == "CANCELLED" and str(event["uid"]) == f"booking-{paid.pk}@physiobook"
    assert int(event["sequence"]) > 0


def test_cancelled_booking_page_shows_the_refund(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    patient_client.post(f"/my-bookings/{booking.pk}/cancel/", {"reason": ""})
    page = patient_client.get(f"/my-bookings/{booking.pk}/").content.decode()
    assert "Refunded" in page and "£75.00" in page and "Book another time" in page
    assert "Cancel booking" not in page
