"""The fall-back night on every page (issue 14): 01:00-01:59 happens twice on the last Sunday of October.

Both readings of 01:30 are real, bookable instants (00:30 UTC is 01:30 BST, 01:30 UTC is 01:30 GMT); wherever
a person reads one, it says which ("01:30 BST", "01:30 GMT"), and a booking at the second reading is shown,
emailed and exported at that instant, never an hour early. Engine rules: test_calendar_correctness.py.
"""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from icalendar import Calendar

from booking import notifications
from booking.availability import LONDON
from booking.models import Booking
from tests.factories import BookingFactory, FollowUpFactory, PractitionerFactory, ReceptionistFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

NIGHTS = [pytest.param(date(2027, 10, 31), id="2027-10-31"), pytest.param(date(2026, 10, 25), id="2026-10-25")]


@pytest.fixture(params=NIGHTS)
def night(request):
    """A practitioner working 00:00-03:00 by the wall clock on the fall-back Sunday (four real hours),
    seen from the Thursday before."""
    day = request.param
    with time_machine.travel(datetime.combine(day - timedelta(days=3), time(12), tzinfo=LONDON), tick=False):
        follow_up = FollowUpFactory()  # 30 minutes, no buffer
        physio = PractitionerFactory(services=[follow_up], hours=[(6, time(0), time(3))])
        first = datetime.combine(day, time(1, 30), tzinfo=LONDON)
        yield {"day": day, "service": follow_up, "physio": physio,
               "bst": first.astimezone(UTC), "gmt": first.replace(fold=1).astimezone(UTC)}


def _book(night, start, first_name="Gil"):
    return BookingFactory(practitioner=night["physio"], service=night["service"], start=start,
                          patient=UserFactory(first_name=first_name, last_name="Caller"))


def test_the_patient_s_time_list_names_the_reading_it_offers(client, night):
    client.force_login(UserFactory())
    url = f"/book/{night['service'].slug}/{night['physio'].pk}/{night['day']}/"
    page = client.get(url).content.decode()
    assert f'value="{night["bst"].isoformat()}"' in page
    assert ">01:30 BST</button>" in page and "01:30 GMT" not in page
    assert ">00:45</button>" in page and ">02:00</button>" in page  # readings that happen once: no zone
    _book(night, night["bst"])
    page = client.get(url).content.decode()
    # The first reading taken: the second is offered, and says so.
    assert ">01:30 GMT</button>" in page and "01:30 BST" not in page
    assert f'value="{night["gmt"].isoformat()}"' in page


def test_the_api_offers_one_reading_and_books_either_by_its_offset(client, night):
    query = {"service": night["service"].slug, "date_from": night["day"], "date_to": night["day"],
             "practitioner": night["physio"].pk}
    starts = [slot["start"] for slot in client.get("/api/v1/availability/", query).json()["slots"]]
    day = night["day"].isoformat()
    assert f"{day}T01:30:00+01:00" in starts and f"{day}T01:30:00+00:00" not in starts
    client.force_login(UserFactory())
    created = client.post("/api/v1/bookings/", {"service": night["service"].slug, "start": f"{day}T01:30:00+00:00",
                                                "practitioner": night["physio"].pk}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert Booking.objects.get().start == night["gmt"]
    assert created.json()["start"] == f"{day}T01:30:00+00:00"
    starts = [slot["start"] for slot in client.get("/api/v1/availability/", query).json()["slots"]]
    assert f"{day}T01:30:00+01:00" in starts  # the first reading is still free and offered


def test_a_booking_at_the_second_reading_is_shown_emailed_and_exported_at_that_instant(client, night):
    booking = _book(night, night["gmt"])
    client.force_login(booking.patient)
    page = client.get(f"/my-bookings/{booking.pk}/").content.decode()
    assert "01:30 GMT to 02:00" in page

    notifications.send_booking_confirmed(booking.pk)
    (email,) = mail.outbox
    assert email.subject.endswith("at 01:30 GMT")
    assert f"{night['day']:%A %-d %B %Y}, 01:30 GMT (London time)" in email.body
    attached, downloaded = email.attachments[0][1], client.get(f"/my-bookings/{booking.pk}/calendar.ics").content
    for ics in (str(attached), downloaded.decode()):
        (event,) = Calendar.from_ical(ics).walk("VEVENT")
        # UTC instants: RFC 5545 would read a local 01:30 (TZID=Europe/London) as the first, BST, reading.
        assert event["DTSTART"].dt == night["gmt"] and f"DTSTART:{night['gmt']:%Y%m%dT%H%M%SZ}" in ics
        assert event["DTEND"].dt == night["gmt"] + timedelta(minutes=30)

    # The first reading's booking is told apart the same way, and its file says 00:30 UTC.
    other = _book(night, night["bst"], "Bea")
    (event,) = Calendar.from_ical(notifications_ics(other)).walk("VEVENT")
    assert event["DTSTART"].dt == night["bst"]


def notifications_ics(booking) -> bytes:
    from booking.ics import booking_ics

    return booking_ics(booking)


def test_an_ordinary_day_s_file_stays_in_london_time(night):
    booking = _book(night, datetime.combine(night["day"], time(2, 30), tzinfo=LONDON))
    (event,) = Calendar.from_ical(notifications_ics(booking)).walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event["DTSTART"].dt == booking.start


def test_reception_sees_and_moves_the_second_reading(client, night):
    booking = _book(night, night["gmt"])
    client.force_login(ReceptionistFactory())
    detail = client.get(f"/staff/bookings/{booking.pk}/").content.decode()
    assert "01:30 GMT–02:00" in detail
    move = client.get(f"/staff/bookings/{booking.pk}/move/")
    assert f"{night['day']:%A %-d %B}, 01:30 GMT with" in move.content.decode()
    assert move.context["form"]["time"].value() == "01:30+00:00"
    # Moved to the first reading: an hour earlier in real time, and the page says which.
    moved = client.post(f"/staff/bookings/{booking.pk}/move/", {
        "practitioner": night["physio"].pk, "date": night["day"], "time": "01:30+01:00", "reason": ""}, follow=True)
    booking.refresh_from_db()
    assert booking.start == night["bst"]
    assert f"Moved to {night['day']:%a %-d %b} 01:30 BST" in moved.content.decode()
    # Dragged back onto the second reading's free cell: the confirm line names it, not the picker's "01:30+00:00".
    confirm = client.get(f"/staff/bookings/{booking.pk}/move/", {
        "practitioner": night["physio"].pk, "start": night["gmt"].isoformat()}).content.decode()
    assert f"Confirm the move to {night['day']:%A %-d %B} at 01:30 GMT with" in confirm


def _desk_post(night, clock, first_name):
    return {
        "action": "book", "practitioner": night["physio"].pk, "service": night["service"].pk, "date": night["day"],
        "time": clock, "patient_id": "", "new_first_name": first_name, "new_last_name": "Caller",
        "new_phone": "07700 900999", "new_email": "", "payment": "clinic", "hold_minutes": "1440",
    }


def test_the_desk_fits_books_and_refuses_each_reading_by_name(client, night):
    client.force_login(ReceptionistFactory())
    # The free cell of the second 01:30, while the first is free too: the follow-up fits there.
    page = client.get("/staff/book/", {"practitioner": night["physio"].pk, "start": night["gmt"].isoformat()})
    assert [fit.fits for fit in page.context["fits"]] == [True]
    assert page.context["form"]["time"].value() == "01:30+00:00"

    booked = client.post("/staff/book/", _desk_post(night, "01:30+00:00", "Gil"))
    assert booked.status_code == 302
    assert Booking.objects.get().start == night["gmt"]

    refused = client.post("/staff/book/", _desk_post(night, "01:45+00:00", "Hal"))
    assert refused.status_code == 200
    assert ("Follow-up treatment (30 min with its buffer) at 01:45 GMT overlaps Gil Caller 01:30 GMT-02:00 with "
            f"{night['physio'].name}.") in refused.content.decode()
    assert Booking.objects.count() == 1

    # 01:45 BST is an hour earlier in real time, and free.
    assert client.post("/staff/book/", _desk_post(night, "01:45+01:00", "Ivy")).status_code == 302
    refused = client.post("/staff/book/", _desk_post(night, "01:30+01:00", "Jo"))
    assert "at 01:30 BST overlaps Ivy Caller 01:45 BST-01:15 GMT" in refused.content.decode()
    assert sorted(Booking.objects.values_list("start", flat=True)) == [night["bst"] + timedelta(minutes=15),
                                                                        night["gmt"]]


def test_a_waitlist_offer_of_the_second_reading_says_gmt_in_the_email_page_and_desk_message(
    client, night, django_capture_on_commit_callbacks
):
    from waitlist import services as waitlist

    _book(night, night["bst"])  # the first reading taken: the freed time is the second
    patient = UserFactory(email="waiting@example.com")
    entry = waitlist.waitlist_join(patient=patient, service=night["service"], date_from=night["day"],
                                   date_to=night["day"])
    client.force_login(ReceptionistFactory())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/staff/waitlist/{entry.pk}/offer/", {
            "slot": f"{night['physio'].pk}|{night['gmt'].isoformat()}", "date": night["day"].isoformat()}, follow=True)
    assert f"offered {night['day']:%a %-d %b} 01:30 GMT, held until" in response.content.decode()
    [sent] = mail.outbox
    assert "at 01:30 GMT" in sent.subject and "01:30 BST" not in sent.subject
    assert "at 01:30 GMT (London time)" in sent.body
    offer = entry.offers.get()
    assert offer.start == night["gmt"]
    client.force_login(patient)
    page = client.get(f"/waitlist/offers/{offer.pk}/").content.decode()
    assert "01:30 GMT to 02:00" in page
