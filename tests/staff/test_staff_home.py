"""Staff land on the desk after logging in, find it from every page, and patients get the site's own 403."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def log_in(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})


def test_reception_lands_on_the_desk_after_logging_in(client, reception):
    response = log_in(client, reception)
    assert response.status_code == 302 and response["Location"] == reverse("staff:today")


def test_physiotherapist_lands_on_the_desk_after_logging_in(client, physios):
    response = log_in(client, physios[0].user)
    assert response.status_code == 302 and response["Location"] == reverse("staff:today")


def test_patient_lands_on_their_bookings_after_logging_in(client, patient):
    response = log_in(client, patient)
    assert response.status_code == 302 and response["Location"] == reverse("booking:my_bookings")


def test_an_explicit_next_still_wins(client, reception):
    response = client.post(reverse("account_login") + "?next=/staff/my-day/",
                           {"login": reception.email, "password": PASSWORD, "next": "/staff/my-day/"})
    assert response["Location"] == "/staff/my-day/"


def test_header_links_to_the_desk_for_staff_on_patient_pages(client, reception, physios, patient):
    desk_link = f'href="{reverse("staff:today")}">Desk</a>'
    for user in (reception, physios[0].user):
        client.force_login(user)
        assert desk_link in client.get("/").content.decode()
    client.force_login(patient)
    assert desk_link not in client.get("/").content.decode()


def test_patient_opening_the_desk_gets_the_sites_own_403_page(client, patient):
    client.force_login(patient)
    response = client.get(reverse("staff:today"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "This page is not for your account" in page
    assert 'class="site-header"' in page and reverse("booking:my_bookings") in page
