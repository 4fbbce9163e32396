"""'Mark arrived' opens ARRIVAL_WINDOW_MINUTES (60) before the start: the button and the service agree."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from booking import services as booking_services
from booking.availability import LONDON
from booking.exceptions import InvalidStatusChange
from booking.models import Booking
from tests.factories import BookingFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

START = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)


def test_mark_arrived_opens_an_hour_before_the_start(client, reception, physios, services, patient):
    booking = BookingFactory(practitioner=physios[0], service=services[1], patient=patient, start=START)
    page_url = reverse("staff:booking", args=[booking.pk])
    reception_client = client
    with time_machine.travel(START - timedelta(minutes=61), tick=False):
        reception_client.force_login(reception)
        assert "Move" in reception_client.get(page_url).content.decode()
        assert "Mark arrived" not in reception_client.get(page_url).content.decode()
        with pytest.raises(InvalidStatusChange, match="from 60 minutes before the start"):
            booking_services.booking_mark(booking=booking, action="arrived", actor=reception)
        response = reception_client.post(reverse("staff:mark", args=[booking.pk]), {"action": "arrived"}, follow=True)
        assert "from 60 minutes before the start (09:00)" in response.content.decode()
    assert Booking.objects.get(pk=booking.pk).arrived_at is None
    with time_machine.travel(START - timedelta(minutes=60), tick=False):
        assert "Mark arrived" in reception_client.get(page_url).content.decode()
        reception_client.post(reverse("staff:mark", args=[booking.pk]), {"action": "arrived"})
    assert Booking.objects.get(pk=booking.pk).arrived_at == START - timedelta(minutes=60)


def test_arrival_window_is_a_setting(reception, physios, services, patient, settings):
    settings.ARRIVAL_WINDOW_MINUTES = 15
    booking = BookingFactory(practitioner=physios[0], service=services[1], patient=patient, start=START)
    with time_machine.travel(START - timedelta(minutes=20), tick=False), pytest.raises(InvalidStatusChange):
        booking_services.booking_mark(booking=booking, action="arrived", actor=reception)
    with time_machine.travel(START - timedelta(minutes=15), tick=False):
        assert booking_services.booking_mark(booking=booking, action="arrived", actor=reception).arrived_at
