"""One code per mailbox, shown only to its confirmed owner; holds limited inside the hold service."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.mailbox import normalise_mailbox
from booking import services as booking_services
from booking.availability import LONDON
from booking.exceptions import OfferNotYours, TooManyHolds
from booking.models import Booking
from config.throttling import RateLimited
from offers.models import OfferCode
from offers.services import offer_code_claim, offer_code_validate
from tests.factories import (
    BookingFactory,
    OfferCodeFactory,
    OfferFactory,
    PractitionerFactory,
    ReceptionistFactory,
    ServiceFactory,
    UserFactory,
)

from .conftest import INTAKE, NOW

pytestmark = [pytest.mark.django_db]



@pytest.fixture
def clinic(db):
    service = ServiceFactory(slug="sciatica-assessment")
    physio = PractitionerFactory(services=[service], hours=[(d, time(9), time(17)) for d in range(7)])
    offer = OfferFactory(services=[service])
    return service, physio, offer


# --- mailboxes -------------------------------------------------------------------------------


@pytest.mark.parametrize("email, mailbox", [
    ("Sam.Smith+offer2@GoogleMail.com", "samsmith@gmail.com"),
    ("s.a.m.smith@gmail.com", "samsmith@gmail.com"),
    ("sam+x+y@example.com", "sam@example.com"),
    ("sam.smith@example.com", "sam.smith@example.com"),  # dots matter outside Gmail
    ("  SAM@Example.COM ", "sam@example.com"),
])
def test_normalise_mailbox(email, mailbox):
    assert normalise_mailbox(email) == mailbox


def test_plus_tags_and_gmail_dots_get_no_second_code(clinic, frozen):
    first = offer_code_claim(email="samsmith@gmail.com")
    for alias in ["sam.smith@gmail.com", "Sam.Smith+2@googlemail.com", "samsmith+offer@gmail.com"]:
        again = offer_code_claim(email=alias)
        assert again.code.pk == first.code.pk and not again.created
    assert OfferCode.objects.count() == 1


# --- the code belongs to a confirmed inbox ------------------------------------------------------


def test_an_unverified_account_cannot_use_the_code_of_its_address(clinic, frozen):
    service, _, offer = clinic
    patient = UserFactory(email="new@example.com", email_verified=False)
    code = OfferCodeFactory(offer=offer, email="new@example.com", issued_at=NOW,
                            expires_at=NOW + timedelta(hours=24))
    with pytest.raises(OfferNotYours, match="Confirm your email"):
        offer_code_validate(code_text=code.code, patient=patient, service=service)
    with pytest.raises(OfferNotYours):
        booking_services.booking_hold(patient=patient, service=service, start=datetime(2027, 1, 12, 10, tzinfo=LONDON),
                                      offer_code=code.code, intake=INTAKE, actor=patient)
    assert not Booking.objects.exists()
    code.refresh_from_db()
    assert code.reserved_by_id is None


def test_mine_shows_the_code_only_to_its_verified_owner(client, clinic, frozen):
    _, _, offer = clinic
    code = OfferCodeFactory(offer=offer, email="pat@example.com", issued_at=NOW,
                            expires_at=NOW + timedelta(hours=24))
    assert client.get("/api/v1/offers/mine/").status_code == 401
    client.force_login(UserFactory(email="pat@example.com", email_verified=False))
    assert client.get("/api/v1/offers/mine/").status_code == 404
    client.force_login(UserFactory(email="other@example.com"))
    assert client.get("/api/v1/offers/mine/").status_code == 404
    owner = UserFactory(email="Pat+clinic@example.com")
    client.force_login(owner)
    body = client.get("/api/v1/offers/mine/").json()
    assert body == {"code": code.display_code, "percent_off": offer.percent_off, "issued_at": "2027-01-11T08:00:00+00:00",
                    "expires_at": "2027-01-12T08:00:00+00:00", "state": "available"}


def test_the_claim_page_never_shows_the_code_to_whoever_typed_the_address(client, clinic, frozen):
    _, _, offer = clinic
    code = OfferCodeFactory(offer=offer, email="victim@example.com", issued_at=NOW,
                            expires_at=NOW + timedelta(hours=24))
    new = client.post("/offer/", {"email": "someone-new@example.com"}, follow=True)
    known = client.post("/offer/", {"email": "victim@example.com"}, follow=True)
    assert new.status_code == known.status_code == 200
    assert new.content == known.content  # nobody learns which address had claimed
    assert code.display_code not in known.content.decode() and "Check your inbox" in known.content.decode()
    client.force_login(UserFactory(email="victim@example.com"))
    assert code.display_code in client.get(reverse("offers:claimed")).content.decode()


def test_a_signed_in_returning_patient_is_told_the_offer_is_for_new_patients(client, clinic, frozen, mailoutbox):
    service, physio, _ = clinic
    patient = UserFactory(email="back@example.com")
    BookingFactory(patient=patient, practitioner=physio, service=service, start=NOW - timedelta(days=30),
                   status=Booking.Status.ATTENDED)
    client.force_login(patient)
    page = client.get("/offer/").content.decode()
    assert "for new patients" in page and 'name="email"' not in page
    client.post("/offer/", {"email": "back@example.com"})
    assert not OfferCode.objects.exists() and not mailoutbox


# --- holds ----------------------------------------------------------------------------------------


def _hold(patient, service, hour, **kwargs):
    return booking_services.booking_hold(patient=patient, service=service,
                                         start=datetime(2027, 1, 12, hour, tzinfo=LONDON), intake=INTAKE,
                                         actor=patient, **kwargs)


def test_a_patient_keeps_at_most_two_live_unpaid_holds(clinic, frozen, settings):
    service, _, _ = clinic
    patient = UserFactory()
    _hold(patient, service, 9)
    _hold(patient, service, 11)
    with pytest.raises(TooManyHolds):
        _hold(patient, service, 13)
    assert Booking.objects.filter(patient=patient).count() == 2
    # Once one lapses, another can be held.
    with time_machine.travel(NOW + timedelta(minutes=settings.BOOKING_HOLD_MINUTES + 1), tick=False):
        _hold(patient, service, 13)


def test_the_desk_is_exempt_from_the_patient_hold_limits(clinic, frozen, rates):
    service, physio, _ = clinic
    rates(booking_create="1/hour")
    patient = UserFactory()
    for hour in (9, 11, 13, 15):
        _hold(patient, service, hour, practitioner=physio, source=Booking.Source.RECEPTION)
    assert Booking.objects.filter(patient=patient).count() == 4


def test_hold_attempts_through_the_pages_are_throttled_per_account(clinic, frozen, rates):
    service, _, _ = clinic
    rates(booking_create="1/hour")
    patient = UserFactory()
    _hold(patient, service, 9)
    with pytest.raises(RateLimited):
        _hold(patient, service, 11)


def test_offer_codes_tried_at_booking_count_against_the_validate_budget(clinic, frozen, rates):
    service, _, _ = clinic
    rates(offer_validate_user="2/hour")
    patient = UserFactory()
    for guess in ("FIRSTAAAAAAAAAAAA", "FIRSTBBBBBBBBBBBB"):
        with pytest.raises(Exception) as refused:
            _hold(patient, service, 9, offer_code=guess)
        assert not isinstance(refused.value, RateLimited)
    with pytest.raises(RateLimited):
        _hold(patient, service, 9, offer_code="FIRSTCCCCCCCCCCCC")


def test_the_api_answers_too_many_holds_with_409(client, clinic, frozen):
    service, _, _ = clinic
    patient = UserFactory()
    client.force_login(patient)
    statuses = [client.post("/api/v1/bookings/", {"service": service.slug, "intake": INTAKE,
                                                  "start": f"2027-01-12T{h}:00:00+00:00"},
                            content_type="application/json").status_code for h in (9, 11, 13)]
    assert statuses[:2] == [201, 201] and statuses[2] == 409


# --- insiders and defaults ---------------------------------------------------------------------------


def test_reception_sees_bookings_and_payments_in_the_admin_but_cannot_change_them(client, clinic, frozen):
    service, physio, _ = clinic
    from django.contrib.auth.models import Permission

    reception = ReceptionistFactory()
    reception.user_permissions.add(*Permission.objects.filter(codename__in=[
        "view_booking", "change_booking", "delete_booking", "view_payment", "change_payment", "view_stripeevent",
        "change_stripeevent"]))
    booking = BookingFactory(practitioner=physio, service=service, start=datetime(2027, 1, 14, 10, tzinfo=LONDON))
    client.force_login(reception)
    page = client.get(f"/admin/booking/booking/{booking.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    client.post(f"/admin/booking/booking/{booking.pk}/change/", {"status": "cancelled", "patient": reception.pk})
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED and booking.patient != reception
    assert client.post(f"/admin/booking/booking/{booking.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Booking.objects.filter(pk=booking.pk).exists()


def test_admin_login_goes_through_allauths_rate_limited_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_demo_data_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=0"):
        call_command("demo_data")
    from accounts.models import User

    assert not User.objects.filter(is_superuser=True).exists()
