"""Admin: campaigns editable; codes listed with state and booking; staff issue a code for a caller."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from booking.models import Booking
from offers.models import Offer, OfferCode
from offers.services import offer_code_claim
from tests.factories import BookingFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = StaffFactory(is_superuser=True, email="owner@clinic.example")
    client.force_login(admin)
    client.admin = admin
    return client


def test_offer_campaign_is_editable(admin_client, offer, sciatica):
    url = reverse("admin:offers_offer_change", args=[offer.pk])
    response = admin_client.post(url, {"name": "Spring offer", "percent_off": 25, "validity_hours": 48,
                                       "services": [sciatica.pk], "active": "on"})
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.name, offer.percent_off, offer.validity_hours, offer.active) == ("Spring offer", 25, 48, True)


def test_code_list_shows_each_state_and_the_booking(admin_client, offer, sciatica, django_assert_max_num_queries):
    now = timezone.now()
    available = offer_code_claim(email="a@example.com", now=now).code
    reserved = offer_code_claim(email="b@example.com", now=now).code
    redeemed = offer_code_claim(email="c@example.com", now=now).code
    expired = offer_code_claim(email="d@example.com", now=now - timedelta(days=2)).code
    held = BookingFactory(status=Booking.Status.HELD, service=sciatica, offer_code=reserved,
                          hold_expires_at=now + timedelta(minutes=30))
    paid = BookingFactory(service=sciatica, offer_code=redeemed, start=now + timedelta(days=5))
    OfferCode.objects.filter(pk=reserved.pk).update(reserved_by=held)
    OfferCode.objects.filter(pk=redeemed.pk).update(redeemed_by=paid)
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("admin:offers_offercode_changelist")).content.decode()
    states = {row.email: row.state for row in OfferCode.objects.with_state()}
    assert states == {"a@example.com": "available", "b@example.com": "reserved", "c@example.com": "redeemed",
                      "d@example.com": "expired"}
    for code in (available, reserved, redeemed, expired):
        assert code.display_code in page
    assert "Reserved by a held booking" in page and "Redeemed" in page and "Expired" in page and "Available" in page
    assert reverse("admin:booking_booking_change", args=[held.pk]) in page
    assert reverse("admin:booking_booking_change", args=[paid.pk]) in page
    # The state filter.
    filtered = admin_client.get(reverse("admin:offers_offercode_changelist") + "?state=redeemed").content.decode()
    assert redeemed.display_code in filtered and available.display_code not in filtered


def test_code_list_query_count_does_not_grow_with_codes(admin_client, offer, django_assert_max_num_queries):
    for n in range(30):
        offer_code_claim(email=f"person{n}@example.com", issued_by=admin_client.admin)
    with django_assert_max_num_queries(12):
        assert admin_client.get(reverse("admin:offers_offercode_changelist")).status_code == 200


def test_search_by_email_and_by_code_as_printed(admin_client, offer):
    mine = offer_code_claim(email="findme@example.com").code
    other = offer_code_claim(email="other@example.com").code
    url = reverse("admin:offers_offercode_changelist")
    by_email = admin_client.get(url, {"q": "findme"}).content.decode()
    assert mine.display_code in by_email and other.display_code not in by_email
    by_code = admin_client.get(url, {"q": mine.display_code.lower()}).content.decode()
    assert mine.display_code in by_code and other.display_code not in by_code


def test_staff_issue_a_code_by_hand_for_a_caller(admin_client, offer, mailoutbox, django_capture_on_commit_callbacks):
    url = reverse("admin:offers_offercode_add")
    assert "Issue an offer code" in admin_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"email": "  Caller@Example.com "})
    code = OfferCode.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:offers_offercode_change", args=[code.pk])
    assert code.email == "caller@example.com" and code.issued_by == admin_client.admin
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["caller@example.com"]
    # Issuing again for the same caller keeps the one code, and emails that code again.
    with django_capture_on_commit_callbacks(execute=True):
        again = admin_client.post(url, {"email": "CALLER@example.com"}, follow=True)
    assert OfferCode.objects.count() == 1 and len(mailoutbox) == 2
    assert code.display_code in mailoutbox[1].subject
    assert "already has a code" in again.content.decode()


def test_issue_form_refuses_a_bad_address(admin_client, offer):
    response = admin_client.post(reverse("admin:offers_offercode_add"), {"email": "nope"})
    assert response.status_code == 200 and not OfferCode.objects.exists()


def test_codes_are_read_only_in_the_admin(admin_client, offer):
    code = offer_code_claim(email="ro@example.com").code
    url = reverse("admin:offers_offercode_change", args=[code.pk])
    assert admin_client.get(url).status_code == 200
    admin_client.post(url, {"email": "changed@example.com"})
    code.refresh_from_db()
    assert code.email == "ro@example.com"


def test_patients_cannot_reach_the_code_admin(client, offer):
    client.force_login(UserFactory())
    response = client.get(reverse("admin:offers_offercode_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Offer.objects.count() == 1


def test_offer_campaign_accepts_only_first_session_services(admin_client, offer, follow_up):
    url = reverse("admin:offers_offer_change", args=[offer.pk])
    response = admin_client.post(url, {"name": "x", "percent_off": 20, "validity_hours": 24,
                                       "services": [follow_up.pk], "active": "on"})
    assert response.status_code == 200
    assert "Only first-session services" in response.content.decode()
    assert list(offer.services.all()) != [follow_up]
