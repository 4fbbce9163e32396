"""Clicking a free cell preselects a service that fits there and says which fit."""

import re
from datetime import datetime
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from booking.availability import LONDON
from tests.factories import BookingFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)


def book_page(client, practitioner, clock):
    start = datetime(2027, 1, 12, *map(int, clock.split(":")), tzinfo=LONDON)
    query = urlencode({"practitioner": practitioner.pk, "start": start.isoformat()})
    return client.get(f"{reverse('staff:book')}?{query}").content.decode()


def selected_service(html):
    select = re.search(r'<select name="service".*?</select>', html, re.DOTALL).group(0)
    return re.search(r'<option value="(\d+)" selected>', select).group(1)


def test_free_cell_before_a_booking_preselects_the_service_that_fits(reception_client, physios, services):
    assessment, follow_up = services  # 45 + 15 minutes; 30 minutes
    alex, _ = physios
    BookingFactory(practitioner=alex, service=follow_up, start=datetime(2027, 1, 12, 11, tzinfo=LONDON))
    html = book_page(reception_client, alex, "10:15")
    assert selected_service(html) == str(follow_up.pk)
    assert "Sciatica assessment (45 min + 15 min buffer): does not fit here" in html
    assert "Follow-up treatment (30 min): fits" in html


def test_free_cell_with_room_for_both_says_both_fit(reception_client, physios, services):
    assessment, follow_up = services
    alex, _ = physios
    html = book_page(reception_client, alex, "09:00")
    assert "Sciatica assessment (45 min + 15 min buffer): fits" in html
    assert "Follow-up treatment (30 min): fits" in html
    assert selected_service(html) in (str(assessment.pk), str(follow_up.pk))
