"""`manage.py demo_data` builds the demo clinic, and running it again duplicates nothing.

It runs with a week of bookings either side of today instead of the command's three weeks
back and two ahead: every rule checked below holds per booking or per day, so a third of the
bookings check the same in a third of the time. The full-size demo is still built by
tests/browser/test_outcomes_chart.py and by CI's load test (`demo_data --force`).
"""

from datetime import datetime
from io import StringIO

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from accounts.roles import is_reception
from booking.availability import LONDON
from booking.management.commands import demo_data
from booking.models import Booking, BookingEvent, Practitioner, Service, TimeOff, WorkingHours
from offers.models import Offer
from payments.models import Payment

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

MODELS = [User, EmailAddress, Group, Service, Practitioner, WorkingHours, TimeOff, Booking, BookingEvent, Payment, Offer]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


# A Wednesday morning; the clock ticks on from here. The week ahead holds the night the clocks go
# forward (Sunday 28 March 2027), so the demo's bookings straddle a DST change.
TODAY = datetime(2027, 3, 24, 9, 30, tzinfo=LONDON)


@pytest.fixture
def small_demo(monkeypatch):
    monkeypatch.setattr(demo_data, "DAYS_BEHIND", 7)
    monkeypatch.setattr(demo_data, "DAYS_AHEAD", 7)
    with time_machine.travel(TODAY, tick=True):
        yield


def test_demo_data_builds_the_clinic_and_is_idempotent(settings, small_demo):
    settings.DEBUG = True  # the demo refuses DEBUG=0 (pytest runs with DEBUG off)
    out = StringIO()
    call_command("demo_data", stdout=out)
    first = counts()
    call_command("demo_data", stdout=StringIO())
    assert counts() == first

    text = out.getvalue()
    assert "http://127.0.0.1:8000" in text
    for email in ("admin@physiobook.local", "reception@physiobook.local", "patient@physiobook.local"):
        assert email in text
        assert EmailAddress.objects.get(email=email).verified
        assert User.objects.get(email=email).check_password(
            text.split(email, 1)[1].split("password:", 1)[1].split()[0]
        )
    assert User.objects.get(email="admin@physiobook.local").is_superuser
    assert is_reception(User.objects.get(email="reception@physiobook.local"))

    assert Practitioner.objects.count() == 4
    assert set(Service.objects.values_list("name", "duration", "buffer_after", "price_pence", "is_first_session")) == {
        ("Sciatica assessment", 45, 15, 7500, True),
        ("Follow-up treatment", 30, 0, 6000, False),
        ("Sports massage", 60, 0, 7000, False),
    }
    assert WorkingHours.objects.filter(weekday=5).exists()  # Saturday mornings
    now = timezone.now()
    assert TimeOff.objects.filter(reason=TimeOff.Reason.HOLIDAY, start__gt=now).count() == 1
    offer = Offer.current()
    assert offer.percent_off == 20 and offer.validity_hours == 24
    assert list(offer.services.values_list("slug", flat=True)) == ["sciatica-assessment"]

    # History behind, bookings ahead, and every booking consistent with the rules.
    assert Booking.objects.filter(status=Booking.Status.ATTENDED, start__lt=now).exists()
    assert Booking.objects.filter(status=Booking.Status.NO_SHOW, start__lt=now).exists()
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED, start__gt=now).exists()
    assert not Booking.objects.filter(status=Booking.Status.HELD).exists()
    assert not Booking.objects.filter(status=Booking.Status.ATTENDED).exclude(payments__status="succeeded").exists()
    for booking in Booking.objects.blocking():
        assert not Booking.objects.blocking().filter(practitioner=booking.practitioner).overlapping(
            booking.start, booking.blocks_until
        ).exclude(pk=booking.pk).exists()
