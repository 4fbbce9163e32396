"""The reports page and its CSV downloads: who may see them, what they show, and what they cost."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ReceptionistFactory, UserFactory
from tests.reports.conftest import seed_clinic

URL = "/reports/?date_from=2026-03-02&date_to=2026-03-08"


def test_manager_sees_every_report_with_a_chart_and_a_table(client, seeded, manager):
    client.force_login(manager)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    for title in ["Utilisation per practitioner", "Bookings by source", "No-shows and late cancellations",
                  "Revenue by payment method", "First-session offer funnel"]:
        assert title in html
    assert html.count("<svg") == 5 and html.count("<table") == 5
    assert "£85.00" in html and "£220.00" in html  # Stripe net, all methods net
    assert "6.2%" in html  # Billie's utilisation
    assert "<script" not in html and "style=" not in html


def test_profile_links_managers_and_only_managers_to_reports(client, seeded, manager):
    client.force_login(manager)
    assert 'href="/reports/"' in client.get("/accounts/profile/").content.decode()
    client.force_login(UserFactory(email="pat@example.com"))
    assert 'href="/reports/"' not in client.get("/accounts/profile/").content.decode()


def test_superuser_sees_reports(client, seeded):
    client.force_login(UserFactory(email="root@clinic.example", is_superuser=True, is_staff=True))
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize("who", ["patient", "reception"])
def test_patients_and_reception_are_refused_reports(client, seeded, who):
    user = UserFactory(email="pat@example.com") if who == "patient" else ReceptionistFactory()
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.get("/reports/revenue.csv").status_code == 403


def test_visitors_are_sent_to_log_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_csv_download_has_the_raw_figures(client, seeded, manager):
    client.force_login(manager)
    response = client.get("/reports/revenue.csv?date_from=2026-03-02&date_to=2026-03-08")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="revenue-2026-03-02-2026-03-08.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["method", "taken_pence", "refunded_pence", "net_pence"]
    assert ["Stripe Checkout", "19500", "11000", "8500"] in rows
    assert rows[-1] == ["All methods", "33000", "11000", "22000"]
    funnel = list(csv.reader(io.StringIO(client.get("/reports/funnel.csv?date_from=2026-03-02&date_to=2026-03-08").content.decode())))
    assert funnel[1:] == [["Codes claimed", "4"], ["Used in a booking hold", "3"], ["Paid", "2"], ["Came back for a follow-up", "1"]]


@pytest.mark.parametrize("query", ["date_from=2026-03-08&date_to=2026-03-02", "date_from=nonsense&date_to=2026-03-02",
                                   "date_from=2020-01-01&date_to=2026-03-02"])
def test_a_bad_period_is_a_form_error_not_a_500(client, seeded, manager, query):
    client.force_login(manager)
    page = client.get(f"/reports/?{query}")
    assert page.status_code == 400 and 'class="error"' in page.content.decode()
    download = client.get(f"/reports/sources.csv?{query}")
    assert download.status_code == 400 and download.json()["code"] == "invalid_period"


def test_unknown_report_is_404(client, seeded, manager):
    client.force_login(manager)
    assert client.get("/reports/nothing.csv").status_code == 404


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_report_queries_do_not_grow_with_the_number_of_bookings(client, db, manager, django_assert_max_num_queries,
                                                                settings):
    settings.REPORTS_CACHE_SECONDS = 0  # measure the figures themselves, not the cache
    seeded = seed_clinic()
    client.force_login(manager)
    cold = _queries(client, URL)  # builds the period's summary
    few = _queries(client, URL)
    # 200 more bookings inside the period (and 200 before it): the next read recomputes the days they
    # touched, with the same queries as the first read; then the page costs what it did.
    from booking.models import Booking
    from tests.factories import BookingFactory, UserFactory
    from tests.reports.conftest import at

    patient = UserFactory()
    for i in range(200):
        for start in (at(2, 9), at(2, 9, month=2)):
            BookingFactory(practitioner=seeded.alex, service=seeded.bookings["b2"].service, patient=patient,
                           start=start + timedelta(minutes=30 * i), status=Booking.Status.CANCELLED)
    assert _queries(client, URL) <= cold
    many = _queries(client, URL)
    assert many == few
    # The session, the user with their roles (the Manager check reads those, no query of its own), one for every figure.
    with django_assert_max_num_queries(3):
        client.get(URL)


def test_a_built_report_is_reused_from_the_cache_within_its_lifetime(client, seeded, manager, settings):
    settings.REPORTS_CACHE_SECONDS = 300
    client.force_login(manager)
    _queries(client, URL)
    with CaptureQueriesContext(connection) as warm:
        html = client.get(URL).content.decode()
    assert not [q for q in warm.captured_queries if "reports_" in q["sql"]]  # no figure read again
    assert "up to 5 minutes old" in html


def test_by_default_the_figures_are_always_current(client, seeded, manager):
    from booking.models import Booking

    client.force_login(manager)
    assert "up to" not in client.get(URL).content.decode()
    assert client.get("/reports/sources.csv?date_from=2026-03-02&date_to=2026-03-08").content.decode().splitlines()[1] == "Online,5"
    seeded.bookings["b7"].status = Booking.Status.CONFIRMED  # the unpaid online hold is paid
    seeded.bookings["b7"].save()
    assert client.get("/reports/sources.csv?date_from=2026-03-02&date_to=2026-03-08").content.decode().splitlines()[1] == "Online,6"


def test_names_are_escaped_in_the_charts_and_tables(client, seeded, manager):
    seeded.alex.user.first_name, seeded.alex.user.last_name = "<b>Alex", "& Co</b> with a long name"
    seeded.alex.user.save()
    client.force_login(manager)
    html = client.get(URL).content.decode()
    assert "<b>Alex" not in html
    assert "&lt;b&gt;Alex &amp; Co&lt;/b&gt; with a long name</th>" in html  # the table: whole
    assert '>&lt;b&gt;Alex &amp; Co&lt;/b&gt; wi…</text>' in html  # the chart's label: cut to 20 characters


def test_the_owner_lands_on_the_reports_and_a_staff_owner_has_them_in_the_header(client, seeded, manager):
    from django.urls import reverse

    manager.set_password("owner-horse-battery")
    manager.save()
    response = client.post(reverse("account_login"), {"login": manager.email, "password": "owner-horse-battery"})
    assert response.status_code == 302 and response["Location"] == "/reports/"
    # The owner given admin access (is_staff, as the README's set-up does) finds the reports from any page.
    manager.is_staff = True
    manager.save()
    for page in ("/accounts/profile/", "/book/", URL):
        assert '<a href="/reports/">Reports</a>' in client.get(page).content.decode(), page
    # Reception working the desk is no manager: no link; a manager at the desk keeps the desk as home.
    desk = ReceptionistFactory()
    client.force_login(desk)
    assert '<a href="/reports/">Reports</a>' not in client.get("/staff/").content.decode()
