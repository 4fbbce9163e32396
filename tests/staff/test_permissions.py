"""Nothing a patient or visitor does reaches a staff page; a physiotherapist sees only their own patients."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.availability import LONDON
from booking.models import Booking
from tests.factories import BookingFactory, TimeOffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(physios, services, patient):
    alex, sam = physios
    booking = BookingFactory(practitioner=alex, service=services[0], patient=patient,
                             intake={"pain_areas": ["calf"], "side": "left", "duration_weeks": 2})
    off = TimeOffFactory(practitioner=alex, start=booking.start + timedelta(hours=3), end=booking.start + timedelta(hours=4))
    return {"alex": alex, "sam": sam, "booking": booking, "off": off}


def staff_urls(objects):
    b, alex, off = objects["booking"].pk, objects["alex"].pk, objects["off"].pk
    return [
        ("get", reverse("staff:today")),
        ("get", reverse("staff:day", args=["2027-01-12"])),
        ("get", reverse("staff:week", args=[alex])),
        ("get", reverse("staff:week_of", args=[alex, "2027-01-12"])),
        ("get", reverse("staff:my_day")),
        ("get", reverse("staff:book")),
        ("post", reverse("staff:book")),
        ("get", reverse("staff:booking", args=[b])),
        ("get", reverse("staff:move", args=[b])),
        ("post", reverse("staff:move", args=[b])),
        ("get", reverse("staff:cancel", args=[b])),
        ("post", reverse("staff:cancel", args=[b])),
        ("post", reverse("staff:mark", args=[b])),
        ("post", reverse("staff:send_link", args=[b])),
        ("get", reverse("staff:time_off_new")),
        ("post", reverse("staff:time_off_new")),
        ("get", reverse("staff:time_off_delete", args=[off])),
        ("post", reverse("staff:time_off_delete", args=[off])),
        ("get", reverse("staff:working_hours", args=[alex])),
        ("post", reverse("staff:working_hours", args=[alex])),
        ("post", reverse("staff:take_payment", args=[b])),
        ("get", reverse("staff:takings")),
        ("get", reverse("staff:week_all")),
        ("get", reverse("staff:time_off_detail", args=[off])),
        ("post", reverse("staff:time_off_detail", args=[off])),
    ]


def test_every_staff_url_sends_visitors_to_log_in(client, objects):
    for method, url in staff_urls(objects):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_every_staff_url_refuses_patients(client, objects, patient):
    client.force_login(patient)
    for method, url in staff_urls(objects):
        assert getattr(client, method)(url).status_code == 403, url
    # Nothing changed.
    assert Booking.objects.get(pk=objects["booking"].pk).status == Booking.Status.CONFIRMED


def test_plain_django_staff_flag_is_not_enough(client, objects):
    client.force_login(UserFactory(is_staff=True, email="admin-ish@clinic.example"))
    assert client.get(reverse("staff:today")).status_code == 403


def test_staff_calendar_api_refuses_visitors_and_patients(client, objects, patient):
    url = reverse("staff_api:calendar") + "?date=2027-01-12"
    response = client.get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    client.force_login(patient)
    response = client.get(url)
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "code"}


def test_physio_sees_own_patients_intake_not_anothers(client, objects, services):
    alex, sam = objects["alex"], objects["sam"]
    theirs = BookingFactory(practitioner=sam, service=services[0],
                            intake={"pain_areas": ["foot"], "side": "right", "duration_weeks": 1,
                                    "previous_injuries": "SECRET-SAM-NOTE"})
    client.force_login(alex.user)
    own = client.get(reverse("staff:booking", args=[objects["booking"].pk]))
    assert own.status_code == 200 and "Calf" in own.content.decode()
    assert client.get(reverse("staff:booking", args=[theirs.pk])).status_code == 404
    # Nor through my-day, the week view, the day view or the API.
    day = timezone.localtime(theirs.start, LONDON).date().isoformat()
    html = client.get(reverse("staff:my_day"), {"date": day, "practitioner": sam.pk}).content.decode()
    assert "SECRET-SAM-NOTE" not in html and f'data-booking="{theirs.pk}"' not in html
    assert client.get(reverse("staff:week", args=[sam.pk])).status_code == 404
    html = client.get(reverse("staff:day", args=[day])).content.decode()
    assert f'data-booking="{theirs.pk}"' not in html and f'data-booking="{objects["booking"].pk}"' in html
    api = client.get(reverse("staff_api:calendar"), {"date": day})
    assert [p["id"] for p in api.json()["practitioners"]] == [alex.pk]
    assert client.get(reverse("staff_api:calendar"), {"date": day, "practitioner": sam.pk}).status_code == 403


def test_physio_cannot_use_reception_desk_actions(client, objects):
    client.force_login(objects["alex"].user)
    b = objects["booking"].pk
    assert client.get(reverse("staff:book")).status_code == 403
    assert client.post(reverse("staff:cancel", args=[b]), {"refund": "none", "reason": "x"}).status_code == 403
    assert client.get(reverse("staff:working_hours", args=[objects["alex"].pk])).status_code == 403
    assert Booking.objects.get(pk=b).status == Booking.Status.CONFIRMED


def test_physio_may_mark_own_patient(client, objects):
    booking = objects["booking"]
    Booking.objects.filter(pk=booking.pk).update(start=timezone.now() - timedelta(minutes=5),
                                                 end=timezone.now() + timedelta(minutes=40),
                                                 blocks_until=timezone.now() + timedelta(minutes=55))
    client.force_login(objects["alex"].user)
    client.post(reverse("staff:mark", args=[booking.pk]), {"action": "attended"})
    assert Booking.objects.get(pk=booking.pk).status == Booking.Status.ATTENDED
