"""The waitlist pages: join from the time picker, the offer page, leave from the email, reception's list."""

from datetime import date

import pytest
from django.core import mail

from booking import services as booking_services
from tests.factories import ReceptionistFactory, ServiceFactory, UserFactory
from waitlist import services
from waitlist.models import WaitlistEntry, WaitlistOffer
from waitlist.notifications import leave_token

from .conftest import WEDNESDAY_10


@pytest.fixture
def patient(db):
    return UserFactory(email="pat@example.com")


def test_the_time_picker_offers_the_waitlist(client, frozen, clinic):
    service, _ = clinic
    page = client.get(f"/book/{service.slug}/any/2027-01-13/")
    assert f'/waitlist/join/{service.slug}/any/?day=2027-01-13' in page.content.decode()


def test_joining_from_the_page_saves_the_window(client, frozen, clinic, patient):
    service, physio = clinic
    client.force_login(patient)
    assert client.get(f"/waitlist/join/{service.slug}/{physio.pk}/?day=2027-01-13").status_code == 200
    response = client.post(f"/waitlist/join/{service.slug}/{physio.pk}/", {
        "date_from": "2027-01-13", "date_to": "2027-01-20", "weekdays": ["2", "3"], "times_of_day": ["morning"],
    })
    assert response.status_code == 302 and response["Location"] == "/waitlist/"
    entry = WaitlistEntry.objects.get()
    assert (entry.patient, entry.practitioner, entry.weekdays, entry.times_of_day) == (patient, physio, [2, 3], ["morning"])
    assert "You are on the waitlist" in client.get("/waitlist/").content.decode()


def test_a_bad_window_on_the_page_is_a_form_error(client, frozen, clinic, patient):
    service, _ = clinic
    client.force_login(patient)
    response = client.post(f"/waitlist/join/{service.slug}/any/", {"date_from": "2027-01-01", "date_to": "2027-01-20"})
    assert response.status_code == 200
    assert "cannot be in the past" in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_joining_for_an_assessment_asks_the_intake_and_stops_on_red_flags(client, frozen, patient):
    from tests.patient.conftest import intake_post

    assessment = ServiceFactory()
    from tests.factories import PractitionerFactory

    PractitionerFactory(services=[assessment])
    client.force_login(patient)
    page = client.get(f"/waitlist/join/{assessment.slug}/any/")
    assert "Important safety questions" in page.content.decode()
    window = {"date_from": "2027-01-12", "date_to": "2027-01-20"}
    urgent = client.post(f"/waitlist/join/{assessment.slug}/any/", {**window, **intake_post(saddle_numbness="yes")}, follow=True)
    assert "urgent" in urgent.content.decode().lower()
    assert not WaitlistEntry.objects.exists()
    client.post(f"/waitlist/join/{assessment.slug}/any/", {**window, **intake_post()})
    assert WaitlistEntry.objects.get().intake["pain_areas"] == ["buttock", "thigh"]


def _offer(clinic, patient):
    service, physio = clinic
    entry = services.waitlist_join(patient=patient, service=service, date_from=date(2027, 1, 12),
                                   date_to=date(2027, 1, 20))
    return services.waitlist_offer_make(entry=entry, practitioner=physio, start=WEDNESDAY_10)


def test_the_offer_page_holds_then_sends_the_patient_to_pay(client, frozen, clinic, patient):
    offer = _offer(clinic, patient)
    client.force_login(patient)
    page = client.get(f"/waitlist/offers/{offer.pk}/").content.decode()
    assert "A time is held for you" in page and "08:15" in page  # held until 08:15 London time
    response = client.post(f"/waitlist/offers/{offer.pk}/")
    assert response.status_code == 302 and "/payments/" in response["Location"]
    assert offer.booking.payments.count() == 1


def test_another_patients_offer_is_a_404(client, frozen, clinic, patient):
    offer = _offer(clinic, patient)
    client.force_login(UserFactory())
    assert client.get(f"/waitlist/offers/{offer.pk}/").status_code == 404
    assert client.post(f"/waitlist/offers/{offer.pk}/").status_code == 404


def test_leaving_from_the_email_link_needs_no_login_but_a_valid_signature(client, frozen, clinic, patient):
    offer = _offer(clinic, patient)
    assert client.get("/waitlist/leave/forged-token/").status_code == 404
    token = leave_token(offer.entry_id)
    assert "Leave the waitlist?" in client.get(f"/waitlist/leave/{token}/").content.decode()
    client.post(f"/waitlist/leave/{token}/")
    offer.entry.refresh_from_db()
    assert offer.entry.status == WaitlistEntry.Status.LEFT
    offer.booking.refresh_from_db()
    assert offer.state() == "lapsed"  # the held slot went back


def test_reception_sees_the_days_waitlist_and_offers_a_slot_by_hand(client, frozen, clinic, patient,
                                                                   django_assert_max_num_queries,
                                                                   django_capture_on_commit_callbacks):
    service, physio = clinic
    for _ in range(3):
        services.waitlist_join(patient=UserFactory(), service=service, date_from=date(2027, 1, 12),
                               date_to=date(2027, 1, 20))
    entry = services.waitlist_join(patient=patient, service=service, date_from=date(2027, 1, 13),
                                   date_to=date(2027, 1, 13), times_of_day=["morning"])
    client.force_login(ReceptionistFactory())
    with django_assert_max_num_queries(20):
        page = client.get("/staff/waitlist/?date=2027-01-13")
    html = page.content.decode()
    assert page.status_code == 200 and patient.display_name in html
    value = f"{physio.pk}|{WEDNESDAY_10.isoformat()}"
    assert value in html
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/staff/waitlist/{entry.pk}/offer/", {"slot": value, "date": "2027-01-13"})
    offer = WaitlistOffer.objects.get()
    assert offer.entry == entry and offer.offered_by is not None and offer.state() == "holding"
    assert [m.to for m in mail.outbox] == [["pat@example.com"]]


def test_the_staff_waitlist_is_for_staff_only(client, frozen, clinic, patient):
    assert client.get("/staff/waitlist/").status_code == 302  # to log in
    client.force_login(patient)
    assert client.get("/staff/waitlist/").status_code == 403
    assert client.post("/staff/waitlist/1/offer/", {"slot": "x"}).status_code == 403


def test_the_my_bookings_confirmation_path_ends_the_wait(client, frozen, clinic, patient):
    offer = _offer(clinic, patient)
    booking_services.booking_confirm(booking=offer.booking, reason="Paid.")
    client.force_login(patient)
    assert "Booked" in client.get("/waitlist/").content.decode()


def test_my_waitlist_costs_a_fixed_number_of_queries(client, frozen, clinic, patient, django_assert_max_num_queries,
                                                      settings):
    # Three offers held at once for one patient: the clinic's offers are not held against their cap of 2.
    settings.BOOKING_MAX_LIVE_HOLDS = 2
    service, physio = clinic
    for day in (13, 14, 15):
        entry = services.waitlist_join(patient=patient, service=service, date_from=date(2027, 1, day),
                                       date_to=date(2027, 1, day))
        services.waitlist_offer_make(entry=entry, practitioner=physio, start=WEDNESDAY_10.replace(day=day))
    client.force_login(patient)
    with django_assert_max_num_queries(10):
        page = client.get("/waitlist/")
    assert page.content.decode().count("A time is held for you") == 3
