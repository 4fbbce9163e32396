"""Reception's "needs attention" list: staff only, counted on the day view, resolved by a person."""

import pytest
from django.urls import reverse

from payments.services import booking_cancel
from payments import services
from payments.models import Attention, Payment
from tests.factories import ReceptionistFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk_task(hold, on_commit):
    booking = hold()
    reception = ReceptionistFactory()
    services.payment_record_at_clinic(booking=booking, method=Payment.Method.CASH, actor=reception)
    with on_commit():
        booking_cancel(booking=booking, actor=reception, reason="Ill", refund_pence=3000, by_staff=True)
    return reception, Attention.objects.get()


def test_needs_attention_is_for_reception_only(client, desk_task):
    url = reverse("payments:attention")
    assert client.get(url).status_code == 302  # log in first
    client.force_login(UserFactory())
    assert client.get(url).status_code == 403
    assert client.post(reverse("payments:attention_resolve", args=[desk_task[1].pk])).status_code == 403
    client.force_login(StaffFactory())  # a physiotherapist, not reception
    assert client.get(url).status_code == 403


def test_day_view_counts_open_items_and_the_list_shows_them(client, desk_task, django_assert_max_num_queries):
    reception, task = desk_task
    client.force_login(reception)
    day = client.get(reverse("staff:today")).content.decode()
    assert 'Needs attention <span class="badge">1</span>' in day
    with django_assert_max_num_queries(8):
        page = client.get(reverse("payments:attention")).content.decode()
    assert "Refund £30.00 at the desk (Cash at the clinic): Ill" in page
    assert "<script" not in page and "style=" not in page


def test_resolving_a_problem_needs_a_note_and_is_logged(client, stripe_mode, hold):
    booking = hold()
    item = services.attention_raise(key="mismatch:cs_x", kind=Attention.Kind.MISMATCH, booking=booking,
                                    message="Stripe reports 1 pence; we asked for 7500.")
    reception = ReceptionistFactory()
    client.force_login(reception)
    url = reverse("payments:attention_resolve", args=[item.pk])
    client.post(url, {"note": ""})
    item.refresh_from_db()
    assert item.resolved_at is None
    client.post(url, {"note": "Refunded the 1p in the Stripe dashboard"})
    item.refresh_from_db()
    assert item.resolved_by == reception and item.resolution == "Refunded the 1p in the Stripe dashboard"
    assert Attention.objects.filter(resolved_at__isnull=True).count() == 0
