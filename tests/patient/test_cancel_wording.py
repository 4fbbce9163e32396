"""The cancel page's policy wording, and what it says when the refund window closes while it is open."""

from datetime import timedelta

import pytest
import time_machine

from booking.models import Booking

from .test_my_bookings import START, paid_booking

pytestmark = [pytest.mark.django_db, pytest.mark.booking]


def test_cancel_page_says_24_hours_or_more_at_exactly_24_hours(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    with time_machine.travel(START - timedelta(hours=24), tick=False):
        page = patient_client.get(f"/my-bookings/{booking.pk}/cancel/").content.decode()
    assert "24 hours or more before the appointment" in page
    assert "more than 24 hours" not in page


def test_refund_window_closing_while_the_page_is_open_says_no_refund_was_given(patient_client, patient, clinic):
    service, physio = clinic
    booking = paid_booking(patient, physio, service)
    with time_machine.travel(START - timedelta(hours=24), tick=False):
        assert "full refund of £75.00" in patient_client.get(f"/my-bookings/{booking.pk}/cancel/").content.decode()
    with time_machine.travel(START - timedelta(hours=24) + timedelta(seconds=30), tick=False):
        response = patient_client.post(f"/my-bookings/{booking.pk}/cancel/", {"reason": ""}, follow=True)
    page = response.content.decode()
    assert "Your booking is cancelled. No refund was given" in page
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert not booking.payments.get().refunds.exists()
