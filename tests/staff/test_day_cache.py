"""The day view's cached calendar is never stale: every write bumps the version, time bounds the rest."""

from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking.availability import LONDON
from booking.models import Booking
from booking.staff import services as desk
from payments import services as payment_services
from tests.factories import BookingFactory

NOW = datetime(2027, 1, 12, 7, 0, tzinfo=LONDON)
DAY_URL = reverse("staff:day", args=["2027-01-12"])


@pytest.fixture(autouse=True)
def cached(settings):
    settings.SLOT_CACHE = True


# The tables the day view's grid is built from: a page served from the cache reads none of them.
GRID_TABLES = ("booking_booking", "booking_workinghours", "booking_timeoff", "booking_practitioner")


@contextmanager
def served_from_cache(most: int):
    """The page makes at most `most` queries of its own (session, the user with their roles, the header's
    counts) and none against the grid's tables, whatever the cache backend (the user's load joins their
    own practitioner row, accounts/backends.py: that is not the grid). With the database cache (no REDIS_URL:
    SQLite or PostgreSQL on a machine without Redis) the cache's own reads are queries too, against its
    table; they are the cache doing its job, so they are not counted. With Redis there are none to leave out.
    """
    backend = settings.CACHES["default"]
    cache_table = backend["LOCATION"] if backend["BACKEND"].endswith(".DatabaseCache") else None
    with CaptureQueriesContext(connection) as captured:
        yield
    own = [q["sql"] for q in captured.captured_queries if not (cache_table and f'"{cache_table}"' in q["sql"])]
    assert len(own) <= most, "\n\n".join(own)
    grid = [sql for sql in own if ' FROM "accounts_user" u LEFT OUTER JOIN ' not in sql]  # the user's own load
    assert not [sql for sql in grid if any(f'"{table}"' in sql for table in GRID_TABLES)], "\n\n".join(own)


@pytest.mark.django_db(transaction=True)
def test_cached_day_view_shows_a_payment_and_a_new_booking_at_once(client, reception, physios, services, patient):
    with time_machine.travel(NOW, tick=False):
        client.force_login(reception)
        booking = desk.reception_book(patient=patient, service=services[1], practitioner=physios[0],
                                      start=datetime(2027, 1, 12, 10, tzinfo=LONDON), payment=desk.PAY_AT_CLINIC,
                                      actor=reception).booking
        assert "£60.00 due" in client.get(DAY_URL).content.decode()
        with served_from_cache(3):  # session, user with roles, the needs-attention and urgent-advice counts (one query)
            assert "£60.00 due" in client.get(DAY_URL).content.decode()
        payment_services.payment_take_at_desk(booking=booking, method="cash", actor=reception)
        assert "£60.00 due" not in client.get(DAY_URL).content.decode()
        BookingFactory(practitioner=physios[1], service=services[1], start=datetime(2027, 1, 12, 11, tzinfo=LONDON))
        assert client.get(DAY_URL).content.decode().count('class="bk ') == 2


@pytest.mark.django_db(transaction=True)
def test_cached_day_view_shows_a_hold_lapse_without_any_write(client, reception, physios, services, patient):
    with time_machine.travel(NOW, tick=False):
        client.force_login(reception)
        held = BookingFactory(practitioner=physios[0], service=services[1], patient=patient,
                              start=datetime(2027, 1, 12, 10, tzinfo=LONDON), status=Booking.Status.HELD,
                              hold_expires_at=NOW + timedelta(seconds=20))
        assert f'data-booking="{held.pk}" data-status="held"' in client.get(DAY_URL).content.decode()
    with time_machine.travel(NOW + timedelta(seconds=21), tick=False):
        page = client.get(DAY_URL).content.decode()
    assert f'data-booking="{held.pk}" data-status="held"' not in page
    assert f'data-booking="{held.pk}" data-status="expired"' in page


@pytest.mark.django_db(transaction=True)
def test_a_login_leaves_the_cached_day_view_valid(client, reception, physios, services, patient):
    """A login saves the user's last_login: nothing the calendar shows, so the cached page stays."""
    from django.test import Client

    from booking.slot_cache import calendar_version
    from payments.models import Payment

    with time_machine.travel(NOW, tick=False):
        client.force_login(reception)
        booking = BookingFactory(practitioner=physios[0], service=services[1], patient=patient,
                                 start=datetime(2027, 1, 12, 10, tzinfo=LONDON))
        client.get(DAY_URL)
        version = calendar_version()
        Client().force_login(patient)  # django.contrib.auth.login: update_last_login saves the user
        Client().force_login(physios[1].user)
        # A checkout started (a pending payment) takes no money yet: nothing shown changes either.
        Payment.objects.create(booking=booking, method="stripe_checkout", amount_pence=6000,
                               idempotency_key="pending-checkout")
        assert calendar_version() == version
        with served_from_cache(3):  # session, user with roles and the two counts
            assert "Paula Jones" in client.get(DAY_URL).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_name_change_or_a_payment_taken_invalidates_the_cached_day_view(client, reception, physios, services,
                                                                         patient):
    from payments.models import Payment

    with time_machine.travel(NOW, tick=False):
        client.force_login(reception)
        booking = desk.reception_book(patient=patient, service=services[1], practitioner=physios[0],
                                      start=datetime(2027, 1, 12, 10, tzinfo=LONDON), payment=desk.PAY_AT_CLINIC,
                                      actor=reception).booking
        assert "Paula Jones" in client.get(DAY_URL).content.decode()
        patient.first_name = "Paulette"
        patient.save()  # a full save, as a profile form does
        page = client.get(DAY_URL).content.decode()
        assert "Paulette Jones" in page and "£60.00 due" in page
        pending = Payment.objects.create(booking=booking, method="card_terminal", amount_pence=6000,
                                         idempotency_key="terminal-1")
        assert "£60.00 due" in client.get(DAY_URL).content.decode()
        pending.status = Payment.Status.SUCCEEDED  # the terminal says paid: the badge goes at once
        pending.save()
        assert "£60.00 due" not in client.get(DAY_URL).content.decode()
