"""The physiotherapist's My day: their time off, outside-hours bookings, a Today button, each patient's history."""

from datetime import datetime, time

import pytest
from django.urls import reverse

from booking.availability import LONDON
from booking.models import WorkingHours
from tests.factories import BookingFactory, TimeOffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

NOW = datetime(2027, 1, 12, 7, 0, tzinfo=LONDON)
INTAKE = {"pain_areas": ["calf"], "side": "left", "duration_weeks": 10}


def at(day, hour):
    return datetime(2027, 1, day, hour, 0, tzinfo=LONDON)


def test_my_day_shows_time_off_outside_hours_today_and_visit_history(client, physios, services, patient):
    assessment, follow_up = services
    alex, _ = physios
    client.force_login(alex.user)
    BookingFactory(practitioner=alex, service=assessment, patient=patient, start=at(5, 10), intake=INTAKE,
                   status="attended")
    today = BookingFactory(practitioner=alex, service=follow_up, patient=patient, start=at(12, 10))
    late = BookingFactory(practitioner=alex, service=follow_up, start=at(12, 16))
    WorkingHours.objects.filter(practitioner=alex).update(end_time=time(16))
    TimeOffFactory(practitioner=alex, start=at(12, 12), end=at(12, 13), reason="lunch", note="Team lunch")
    html = client.get(reverse("staff:my_day")).content.decode()
    assert "Lunch: Team lunch" in html
    assert html.count("Outside working hours") == 1
    assert f'data-booking="{late.pk}"' in html
    # The follow-up carries the assessment's intake and lists the earlier visit.
    block = html.split(f'data-booking="{today.pk}"')[1].split("</li>\n")[0]
    assert "Calf" in block and "From the assessment of 5 Jan 2027" in block
    assert "1 earlier visit" in block and "Sciatica assessment with Alex Ray" in block
    assert ">Today</a>" not in html
    other_day = client.get(reverse("staff:my_day"), {"date": "2027-01-13"}).content.decode()
    assert ">Today</a>" in other_day
