"""A week view of every practitioner at once."""

from datetime import datetime

import pytest
from django.urls import reverse

from booking.availability import LONDON
from tests.factories import BookingFactory, TimeOffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

NOW = datetime(2027, 1, 11, 7, 0, tzinfo=LONDON)  # Monday


def test_week_of_all_practitioners_shows_each_row_and_day(reception_client, physios, services,
                                                          django_assert_max_num_queries):
    alex, sam = physios
    BookingFactory(practitioner=alex, service=services[1], start=datetime(2027, 1, 12, 10, tzinfo=LONDON))
    BookingFactory(practitioner=sam, service=services[1], start=datetime(2027, 1, 14, 11, tzinfo=LONDON))
    TimeOffFactory(practitioner=sam, start=datetime(2027, 1, 15, 12, tzinfo=LONDON),
                   end=datetime(2027, 1, 15, 13, tzinfo=LONDON), reason="training")
    with django_assert_max_num_queries(8):
        html = reception_client.get(reverse("staff:week_all")).content.decode()
    assert "Week of 11 January 2027" in html
    alex_row = html.split(f'<tr data-practitioner="{alex.pk}"')[1].split("</tr>")[0]
    sam_row = html.split(f'<tr data-practitioner="{sam.pk}"')[1].split("</tr>")[0]
    assert alex_row.count("1 booked") == 1 and "09:00–17:00" in alex_row
    assert sam_row.count("1 booked") == 1 and "Training 12:00–13:00" in sam_row


def test_physiotherapist_sees_only_their_own_row(client, physios):
    alex, sam = physios
    client.force_login(alex.user)
    html = client.get(reverse("staff:week_all")).content.decode()
    assert f'data-practitioner="{alex.pk}"' in html and f'data-practitioner="{sam.pk}"' not in html


def test_reception_can_move_bookings_from_the_week_to_another_day(reception_client, physios, services):
    alex, sam = physios
    booking = BookingFactory(practitioner=alex, service=services[1], start=datetime(2027, 1, 12, 10, tzinfo=LONDON))
    html = reception_client.get(reverse("staff:week_all")).content.decode()
    assert f'data-booking="{booking.pk}" data-time="10:00" data-movable="1"' in html
    assert f'data-practitioner="{sam.pk}" data-day="2027-01-14"' in html and "js/week_all.js" in html
    # Dropped on Sam's Thursday: the move page proposes that day, the same time and Sam; nothing moved yet.
    page = reception_client.get(reverse("staff:move", args=[booking.pk]),
                                {"practitioner": sam.pk, "date": "2027-01-14", "time": "10:00"})
    form = page.context["form"]
    assert (str(form["date"].value()), form["time"].value(), form["practitioner"].value()) == ("2027-01-14", "10:00", sam.pk)
    booking.refresh_from_db()
    assert booking.practitioner == alex
    # Hostile values are ignored, never a 500.
    for params in ({"date": "0000-99-99", "time": "10:00"}, {"date": "2027-01-14", "time": "25:99'"},
                   {"date": "2027-01-14", "practitioner": "x"}):
        assert reception_client.get(reverse("staff:move", args=[booking.pk]), params).status_code == 200


def test_physiotherapists_get_no_move_handles_in_the_week(client, physios, services):
    alex, _ = physios
    BookingFactory(practitioner=alex, service=services[1], start=datetime(2027, 1, 12, 10, tzinfo=LONDON))
    client.force_login(alex.user)
    html = client.get(reverse("staff:week_all")).content.decode()
    assert "data-movable" not in html and "week_all.js" not in html
