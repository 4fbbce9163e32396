"""booking.services: reminders, intake answers and notes, read back from the database.

Each test closes a mutant of booking/services.py (`make mutation`, issue 19)
that no test next to the module caught: the reminder run's claim of one
booking at a time, its skip of a booking another run took, its un-claim after
a failed send, the actor written to the event log by the intake link and by
reception's notes, and the refusal wording for a lapsed hold. A later run
(2 Dec 2026) added: the reminder window's lower edge, the attempt limit being
per account, the hold cap's refusal naming the cap, and reception's
cancellation without a reason.
"""

from datetime import datetime, timedelta

import pytest
import time_machine

from booking import notifications, services
from booking.availability import LONDON
from booking.exceptions import InvalidSlot, NotCancellable, NotReschedulable, TooManyHolds, UrgentCareNeeded
from booking.models import Booking, BookingEvent
from tests.factories import BookingFactory, PractitionerFactory, ReceptionistFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)
START = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)
INTAKE = {"pain_areas": ["buttock", "thigh"], "side": "left", "duration_weeks": 3}


@pytest.fixture
def service():
    return ServiceFactory()


@pytest.fixture
def physio(service):
    return PractitionerFactory(services=[service])


# --- reminders ----------------------------------------------------------------------------


def test_each_due_booking_is_reminded_and_one_another_run_took_meanwhile_is_skipped(service, physio, monkeypatch):
    # Listed latest first: C, B, A (each with their own practitioner: the times overlap).
    # While C's email goes out, another run claims B.
    a, b, c = (
        BookingFactory(service=service, practitioner=PractitionerFactory(services=[service]),
                       start=NOW + timedelta(hours=hours))
        for hours in (24.5, 25, 25.5)
    )
    other_run = NOW - timedelta(minutes=1)
    emailed = []

    def send(booking):
        if booking.pk == c.pk:
            Booking.objects.filter(pk=b.pk).update(reminder_sent_at=other_run)
        emailed.append(booking.pk)

    monkeypatch.setattr(notifications, "send_booking_reminder", send)
    assert services.bookings_remind(now=NOW) == [c.pk, a.pk]
    assert emailed == [c.pk, a.pk]
    assert dict(Booking.objects.values_list("pk", "reminder_sent_at")) == {a.pk: NOW, b.pk: other_run, c.pk: NOW}
    assert list(BookingEvent.objects.filter(action=BookingEvent.Action.REMINDER).order_by("booking_id").values_list(
        "booking_id", "reason")) == [(a.pk, "Reminder email sent."), (c.pk, "Reminder email sent.")]


def test_a_failed_reminder_is_unclaimed_and_sent_by_the_next_run(service, physio, monkeypatch):
    due = BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=25))
    monkeypatch.setattr(notifications, "send_booking_reminder", lambda booking: 1 / 0)
    assert services.bookings_remind(now=NOW) == []
    due.refresh_from_db()
    assert due.reminder_sent_at is None
    assert not BookingEvent.objects.filter(action=BookingEvent.Action.REMINDER).exists()
    monkeypatch.setattr(notifications, "send_booking_reminder", lambda booking: None)
    later = NOW + timedelta(minutes=10)
    assert services.bookings_remind(now=later) == [due.pk]
    due.refresh_from_db()
    assert due.reminder_sent_at == later


def test_a_booking_starting_sooner_than_24_hours_away_is_not_reminded(service, physio, monkeypatch):
    """The window is 24-26 hours before the start: a booking made for tomorrow morning late today, or for
    this afternoon, gets its confirmation and no reminder."""
    soon = BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=23, minutes=45))
    today = BookingFactory(service=service, practitioner=PractitionerFactory(services=[service]),
                           start=NOW + timedelta(hours=3))
    due = BookingFactory(service=service, practitioner=PractitionerFactory(services=[service]),
                         start=NOW + timedelta(hours=24))
    monkeypatch.setattr(notifications, "send_booking_reminder", lambda booking: None)
    assert services.bookings_remind(now=NOW) == [due.pk]
    assert set(Booking.objects.filter(reminder_sent_at__isnull=True).values_list("pk", flat=True)) == {soon.pk, today.pk}


# --- the intake link and reception's notes write who did it --------------------------------


def test_intake_answers_through_the_link_are_logged_with_who_answered(service, physio):
    booking = BookingFactory(service=service, practitioner=physio, start=START, intake={})
    patient = booking.patient
    services.booking_intake_answer(booking=booking, data=INTAKE, actor=patient)
    booking.refresh_from_db()
    assert booking.intake["pain_areas"] == ["buttock", "thigh"]
    event = BookingEvent.objects.get(booking=booking)
    assert (event.actor, event.reason) == (patient, "Intake answered through the intake link.")


def test_urgent_signs_through_the_link_flag_the_booking_and_log_who_answered_with_the_signs(service, physio):
    booking = BookingFactory(service=service, practitioner=physio, start=START, intake={})
    patient = booking.patient
    with pytest.raises(UrgentCareNeeded):
        services.booking_intake_answer(booking=booking, data={**INTAKE, "saddle_numbness": True}, actor=patient)
    booking.refresh_from_db()
    assert "urgent_call" in booking.flags
    event = BookingEvent.objects.get(booking=booking)
    assert (event.actor, event.data) == (patient, {"signs": ["saddle_numbness"]})


def test_a_note_by_reception_is_logged_with_who_wrote_it(service, physio):
    booking = BookingFactory(service=service, practitioner=physio, start=START)
    receptionist = ReceptionistFactory()
    event = services.booking_note(booking=booking, actor=receptionist, reason="Asked the patient to rebook.")
    assert BookingEvent.objects.get(pk=event.pk).actor == receptionist


# --- a lapsed hold's refusal says so --------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_moving_or_cancelling_a_lapsed_hold_is_refused_because_it_expired(service, physio):
    hold = services.booking_hold(patient=UserFactory(), service=service, start=START, practitioner=physio,
                                 intake=INTAKE)
    with pytest.raises(NotReschedulable) as refusal:
        services.check_movable(booking=hold, now=NOW + timedelta(minutes=31))
    assert "This booking is expired and cannot be moved." in str(refusal.value)
    with pytest.raises(NotCancellable) as refusal:
        services.check_cancellable(booking=hold, now=NOW + timedelta(minutes=31))
    assert "This booking is expired and cannot be cancelled." in str(refusal.value)


# --- a practitioner who does not offer the service ------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_practitioner_who_offers_other_services_only_is_refused_by_name(service, physio):
    other = ServiceFactory(name="Sports massage", slug="sports-massage")
    masseur = PractitionerFactory(services=[other])
    with pytest.raises(InvalidSlot, match=f"^{masseur.name} does not offer {service.name}.$"):
        services.booking_hold(patient=UserFactory(), service=service, start=START, practitioner=masseur, intake=INTAKE)


# --- the per-account attempt limit is for online holds only ---------------------------------


@time_machine.travel(NOW, tick=False)
def test_online_holds_count_against_the_accounts_attempt_limit_and_desk_holds_do_not(service, physio, settings):
    from django.core.cache import cache

    from config.throttling import RateLimited

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "booking_create": "1/hour"}}
    settings.BOOKING_MAX_LIVE_HOLDS = 5
    cache.clear()
    at_desk, online = UserFactory(), UserFactory()
    for hour in (10, 11):
        services.booking_hold(patient=at_desk, service=service, start=START.replace(hour=hour), practitioner=physio,
                              intake=INTAKE, source=Booking.Source.RECEPTION, actor=physio.user)
    services.booking_hold(patient=online, service=service, start=START.replace(hour=13), practitioner=physio,
                          intake=INTAKE)
    with pytest.raises(RateLimited):
        services.booking_hold(patient=online, service=service, start=START.replace(hour=14), practitioner=physio,
                              intake=INTAKE)
    # The limit is the account's own: another patient online is not held back by it.
    services.booking_hold(patient=UserFactory(), service=service, start=START.replace(hour=15), practitioner=physio,
                          intake=INTAKE)


@time_machine.travel(NOW, tick=False)
def test_a_hold_beyond_the_cap_of_unpaid_holds_is_refused_saying_what_the_cap_is(service, physio, settings):
    settings.BOOKING_MAX_LIVE_HOLDS = 2
    patient = UserFactory()
    for hour in (10, 11):
        services.booking_hold(patient=patient, service=service, start=START.replace(hour=hour), practitioner=physio,
                              intake=INTAKE)
    with pytest.raises(TooManyHolds, match="^You already have 2 bookings waiting for payment. ") as refused:
        services.booking_hold(patient=patient, service=service, start=START.replace(hour=13), practitioner=physio,
                              intake=INTAKE)
    assert refused.value.extra == {"limit": 2}


def test_reception_cancelling_without_a_reason_is_told_to_give_one(service, physio):
    booking = BookingFactory(service=service, practitioner=physio, start=START)
    with time_machine.travel(NOW, tick=False):
        with pytest.raises(NotCancellable, match="^Give a reason for cancelling.$") as refused:
            services.booking_cancel_record(booking=booking, paid_pence=0, actor=ReceptionistFactory(), reason="  ",
                                           by_staff=True)
    assert refused.value.extra == {"errors": {"reason": "A reason is required."}}
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


# --- a start at this very instant has passed, even for the desk ------------------------------


def test_a_desk_hold_starting_this_very_minute_is_refused_as_passed(service, physio):
    with time_machine.travel(START, tick=False):
        with pytest.raises(InvalidSlot, match="^That time has already passed.$"):
            services.booking_hold(patient=UserFactory(), service=service, start=START, practitioner=physio,
                                  intake=INTAKE, source=Booking.Source.RECEPTION, actor=physio.user)
