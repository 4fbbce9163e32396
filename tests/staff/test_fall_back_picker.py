"""The desk's time picker on the autumn fall-back night (31 Oct 2027, Europe/London): 01:00-01:59 happens
twice, and reception can book either reading, told apart by the offset in the label."""

from datetime import UTC, datetime, time

import pytest
import time_machine
from django.urls import reverse

from booking.availability import LONDON
from booking.models import Booking
from tests.factories import PractitionerFactory, StaffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

FALL_BACK = "2027-10-31"
NOW = datetime(2027, 10, 30, 12, 0, tzinfo=LONDON)  # the Saturday before


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def night_physio(services):
    """Works 00:00-04:00 on Sundays (by the wall clock: five real hours that night)."""
    return PractitionerFactory(services=list(services), hours=[(6, time(0), time(4))],
                               user=StaffFactory(first_name="Nia", last_name="Night"))


def post(practitioner, service, clock, first_name):
    return {
        "action": "book", "practitioner": practitioner.pk, "service": service.pk, "date": FALL_BACK, "time": clock,
        "patient_id": "", "new_first_name": first_name, "new_last_name": "Caller", "new_phone": "07700 900999",
        "new_email": "", "payment": "clinic", "hold_minutes": "1440",
    }


def test_both_readings_of_0130_are_offered_and_bookable(reception_client, night_physio, services):
    follow_up = services[1]
    # The free cell of the second 01:30 (GMT, 01:30 UTC) opens the desk's form with that reading chosen.
    second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    page = reception_client.get(reverse("staff:book"), {"practitioner": night_physio.pk, "start": second.isoformat()})
    form = page.context["form"]
    choices = dict(form.fields["time"].choices)
    assert choices["01:30+01:00"] == "01:30 BST (UTC+01:00, before the clocks go back)"
    assert choices["01:30+00:00"] == "01:30 GMT (UTC+00:00, after the clocks go back)"
    values = list(choices)
    # In the order they happen, from midnight: 00:45, 01:00 BST ... 01:45 BST, 01:00 GMT ... 01:45 GMT, 02:00.
    assert values.index("00:45") < values.index("01:00+01:00") < values.index("01:45+01:00") \
        < values.index("01:00+00:00") < values.index("01:45+00:00") < values.index("02:00")
    assert form["time"].value() == "01:30+00:00"
    html = page.content.decode()
    assert 'value="01:30+00:00" selected' in html and "01:30 GMT (UTC+00:00" in html

    first = reception_client.post(reverse("staff:book"), post(night_physio, follow_up, "01:30+01:00", "Bea"))
    assert first.status_code == 302, first.content.decode()[:2000]
    again = reception_client.post(reverse("staff:book"), post(night_physio, follow_up, "01:30+00:00", "Gil"))
    assert again.status_code == 302, again.content.decode()[:2000]
    starts = dict(Booking.objects.values_list("patient__first_name", "start"))
    assert starts == {"Bea": datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "Gil": datetime(2027, 10, 31, 1, 30, tzinfo=UTC)}


def test_an_offset_on_an_ordinary_day_is_refused_and_books_nothing(reception_client, night_physio, services):
    data = post(night_physio, services[1], "01:30+00:00", "Bea") | {"date": "2027-11-07"}
    response = reception_client.post(reverse("staff:book"), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Booking.objects.exists()


def test_the_move_page_offers_the_second_reading_too(reception_client, night_physio, services):
    from tests.factories import BookingFactory

    booking = BookingFactory(practitioner=night_physio, service=services[1],
                             start=datetime(2027, 10, 31, 0, 0, tzinfo=LONDON))
    # The first 01:15 (BST) is taken: the engine then offers the second (GMT), as for patients.
    BookingFactory(practitioner=night_physio, service=services[1], start=datetime(2027, 10, 31, 0, 15, tzinfo=UTC))
    page = reception_client.get(reverse("staff:move", args=[booking.pk]),
                                {"practitioner": night_physio.pk, "start": "2027-10-31T01:15:00+00:00"})
    assert page.context["form"]["time"].value() == "01:15+00:00"
    response = reception_client.post(reverse("staff:move", args=[booking.pk]), {
        "practitioner": night_physio.pk, "date": FALL_BACK, "time": "01:15+00:00", "reason": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    booking.refresh_from_db()
    assert booking.start == datetime(2027, 10, 31, 1, 15, tzinfo=UTC)
