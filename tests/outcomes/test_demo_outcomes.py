"""`make demo` seeds the clinic (demo_data) and then the outcome demo (demo_outcomes): Eleanor Frost with five
scored visits with Sarah Okafor, on any day the demo is made (here a Sunday night, when Sarah does not work)."""

from datetime import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from booking.availability import LONDON
from booking.models import Booking
from outcomes.models import OutcomeScore
from outcomes.services import patient_visits

pytestmark = [pytest.mark.django_db]

SUNDAY_NIGHT = datetime(2027, 1, 17, 23, 30, tzinfo=LONDON)


def test_make_demos_seed_commands_give_the_patient_with_five_scored_visits(settings, client):
    settings.DEBUG = True  # as make demo runs them (the demo refuses DEBUG=0 without --force)
    with time_machine.travel(SUNDAY_NIGHT, tick=False):
        call_command("demo_data", quiet_logins=True, stdout=StringIO())
        out = StringIO()
        call_command("demo_outcomes", stdout=out)
        assert "Outcome demo ready" in out.getvalue()
        scores = OutcomeScore.objects.filter(booking__patient__email="eleanor.frost@example.com")
        visits = patient_visits(patient_id=scores.first().booking.patient_id)
        assert [(v.leg_pain, v.activity_limit) for v in visits] == [(8, 7), (7, 7), (5, 5), (4, 3), (3, 2)]
        bookings = Booking.objects.filter(outcome_score__in=scores).order_by("start")
        assert {b.practitioner.user.email for b in bookings} == {"sarah.okafor@physiobook.local"}
        assert [b.service.slug for b in bookings] == ["sciatica-assessment"] + ["follow-up-treatment"] * 4
        assert bookings.last().status == Booking.Status.CONFIRMED and bookings.last().start > SUNDAY_NIGHT
        # Again: nothing added.
        before = (Booking.objects.count(), OutcomeScore.objects.count())
        call_command("demo_outcomes", stdout=StringIO())
        assert (Booking.objects.count(), OutcomeScore.objects.count()) == before

        client.login(username="sarah.okafor@physiobook.local", password="physio-demo-2027")
        page = client.get(f"/staff/bookings/{bookings.last().pk}/").content.decode()
    assert "How Eleanor is getting on" in page and "<td>3</td><td>2</td>" in page
