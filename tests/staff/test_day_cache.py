"""The day view's cached calendar is never stale: every write bumps the version, time bounds the rest."""

from datetime import datetime, timedelta

import pytest
import time_machine
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


@pytest.mark.django_db(transaction=True)
def test_cached_day_view_shows_a_payment_and_a_new_booking_at_once(client, reception, physios, services, patient,
                                                                     django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False):
        client.force_login(reception)
        booking = desk.reception_book(patient=patient, service=services[1], practitioner=physios[0],
                                      start=datetime(2027, 1, 12, 10, tzinfo=LONDON), payment=desk.PAY_AT_CLINIC,
                                      actor=reception).booking
        assert "£60.00 due" in client.get(DAY_URL).content.decode()
        with django_assert_max_num_queries(4):  # session, user, groups, the needs-attention and urgent-advice counts: the calendar came from the cache
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
def test_a_login_leaves_the_cached_day_view_valid(client, reception, physios, services, patient,
                                                  django_assert_max_num_queries):
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
        with django_assert_max_num_queries(4):  # session, user, groups and the two counts: from the cache
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
