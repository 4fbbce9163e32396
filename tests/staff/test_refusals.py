"""Reception's refusals say what really happened, and the suggested times are links."""

import re
from datetime import datetime

import pytest
from django.urls import reverse

from booking.availability import LONDON
from booking.models import Booking
from tests.factories import BookingFactory, TimeOffFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)


def at(hour, minute=0):
    return datetime(2027, 1, 12, hour, minute, tzinfo=LONDON)


def book(client, practitioner, service, clock, patient):
    return client.post(reverse("staff:book"), {
        "action": "book", "practitioner": practitioner.pk, "service": service.pk, "date": "2027-01-12",
        "time": clock, "patient_id": patient.pk, "payment": "clinic", "hold_minutes": "1440",
    }).content.decode()


def test_booking_over_another_says_whose_booking_is_in_the_way(reception_client, physios, services, patient):
    alex, _ = physios
    BookingFactory(practitioner=alex, service=services[1], start=at(10),
                   patient=UserFactory(first_name="Derek", last_name="Jones"))
    html = book(reception_client, alex, services[1], "10:15", patient)
    assert "overlaps Derek Jones 10:00-10:30 with Alex Ray" in html
    assert "was just taken" not in html
    links = re.findall(r'<div class="card alternatives".*?</div>', html, re.DOTALL)[0]
    hrefs = re.findall(r'href="([^"]+)"', links)
    assert hrefs and all(h.startswith(reverse("staff:book") + "?practitioner=") for h in hrefs)
    assert not Booking.objects.filter(patient=patient).exists()


def test_booking_past_the_end_of_hours_says_it_does_not_fit_before_closing(reception_client, physios, services,
                                                                           patient):
    alex, _ = physios  # works 09:00-17:00
    html = book(reception_client, alex, services[0], "16:30", patient)  # 45 + 15 minutes
    assert "does not fit before 17:00, when Alex Ray stops working" in html


def test_booking_into_time_off_says_so(reception_client, physios, services, patient):
    alex, _ = physios
    TimeOffFactory(practitioner=alex, start=at(12), end=at(13), reason="lunch")
    html = book(reception_client, alex, services[1], "12:15", patient)
    assert "overlaps Alex Ray&#x27;s time off (Lunch) 12:00-13:00" in html


def test_move_refusal_links_to_the_move_page_with_the_time(reception_client, physios, services, patient):
    alex, sam = physios
    booking = BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(10))
    BookingFactory(practitioner=sam, service=services[1], start=at(11))
    html = reception_client.post(reverse("staff:move", args=[booking.pk]), {
        "practitioner": sam.pk, "date": "2027-01-12", "time": "11:15", "reason": ""}).content.decode()
    links = re.findall(r'<div class="card alternatives".*?</div>', html, re.DOTALL)[0]
    href = re.findall(r'href="([^"]+)"', links)[0].replace("&amp;", "&")
    assert href.startswith(reverse("staff:move", args=[booking.pk]) + "?practitioner=")
    page = reception_client.get(href).content.decode()
    assert "Confirm the move to" in page
