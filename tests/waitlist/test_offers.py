"""Freed time goes to waiting patients in turn, held by a real booking hold."""

from datetime import date, datetime, timedelta

import pytest
from django.core import mail

from payments.services import booking_cancel
from booking import services as booking_services
from booking.models import Booking
from booking.staff import services as desk
from tests.factories import TimeOffFactory, UserFactory
from waitlist import services
from waitlist.exceptions import InvalidWindow, OfferGone
from waitlist.models import WaitlistEntry, WaitlistOffer

from .conftest import NOW, WEDNESDAY_10

pytestmark = [pytest.mark.booking]

Status = Booking.Status


def join(patient, service, **window):
    window.setdefault("date_from", date(2027, 1, 12))
    window.setdefault("date_to", date(2027, 1, 20))
    return services.waitlist_join(patient=patient, service=service, **window)


def cancel(booking, capture):
    with capture(execute=True):
        booking_cancel(booking=booking, reason="Cannot come.")


def test_a_cancellation_is_offered_to_the_first_waiting_patient_and_held_for_fifteen_minutes(
    booked, clinic, django_capture_on_commit_callbacks, settings
):
    service, physio = clinic
    first = join(UserFactory(email="first@example.com"), service)
    second = join(UserFactory(email="second@example.com"), service)
    mail.outbox.clear()

    cancel(booked, django_capture_on_commit_callbacks)

    offer = WaitlistOffer.objects.get()
    assert offer.entry == first and offer.start == WEDNESDAY_10 and offer.practitioner == physio
    assert offer.booking.status == Status.HELD and offer.booking.patient == first.patient
    assert offer.booking.hold_expires_at == NOW + timedelta(minutes=settings.WAITLIST_OFFER_MINUTES) == NOW + timedelta(minutes=15)
    assert not second.offers.exists()
    offer_mails = [m for m in mail.outbox if m.to == ["first@example.com"]]
    assert len(offer_mails) == 1
    assert f"/waitlist/offers/{offer.pk}/" in offer_mails[0].body
    assert "/waitlist/leave/" in offer_mails[0].body
    assert "held" in offer_mails[0].body.lower() or "holding" in offer_mails[0].body.lower()


def test_the_next_patient_is_offered_the_slot_only_after_the_first_hold_lapses(
    booked, clinic, frozen, django_capture_on_commit_callbacks
):
    service, _ = clinic
    first = join(UserFactory(), service)
    second = join(UserFactory(email="second@example.com"), service)
    cancel(booked, django_capture_on_commit_callbacks)
    assert list(WaitlistOffer.objects.values_list("entry", flat=True)) == [first.pk]

    frozen.shift(timedelta(minutes=14))
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.bookings_expire_lapsed()
    assert not second.offers.exists()

    frozen.shift(timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.bookings_expire_lapsed()
    offer = second.offers.get()
    assert offer.start == WEDNESDAY_10 and offer.state() == "holding"
    assert first.offers.get().state() == "lapsed"


def test_a_window_that_does_not_match_is_not_offered(booked, clinic, django_capture_on_commit_callbacks):
    service, _ = clinic
    join(UserFactory(), service, weekdays=[0, 1])  # Wednesday is 2
    join(UserFactory(), service, times_of_day=["afternoon"])
    join(UserFactory(), service, date_from=date(2027, 1, 14))
    cancel(booked, django_capture_on_commit_callbacks)
    assert not WaitlistOffer.objects.exists()


def test_a_named_practitioner_is_respected(booked, clinic, django_capture_on_commit_callbacks):
    from tests.factories import PractitionerFactory

    service, physio = clinic
    other = PractitionerFactory(services=[service])
    join(UserFactory(), service, practitioner=other)
    wanted = join(UserFactory(), service, practitioner=physio, times_of_day=["morning"], weekdays=[2])
    cancel(booked, django_capture_on_commit_callbacks)
    assert WaitlistOffer.objects.get().entry == wanted


def test_confirming_the_offered_booking_ends_the_wait(booked, clinic, django_capture_on_commit_callbacks):
    service, _ = clinic
    entry = join(UserFactory(), service)
    cancel(booked, django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    booking = services.waitlist_offer_accept(offer=offer)
    assert booking == offer.booking
    booking_services.booking_confirm(booking=booking, reason="Paid.")
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.BOOKED


def test_accepting_a_lapsed_offer_still_books_if_nobody_else_holds_it(
    booked, clinic, frozen, django_capture_on_commit_callbacks
):
    service, _ = clinic
    join(UserFactory(), service)
    cancel(booked, django_capture_on_commit_callbacks)
    offer = WaitlistOffer.objects.get()
    frozen.shift(timedelta(minutes=20))
    booking = services.waitlist_offer_accept(offer=offer)
    assert booking.pk != offer.booking_id and booking.status == Status.HELD and booking.start == WEDNESDAY_10
    offer.refresh_from_db()
    assert offer.booking == booking and offer.state() == "holding"


def test_accepting_a_lapsed_offer_someone_else_now_holds_is_refused(
    booked, clinic, frozen, django_capture_on_commit_callbacks
):
    service, _ = clinic
    join(UserFactory(), service)
    second = join(UserFactory(), service)
    cancel(booked, django_capture_on_commit_callbacks)
    first_offer = WaitlistOffer.objects.get()
    frozen.shift(timedelta(minutes=16))
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.bookings_expire_lapsed()
    assert second.offers.get().state() == "holding"
    with pytest.raises(OfferGone):
        services.waitlist_offer_accept(offer=first_offer)
    assert Booking.objects.blocking().filter(start=WEDNESDAY_10).count() == 1


def test_leaving_with_a_live_offer_passes_the_slot_to_the_next_patient(
    booked, clinic, django_capture_on_commit_callbacks
):
    service, _ = clinic
    first = join(UserFactory(), service)
    second = join(UserFactory(), service)
    cancel(booked, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.waitlist_leave(entry=first)
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.LEFT
    assert first.offers.get().booking.status == Status.EXPIRED
    assert second.offers.get().state() == "holding"


def test_a_moved_booking_frees_its_old_time(booked, clinic, django_capture_on_commit_callbacks):
    service, _ = clinic
    entry = join(UserFactory(), service)
    with django_capture_on_commit_callbacks(execute=True):
        booking_services.booking_reschedule(booking=booked, start=WEDNESDAY_10 + timedelta(hours=3), by_staff=True)
    assert entry.offers.get().start == WEDNESDAY_10


def test_removed_time_off_is_offered(frozen, clinic, django_capture_on_commit_callbacks):
    service, physio = clinic
    # The practitioner is off all of Wednesday; nothing else free is in the window.
    off = TimeOffFactory(practitioner=physio, start=WEDNESDAY_10.replace(hour=9), end=WEDNESDAY_10.replace(hour=17))
    entry = join(UserFactory(), service, date_from=date(2027, 1, 13), date_to=date(2027, 1, 13))
    with django_capture_on_commit_callbacks(execute=True):
        desk.time_off_delete(time_off=off)
    offer = entry.offers.get()
    assert offer.start == WEDNESDAY_10.replace(hour=9)


def test_extended_hours_are_offered(frozen, clinic, django_capture_on_commit_callbacks):
    from datetime import time

    service, physio = clinic
    entry = join(UserFactory(), service, date_from=date(2027, 1, 17), date_to=date(2027, 1, 17))  # a Sunday
    rows = [desk.HoursRow(weekday=d, start_time=time(9), end_time=time(17)) for d in range(7)]
    with django_capture_on_commit_callbacks(execute=True):
        desk.working_hours_replace(practitioner=physio, rows=rows, effective_from=date(2027, 1, 12))
    assert entry.offers.get().start.date() == date(2027, 1, 17)


def test_reception_offers_a_slot_by_hand(frozen, clinic, django_capture_on_commit_callbacks):
    from tests.factories import ReceptionistFactory

    service, physio = clinic
    entry = join(UserFactory(email="w@example.com"), service)
    desk_user = ReceptionistFactory()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        offer = services.waitlist_offer_make(entry=entry, practitioner=physio, start=WEDNESDAY_10, actor=desk_user)
    assert offer.offered_by == desk_user and offer.state() == "holding"
    assert [m.to for m in mail.outbox] == [["w@example.com"]]


def test_a_slot_is_never_held_for_two_waiting_patients(frozen, clinic, django_capture_on_commit_callbacks):
    from booking.exceptions import SlotTaken

    service, physio = clinic
    first = join(UserFactory(), service)
    second = join(UserFactory(), service)
    services.waitlist_offer_make(entry=first, practitioner=physio, start=WEDNESDAY_10)
    with pytest.raises(SlotTaken):
        services.waitlist_offer_make(entry=second, practitioner=physio, start=WEDNESDAY_10)
    assert Booking.objects.filter(start=WEDNESDAY_10).count() == 1


@pytest.mark.parametrize("window", [
    {"date_from": date(2027, 1, 10)},  # yesterday
    {"date_from": date(2027, 1, 15), "date_to": date(2027, 1, 14)},
    {"date_to": date(2027, 3, 20)},  # beyond the 60-day horizon
    {"weekdays": [7]},
    {"times_of_day": ["night"]},
])
def test_an_invalid_window_is_refused(frozen, clinic, window):
    service, _ = clinic
    with pytest.raises(InvalidWindow):
        join(UserFactory(), service, **window)
    assert not WaitlistEntry.objects.exists()


def test_entries_expire_at_the_end_of_their_window(frozen, clinic):
    service, _ = clinic
    entry = join(UserFactory(), service, date_to=date(2027, 1, 12))
    frozen.move_to(NOW + timedelta(days=1))
    assert services.waitlist_entries_expire() == 0
    frozen.move_to(NOW + timedelta(days=2))
    assert services.waitlist_entries_expire() == 1
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.EXPIRED


def test_morning_and_afternoon_are_london_time_in_summer(clinic, django_capture_on_commit_callbacks):
    """12:30 BST is 11:30 UTC: it is an afternoon slot, whatever the UTC clock says."""
    import time_machine

    from booking.availability import LONDON

    service, physio = clinic
    with time_machine.travel(datetime(2027, 6, 7, 8, 0, tzinfo=LONDON), tick=False):  # a Monday, BST
        start = datetime(2027, 6, 9, 12, 30, tzinfo=LONDON)
        owner = UserFactory()
        with django_capture_on_commit_callbacks(execute=True):
            booking = booking_services.booking_hold(patient=owner, service=service, start=start, practitioner=physio)
            booking_services.booking_confirm(booking=booking)
        window = {"date_from": date(2027, 6, 9), "date_to": date(2027, 6, 9)}
        morning = join(UserFactory(), service, times_of_day=["morning"], **window)
        afternoon = join(UserFactory(), service, times_of_day=["afternoon"], **window)
        # Everything else that Wednesday is taken, so only 12:30 comes free.
        TimeOffFactory(practitioner=physio, start=datetime(2027, 6, 9, 9, 0, tzinfo=LONDON), end=start)
        TimeOffFactory(practitioner=physio, start=start + timedelta(minutes=30),
                       end=datetime(2027, 6, 9, 17, 0, tzinfo=LONDON))
        cancel(booking, django_capture_on_commit_callbacks)
    assert not morning.offers.exists()
    assert afternoon.offers.get().start == start


def test_the_expire_waitlist_command_expires_finished_windows(frozen, clinic):
    from io import StringIO

    from django.core.management import call_command

    service, _ = clinic
    join(UserFactory(), service, date_to=date(2027, 1, 12))
    join(UserFactory(), service, date_to=date(2027, 1, 20))
    frozen.move_to(NOW + timedelta(days=3))
    out = StringIO()
    call_command("expire_waitlist", stdout=out)
    assert "1 waitlist entry expired" in out.getvalue()
    assert sorted(WaitlistEntry.objects.values_list("status", flat=True)) == ["expired", "waiting"]
