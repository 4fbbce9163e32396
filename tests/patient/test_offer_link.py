"""The offer's "Book your first session" link: straight into the flow, the code applied at review."""

import pytest

from booking.models import Booking
from offers import notifications
from tests.factories import FollowUpFactory, OfferCodeFactory, OfferFactory

from .conftest import intake_post
from .test_booking_flow import START

pytestmark = [pytest.mark.django_db, pytest.mark.booking]


def test_link_goes_to_the_first_session_and_applies_the_code_at_review(patient_client, patient, clinic):
    service, _ = clinic
    FollowUpFactory()  # another service exists; the link still picks the first session
    code = OfferCodeFactory(offer=OfferFactory(services=[service]), email=patient.email)
    response = patient_client.get(f"/book/first-session/?code={code.display_code}")
    assert response["Location"] == f"/book/{service.slug}/"
    patient_client.post("/book/choose/", {"service": service.slug, "who": "any", "start": START.isoformat()})
    patient_client.post("/book/intake/", intake_post())
    page = patient_client.get("/book/review/").content.decode()
    assert "Code applied: 20% off, you save £15.00." in page
    assert "Continue to payment (£60.00)" in page
    patient_client.post("/book/review/", {"action": "pay", "offer_code": code.display_code})
    booking = Booking.objects.get()
    assert booking.offer_code == code and booking.amount_due_pence == 6000


def test_a_refused_code_from_the_link_says_why_and_books_at_full_price(patient_client, patient, clinic):
    service, _ = clinic
    code = OfferCodeFactory(offer=OfferFactory(services=[service]), email="someone.else@example.com")
    patient_client.get(f"/book/first-session/?code={code.display_code}")
    patient_client.post("/book/choose/", {"service": service.slug, "who": "any", "start": START.isoformat()})
    patient_client.post("/book/intake/", intake_post())
    page = patient_client.get("/book/review/").content.decode()
    assert "issued to a different email address" in page and "Continue to payment (£75.00)" in page


def test_offer_email_links_into_the_flow_with_the_code(clinic, mailoutbox):
    service, _ = clinic
    code = OfferCodeFactory(offer=OfferFactory(services=[service]))
    notifications.send_offer_code(code.pk)
    mail = mailoutbox[-1]
    assert f"/book/first-session/?code={code.display_code}" in mail.body
    html = mail.alternatives[0][0]
    assert f"/book/first-session/?code={code.display_code}" in html
