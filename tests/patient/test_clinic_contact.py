"""The clinic can be reached: number, address and map on every page, in emails and the .ics (issue 13)."""

import pytest

from payments.models import Payment

from booking import notifications
from booking.ics import booking_ics, google_calendar_url
from tests.factories import BookingFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking]


@pytest.fixture
def contact(settings):
    settings.CLINIC_PHONE = "+44 20 7946 0123"
    settings.CLINIC_ADDRESS = "1 Harley Street, London W1G 9QD"
    settings.CLINIC_MAP_URL = "https://maps.example/harley"
    settings.SITE_URL = "https://book.example-clinic.co.uk"


@pytest.mark.parametrize("path", ["/", "/book/", "/accounts/login/", "/urgent-care/"])
def test_every_page_footer_has_the_number_as_a_tel_link_and_the_address(client, contact, clinic, path):
    page = client.get(path).content.decode()
    footer = page[page.index('<footer'):]
    assert '<a href="tel:+442079460123" class="tel">+44 20 7946 0123</a>' in footer
    assert "1 Harley Street, London W1G 9QD" in footer and 'href="https://maps.example/harley"' in footer


def test_ics_location_is_the_clinics_address(contact, clinic):
    service, physio = clinic
    booking = BookingFactory(service=service, practitioner=physio)
    ics = booking_ics(booking).decode()
    assert "LOCATION:Physiobook Clinic\\, London\\, 1 Harley Street\\, London W1G 9QD" in ics.replace("\r\n ", "")


def test_confirmation_email_is_branded_and_useful(contact, clinic, mailoutbox, frozen):
    service, physio = clinic
    booking = BookingFactory(service=service, practitioner=physio, discount_pence=1500, amount_due_pence=6000)
    Payment.objects.create(booking=booking, method=Payment.Method.STRIPE_CHECKOUT, status=Payment.Status.SUCCEEDED,
                           amount_pence=6000, idempotency_key="paid-online")
    notifications.send_booking_confirmed(booking.pk)
    mail = mailoutbox[-1]
    body = mail.body
    assert "Paid: £60.00" in body
    assert "1 Harley Street, London W1G 9QD" in body and "https://maps.example/harley" in body
    assert f"https://book.example-clinic.co.uk/my-bookings/{booking.pk}/reschedule/" in body
    assert google_calendar_url(booking) in body and "calendar.google.com" in body
    assert "+44 20 7946 0123" in body
    assert "127.0.0.1" not in body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html"
    assert "Physiobook Clinic, London" in html and 'href="tel:+442079460123"' in html
    assert f'href="https://book.example-clinic.co.uk/my-bookings/{booking.pk}/reschedule/"' in html
    assert "<script" not in html and "style=" not in html


def test_allauth_emails_carry_the_clinic_name_and_site_url_domain(client, contact, mailoutbox):
    from tests.factories import UserFactory

    UserFactory(email="forgetful@example.com")
    client.post("/accounts/password/reset/", {"email": "forgetful@example.com"})
    mail = mailoutbox[-1]
    assert mail.subject.startswith("[Physiobook Clinic, London]")
    assert "https://book.example-clinic.co.uk/accounts/password/reset/key/" in mail.body
    assert "testserver" not in mail.body and "127.0.0.1" not in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html" and "1 Harley Street" in html


def test_a_please_call_message_links_the_number(patient_client, clinic):
    from datetime import datetime

    from booking.availability import LONDON
    from tests.patient.conftest import intake_post

    service, _ = clinic
    too_soon = datetime(2027, 1, 11, 9, 0, tzinfo=LONDON)  # one hour after NOW: under the 2 hours' notice
    patient_client.post("/book/choose/", {"service": service.slug, "who": "any", "start": too_soon.isoformat()})
    patient_client.post("/book/intake/", intake_post())
    page = patient_client.post("/book/review/", {"action": "pay", "offer_code": ""}, follow=True).content.decode()
    assert ('Please call us on <a href="tel:02079460000" class="tel">020 7946 0000</a> for sooner.' in page)
