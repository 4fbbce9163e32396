"""Time off added over bookings: the grid marks them, and one action emails their patients to choose a new time."""

import re
from datetime import datetime

import pytest
from django.core import mail
from django.urls import reverse

from booking.availability import LONDON
from booking.models import BookingEvent
from tests.factories import BookingFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)


def at(hour, minute=0):
    return datetime(2027, 1, 12, hour, minute, tzinfo=LONDON)


def add_time_off(client, practitioner):
    data = {"practitioner": practitioner.pk, "date": "2027-01-12", "start_time": "10:00", "end_time": "12:00",
            "reason": "sick", "note": "", "confirm": "1"}
    return client.post(reverse("staff:time_off_new"), data)


def test_bookings_inside_time_off_are_marked_on_the_grid(reception_client, physios, services, patient):
    alex, _ = physios
    inside = BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(10, 30))
    BookingFactory(practitioner=alex, service=services[1], start=at(14))
    add_time_off(reception_client, alex)
    html = reception_client.get(reverse("staff:day", args=["2027-01-12"])).content.decode()
    block = re.search(rf'<a class="bk [^"]*"[^>]*data-booking="{inside.pk}".*?</a>', html, re.DOTALL).group(0)
    assert "outside" in block.split('"')[1] and "In time off" in block
    assert html.count("In time off") == 1
    assert "1 booked: ask to move" in html


def test_time_off_over_bookings_then_one_action_emails_a_reschedule_link(reception_client, reception, physios,
                                                                         services, patient):
    alex, _ = physios
    emailed = BookingFactory(practitioner=alex, service=services[1], patient=patient, start=at(10, 30))
    phone_only = BookingFactory(practitioner=alex, service=services[1], start=at(11, 15),
                                patient=UserFactory(email="patient-abc@no-email.invalid", first_name="Phil"))
    response = add_time_off(reception_client, alex)
    detail = response["Location"]
    assert response.status_code == 302 and "/staff/time-off/" in detail
    page = reception_client.get(detail).content.decode()
    assert "Email these patients to choose a new time" in page and "no email" in page
    mail.outbox.clear()
    response = reception_client.post(detail, follow=True)
    (message,) = mail.outbox
    assert message.to == [patient.email] and "choose a new time" in message.subject
    assert f"/my-bookings/{emailed.pk}/reschedule/" in message.body
    page = response.content.decode()
    assert "Emailed 1 patient(s)" in page and "please call: Phil" in page
    assert emailed.events.filter(action=BookingEvent.Action.NOTE, actor=reception).exists()
    assert not phone_only.events.filter(action=BookingEvent.Action.NOTE).exists()
