"""booking.services where the frozen wall clock or an unread field hid a bug.

Each test closes a mutant of booking/services.py that survived the suite
(`make mutation`): the `now` a service is given must be the one it judges by,
even when the wall clock says otherwise (lapsed holds, the times offered instead
of a taken slot, "any practitioner"), what it writes to the event log is read
back, and the practitioner's lock loads their user with it.
"""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from booking import services
from booking.availability import LONDON
from booking.exceptions import NotCancellable, NotReschedulable, SlotTaken
from booking.models import Booking, BookingEvent
from tests.factories import (
    BookingFactory,
    PractitionerFactory,
    ServiceFactory,
    UserFactory,
)

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


@pytest.fixture
def hold(service, physio):
    """A hold made at NOW (it lapses at 08:30); the wall clock stays at NOW."""
    with time_machine.travel(NOW, tick=False):
        return services.booking_hold(patient=UserFactory(), service=service, start=START, practitioner=physio,
                                     intake=INTAKE)


@time_machine.travel(NOW, tick=False)
def test_a_hold_is_judged_lapsed_at_the_now_given_not_the_wall_clock(hold):
    later = NOW + timedelta(minutes=31)  # the wall clock still says NOW, when the hold stands
    with pytest.raises(NotCancellable, match="expired"):
        services.check_cancellable(booking=hold, now=later)
    with pytest.raises(NotReschedulable, match="expired"):
        services.check_movable(booking=hold, now=later)


@time_machine.travel(NOW, tick=False)
def test_a_hold_for_any_practitioner_takes_a_slot_whose_hold_lapsed_by_the_now_given(hold, service):
    later = NOW + timedelta(minutes=31)  # `hold` (the only practitioner, START) lapsed at 08:30; the clock says 08:00
    taken = services.booking_hold(patient=UserFactory(), service=service, start=START, practitioner=None,
                                  intake=INTAKE, now=later)
    assert (taken.practitioner_id, taken.start) == (hold.practitioner_id, START)
    hold.refresh_from_db()
    assert hold.status == Booking.Status.EXPIRED


@time_machine.travel(NOW, tick=False)
def test_the_times_offered_instead_of_a_taken_slot_keep_the_notice_from_the_now_given(service, physio, settings):
    BookingFactory(practitioner=physio, service=service, start=START)  # 10:00-11:00 taken
    later = START - timedelta(hours=2, minutes=30)  # Tuesday 07:30: the notice runs to 09:30
    with pytest.raises(SlotTaken) as refused:
        services.booking_hold(patient=UserFactory(), service=service, start=START, practitioner=physio,
                              intake=INTAKE, now=later)
    offered = [slot.start for slot in refused.value.alternatives]
    # 09:00 is free and an hour away, but inside the notice at 07:30 (by the clock, Monday 08:00, it is not).
    assert offered and min(offered) >= later + timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES)
    assert START.replace(hour=9) not in offered


def test_the_practitioner_is_locked_and_read_with_their_user_in_one_query(service, physio, django_assert_num_queries):
    with transaction.atomic(), django_assert_num_queries(1):
        chosen = services._lock_practitioner_for(physio.pk, service)
        assert chosen.name == physio.name  # Practitioner.name reads the user: already loaded


@time_machine.travel(NOW, tick=False)
def test_an_expired_hold_logs_why(hold):
    assert services.booking_expire(booking=hold, now=NOW + timedelta(minutes=30))
    event = hold.events.get(action=BookingEvent.Action.EXPIRED)
    assert (event.from_status, event.to_status) == (Booking.Status.HELD, Booking.Status.EXPIRED)
    assert event.reason == "Hold lapsed unpaid."
    assert event.actor is None


@time_machine.travel(NOW, tick=False)
def test_the_event_log_records_who_what_and_the_hold_expiry(hold):
    event = hold.events.get()
    assert event.action == BookingEvent.Action.HELD
    assert (event.from_status, event.to_status) == ("", Booking.Status.HELD)
    assert event.actor == hold.patient
    assert event.reason == "Booked online."
    assert event.data == {"hold_expires_at": (NOW + timedelta(minutes=30)).isoformat()}


@time_machine.travel(NOW, tick=False)
def test_an_anonymous_actor_is_logged_as_nobody(service, physio):
    from django.contrib.auth.models import AnonymousUser

    booking = BookingFactory(service=service, practitioner=physio, start=START)
    services.booking_mark(booking=booking, action=BookingEvent.Action.ARRIVED, actor=AnonymousUser(), reason="At the desk",
                          now=START)
    event = booking.events.get()
    assert event.actor is None and event.reason == "At the desk"


# --- moving: the 24-hour window is judged at the `now` given; staff are exempt -----------------


@time_machine.travel(NOW, tick=False)
def test_moving_online_inside_24_hours_is_refused_at_the_now_given(service, physio):
    from booking.exceptions import InsidePolicyWindow

    booking = BookingFactory(service=service, practitioner=physio, start=START)  # 26 hours after NOW
    services.check_movable(booking=booking, now=NOW)
    two_hours_later = NOW + timedelta(hours=2, minutes=1)  # the wall clock still says NOW
    with pytest.raises(InsidePolicyWindow, match="less than 24 hours before they start"):
        services.check_movable(booking=booking, now=two_hours_later)
    services.check_movable(booking=booking, now=two_hours_later, by_staff=True)


@time_machine.travel(NOW, tick=False)
def test_a_started_appointment_cannot_be_moved_or_cancelled_by_the_patient_but_can_by_staff(service, physio):
    booking = BookingFactory(service=service, practitioner=physio, start=START)
    started = START + timedelta(minutes=5)
    with pytest.raises(NotReschedulable, match="confirmed"):
        services.check_movable(booking=booking, now=started)
    with pytest.raises(NotCancellable, match="already started"):
        services.check_cancellable(booking=booking, now=started)
    services.check_movable(booking=booking, now=started, by_staff=True)
    services.check_cancellable(booking=booking, now=started, by_staff=True)


# --- reminders: a failed send is logged with its booking; each costs a fixed number of queries ----


def test_a_failed_reminder_is_logged_with_the_booking_it_was_for(service, physio, monkeypatch, caplog):
    from booking import notifications

    due = BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=25))
    monkeypatch.setattr(notifications, "send_booking_reminder", lambda booking: 1 / 0)
    with caplog.at_level("ERROR", logger="booking.services"):
        assert services.bookings_remind(now=NOW) == []
    assert [record.getMessage() for record in caplog.records] == [
        f"reminder for booking {due.pk} failed; it will be retried"
    ]


def test_a_reminder_reads_its_booking_with_service_practitioner_and_patient_in_one_query(
    service, physio, mailoutbox, django_assert_num_queries
):
    BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=25))
    # Due list, claim, the booking with its relations, the event log insert, the patient's SMS
    # consent (sms/): rendering the email (practitioner's name, patient's address) must not go
    # back to the database.
    with django_assert_num_queries(5):
        assert len(services.bookings_remind(now=NOW)) == 1
    assert len(mailoutbox) == 1


# --- PostgreSQL's exclusion constraint has the last word ----------------------------------


@pytest.mark.postgres
def test_the_exclusion_constraints_refusal_becomes_slot_taken_with_online_alternatives(service, physio, monkeypatch):
    """If the engine ever missed a booking, the constraint refuses the insert and the patient
    gets SlotTaken with the nearest times they may book online (not an IntegrityError)."""
    from booking.exceptions import SlotTaken

    monday_ten = datetime(2027, 1, 11, 10, 0, tzinfo=LONDON)  # exactly two hours after NOW
    BookingFactory(service=service, practitioner=physio, start=monday_ten)  # 10:00-11:00 with its buffer
    monkeypatch.setattr(services.availability, "is_free", lambda **kwargs: True)  # the engine misses it
    # The wall clock three hours earlier than the `now` passed: the alternatives follow `now`.
    with time_machine.travel(NOW - timedelta(hours=3), tick=False), pytest.raises(SlotTaken) as taken:
        services.booking_hold(patient=UserFactory(), service=service, start=monday_ten, practitioner=physio,
                              intake=INTAKE, now=NOW)
    # 09:00 is as close as 11:00 but inside the two hours' notice: not offered online.
    assert [f"{s.local_start:%H:%M}" for s in taken.value.alternatives] == ["11:00", "11:15", "11:30"]
    assert Booking.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_move_refusal_names_the_clinics_own_window(service, physio, settings):
    from booking.exceptions import InsidePolicyWindow

    settings.BOOKING_FREE_CANCEL_HOURS = 48
    booking = BookingFactory(service=service, practitioner=physio, start=START)  # 26 hours away
    with pytest.raises(InsidePolicyWindow, match="less than 48 hours before they start"):
        services.check_movable(booking=booking, now=NOW)


# --- a start must be on the grid and give the notice: the refusals say which rule -------------


@time_machine.travel(NOW, tick=False)
def test_a_start_off_the_grid_is_refused_as_off_the_grid(service, physio):
    from booking.exceptions import InvalidSlot

    with pytest.raises(InvalidSlot, match=r"^Start times are on the hour and every 15 minutes after it\.$"):
        services.booking_hold(patient=UserFactory(), service=service, start=START + timedelta(minutes=7),
                              practitioner=physio, intake=INTAKE)
    assert not Booking.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_start_inside_the_notice_is_refused_in_hours(service, physio):
    from booking.exceptions import InvalidSlot

    with pytest.raises(InvalidSlot, match=r"^Online bookings need at least 2 hours' notice\. Please call us on 020 7946 0000 for sooner\.$"):
        services.booking_hold(patient=UserFactory(), service=service, start=NOW + timedelta(hours=1),
                              practitioner=physio, intake=INTAKE)
