"""Records kept after an erasure are access-restricted (privacy.access): every staff view shows the slot and
"Record retained until <date>", never the patient or their care; managers open the content with a logged reason."""

from datetime import date, datetime, time

import pytest
from django.contrib.auth.models import Group

from booking.availability import LONDON
from booking.models import Booking
from payments.models import Payment
from privacy.models import RetainedRecordAccess
from privacy.services import patient_erase
from tests.factories import BookingFactory, FollowUpFactory, PractitionerFactory, ReceptionistFactory, ServiceFactory, UserFactory

DAY = date(2026, 3, 10)  # a Tuesday, GMT
SECRET_ANSWER = "fell off a trampoline"
KEPT_UNTIL = "10 Mar 2034"  # 8 years after the last attended session


@pytest.fixture
def kept(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service])
    patient = UserFactory(email="gone@example.com", first_name="Gwendolyn", last_name="Gone", phone="07700 900777")
    booking = BookingFactory(patient=patient, practitioner=physio, service=service, status=Booking.Status.ATTENDED,
                             start=datetime.combine(DAY, time(10), tzinfo=LONDON),
                             intake={"pain_areas": ["thigh"], "previous_injuries": SECRET_ANSWER}, flags=["long_standing"])
    Payment.objects.create(booking=booking, method=Payment.Method.CARD_TERMINAL, amount_pence=7500,
                           status=Payment.Status.SUCCEEDED, idempotency_key="kept-1",
                           paid_at=datetime.combine(DAY, time(11), tzinfo=LONDON))
    living = BookingFactory(practitioner=physio, service=FollowUpFactory(), status=Booking.Status.ATTENDED,
                            patient=UserFactory(first_name="Lena", last_name="Living"),
                            start=datetime.combine(DAY, time(14), tzinfo=LONDON))
    patient_erase(user=patient, channel="online", actor=patient)
    return {"booking": booking, "physio": physio, "living": living}


@pytest.fixture
def manager(db):
    user = UserFactory(email="owner@clinic.example", first_name="Olu", last_name="Owner")
    user.groups.add(Group.objects.get_or_create(name="Manager")[0])
    return user


def _restricted(html: str) -> None:
    assert f"Record retained until {KEPT_UNTIL}" in html
    for leaked in ("Erased patient", SECRET_ANSWER, "Gwendolyn", "Pain for over", "£75.00"):
        assert leaked not in html, leaked


@pytest.mark.parametrize("path", [f"/staff/day/{DAY}/", "/staff/week/{physio}/" + f"{DAY}/",
                                  f"/staff/my-day/?date={DAY}&practitioner={{physio}}"])
def test_reception_calendars_show_the_slot_and_its_end_date_not_the_patient(client, kept, path):
    client.force_login(ReceptionistFactory())
    html = client.get(path.format(physio=kept["physio"].pk)).content.decode()
    _restricted(html)
    assert "Lena Living" in html  # other patients as before


def test_the_physio_s_own_day_lists_the_slot_without_intake_history_or_scores(client, kept):
    client.force_login(kept["physio"].user)
    html = client.get(f"/staff/my-day/?date={DAY}").content.decode()
    _restricted(html)
    assert "Access restricted" in html and "Visit history" in html  # the living patient's card still has it
    assert html.count("Visit history") == 1


@pytest.mark.parametrize("who", ["reception", "physio"])
def test_the_booking_page_is_restricted_and_offers_no_desk_action(client, kept, who):
    client.force_login(ReceptionistFactory() if who == "reception" else kept["physio"].user)
    pk = kept["booking"].pk
    html = client.get(f"/staff/bookings/{pk}/").content.decode()
    _restricted(html)
    assert "Access restricted" in html and "Clinical record kept until" in html and "10 March 2034" in html
    assert "Mark no-show" not in html and f"/staff/retained-records/{pk}/" not in html
    assert client.post(f"/staff/bookings/{pk}/mark/", {"action": "no_show"}).status_code == 404
    assert client.get(f"/staff/bookings/{pk}/cancel/").status_code in (403, 404)
    assert Booking.objects.get(pk=pk).status == Booking.Status.ATTENDED


def test_staff_api_gives_no_patient_for_a_kept_record(client, kept):
    client.force_login(ReceptionistFactory())
    data = client.get(f"/api/v1/staff/calendar/?date={DAY}").json()
    rows = {b["id"]: b for p in data["practitioners"] for b in p["bookings"]}
    kept_row, living_row = rows[kept["booking"].pk], rows[kept["living"].pk]
    assert kept_row["patient"] == {"id": None, "name": f"Record retained until {KEPT_UNTIL}"}
    assert kept_row["flags"] == [] and kept_row["retained_until"] == "2034-03-10"
    assert living_row["patient"]["id"] == kept["living"].patient_id and living_row["retained_until"] is None


def test_the_manager_sees_end_dates_and_opens_the_content_with_a_logged_reason(client, kept, manager):
    pk = kept["booking"].pk
    client.force_login(manager)
    listing = client.get("/staff/retained-records/").content.decode()
    assert f"#{pk}" in listing and "10 Mar 2034" in listing and "10 Mar 2032" in listing  # clinical, payments
    assert "/staff/retained-records/" in client.get("/reports/").content.decode()
    form = client.get(f"/staff/retained-records/{pk}/").content.decode()
    assert SECRET_ANSWER not in form and "reason" in form.lower()
    refused = client.post(f"/staff/retained-records/{pk}/", {"reason": " "})
    assert refused.status_code == 400 and not RetainedRecordAccess.objects.exists()
    opened = client.post(f"/staff/retained-records/{pk}/", {"reason": "Insurer claim ref 4411"}).content.decode()
    assert SECRET_ANSWER in opened and "£75.00" in opened and "Pain for over" in opened
    log = RetainedRecordAccess.objects.get()
    assert (log.booking_id, log.by, log.reason) == (pk, manager, "Insurer claim ref 4411")
    assert "Insurer claim ref 4411" in client.get("/staff/retained-records/").content.decode()


@pytest.mark.parametrize("who", ["reception", "physio", "patient"])
def test_only_managers_open_kept_records(client, kept, who):
    user = {"reception": ReceptionistFactory, "physio": lambda: kept["physio"].user, "patient": UserFactory}[who]()
    client.force_login(user)
    pk = kept["booking"].pk
    assert client.get("/staff/retained-records/").status_code == 403
    assert client.post(f"/staff/retained-records/{pk}/", {"reason": "curious today"}).status_code == 403
    assert not RetainedRecordAccess.objects.exists()


def test_the_desk_export_cannot_find_an_erased_patient(client, kept):
    client.force_login(ReceptionistFactory())
    response = client.post("/staff/data-requests/", {"email": "gone@example.com", "channel": "phone", "note": "x"})
    assert response.status_code == 400 and SECRET_ANSWER not in response.content.decode()


def test_the_desk_patient_search_never_finds_an_erased_patient(client, kept):
    client.force_login(ReceptionistFactory())
    html = client.get("/staff/book/", {"q": "Erased patient"}).content.decode()
    assert f"erased-{kept['booking'].patient_id}@" not in html
    assert "Lena Living" in client.get("/staff/book/", {"q": "Lena"}).content.decode()
