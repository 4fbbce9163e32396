from datetime import date, datetime

import pytest
from django.urls import reverse

from booking.availability import LONDON
from booking.models import Booking
from tests.factories import BookingFactory, TimeOffFactory
from tests.staff.seed import add_lunches, fill_day, make_clinic, make_patients

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]  # the clock stops at NOW

DAY = date(2027, 1, 12)  # a Tuesday
NOW = datetime(2027, 1, 12, 7, 0, tzinfo=LONDON)


def test_day_view_shows_columns_bookings_time_off_and_flags(reception_client, physios, services, patient):
    alex, sam = physios
    BookingFactory(practitioner=alex, service=services[0], patient=patient, start=datetime(2027, 1, 12, 10, 0, tzinfo=LONDON),
                   flags=["cancer_history"])
    TimeOffFactory(practitioner=sam, start=datetime(2027, 1, 12, 12, 0, tzinfo=LONDON),
                   end=datetime(2027, 1, 12, 13, 0, tzinfo=LONDON), reason="training", note="CPD course")
    response = reception_client.get(reverse("staff:day", args=["2027-01-12"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alex Ray" in html and "Sam Lee" in html
    assert "Paula Jones" in html and "Sciatica assessment" in html
    assert "Clinical flag: History of cancer" in html
    assert "Training: CPD course" in html
    # A free slot link in working hours, none for the booked 10:00.
    assert f"practitioner={alex.pk}&amp;start=2027-01-12T09%3A00%3A00%2B00%3A00" in html
    assert f"practitioner={alex.pk}&amp;start=2027-01-12T10%3A00%3A00%2B00%3A00" not in html


def test_today_and_date_picker(reception_client, physios):
    assert reception_client.get(reverse("staff:today")).status_code == 200
    response = reception_client.get(reverse("staff:today"), {"date": "2027-02-03"})
    assert response.status_code == 302 and response["Location"] == "/staff/day/2027-02-03/"
    response = reception_client.get(reverse("staff:today"), {"date": "not-a-date"})
    assert response.status_code == 302
    assert reception_client.get("/staff/day/2027-02-30/").status_code == 404


def test_week_view_one_practitioner(reception_client, physios, services, patient):
    alex, sam = physios
    BookingFactory(practitioner=alex, service=services[1], patient=patient, start=datetime(2027, 1, 14, 11, 0, tzinfo=LONDON))
    response = reception_client.get(reverse("staff:week_of", args=[alex.pk, "2027-01-12"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mon 11" in html and "Sun 17" in html
    assert "Paula Jones" in html


def test_my_day_lists_patients_in_order_with_intake(client, physios, services, patient):
    alex, sam = physios
    later = BookingFactory(practitioner=alex, service=services[1], patient=patient, start=datetime(2027, 1, 12, 14, 0, tzinfo=LONDON))
    earlier = BookingFactory(practitioner=alex, service=services[0], start=datetime(2027, 1, 12, 9, 0, tzinfo=LONDON),
                             intake={"pain_areas": ["calf"], "side": "left", "duration_weeks": 10},
                             flags=["long_standing"])
    client.force_login(alex.user)
    html = client.get(reverse("staff:my_day"), {"date": "2027-01-12"}).content.decode()
    assert html.index(f'data-booking="{earlier.pk}"') < html.index(f'data-booking="{later.pk}"')
    assert "Pain for over 8 weeks" in html and "Calf" in html


def test_day_view_queries_are_few_and_flat(reception_client, django_assert_max_num_queries, settings):
    """8 practitioners, 60 bookings: at most 6 queries; 240 bookings: the same number.

    Session, the user with their roles (accounts/backends.py); practitioners with their hours, time off, bookings; the
    needs-attention and urgent-advice counts (one query). Rendered, not from the day cache.
    """
    settings.SLOT_CACHE = False
    _, follow_up, practitioners = make_clinic(8)
    patients = make_patients(20)
    add_lunches(DAY, practitioners)
    url = reverse("staff:day", args=[DAY.isoformat()])
    counts = {}
    for count in (60, 240):
        Booking.objects.all().delete()
        fill_day(DAY, practitioners, follow_up, patients, count)
        reception_client.get(url)  # warm per-process caches (content types, templates)
        with django_assert_max_num_queries(6) as ctx:
            response = reception_client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert html.count('class="cal-head') == 8
        live = Booking.objects.exclude(status__in=[Booking.Status.CANCELLED, Booking.Status.HELD]).count()
        assert html.count('class="bk ') >= live
        counts[count] = len(ctx.captured_queries)
    assert counts[60] == counts[240] == 6, counts


def test_booking_left_outside_working_hours_is_marked_on_the_calendar(reception_client, physios, services, patient):
    alex, _ = physios
    BookingFactory(practitioner=alex, service=services[1], patient=patient, start=datetime(2027, 1, 12, 17, 30, tzinfo=LONDON))
    html = reception_client.get(reverse("staff:day", args=["2027-01-12"])).content.decode()
    assert html.count("Outside hours") == 1


def test_physio_day_view_shows_only_their_column_and_links_their_week(client, physios):
    alex, sam = physios
    client.force_login(alex.user)
    html = client.get(reverse("staff:day", args=["2027-01-12"])).content.decode()
    assert html.count('class="cal-head') == 1 and "Sam Lee" not in html
    assert reverse("staff:week", args=[alex.pk]) in html
    assert "Book a patient" not in html and 'class="free"' not in html

