"""send_reminders: each confirmed booking starting in 24-26 hours is reminded exactly once."""

from datetime import datetime, timedelta
from functools import partial

import pytest
import time_machine
from django.core.management import call_command

from booking.availability import LONDON
from booking.services import bookings_remind
from booking.models import Booking, BookingEvent
from tests.factories import BookingFactory
from tests.races import race, split

pytestmark = [pytest.mark.booking]

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=LONDON)


def reminders(mailoutbox):
    return [m for m in mailoutbox if m.subject.startswith("Reminder")]


@pytest.mark.django_db
def test_reminder_sent_once_however_often_it_runs(clinic, mailoutbox):
    service, physio = clinic
    due = BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=25))
    BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=23))  # too soon
    BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=27))  # not yet
    BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=24, minutes=30),
                   status=Booking.Status.CANCELLED)
    with time_machine.travel(NOW, tick=False):
        call_command("send_reminders")
        call_command("send_reminders")
    with time_machine.travel(NOW + timedelta(minutes=50), tick=False):
        call_command("send_reminders")  # the booking is still 24-26 h away: not again
    assert [m.to for m in reminders(mailoutbox)] == [[due.patient.email]]
    assert "loose clothing" in reminders(mailoutbox)[0].body
    assert reminders(mailoutbox)[0].attachments[0][0] == "appointment.ics"
    due.refresh_from_db()
    assert due.reminder_sent_at == NOW
    assert BookingEvent.objects.filter(booking=due, action=BookingEvent.Action.REMINDER).count() == 1


@pytest.mark.django_db
def test_reminder_follows_the_clock_across_runs(clinic, mailoutbox):
    service, physio = clinic
    later = BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=30))
    with time_machine.travel(NOW, tick=False):
        assert bookings_remind() == []
    with time_machine.travel(NOW + timedelta(hours=5), tick=False):
        assert bookings_remind() == [later.pk]
    with time_machine.travel(NOW + timedelta(hours=6), tick=False):
        assert bookings_remind() == []
    assert len(reminders(mailoutbox)) == 1


@pytest.mark.django_db
def test_failed_send_is_retried_next_run(clinic, mailoutbox, monkeypatch):
    from booking import notifications

    service, physio = clinic
    due = BookingFactory(service=service, practitioner=physio, start=NOW + timedelta(hours=25))
    original = notifications.send_booking_reminder
    monkeypatch.setattr(notifications, "send_booking_reminder", lambda booking: 1 / 0)
    with time_machine.travel(NOW, tick=False):
        assert bookings_remind() == []
        due.refresh_from_db()
        assert due.reminder_sent_at is None
        monkeypatch.setattr(notifications, "send_booking_reminder", original)
        assert bookings_remind() == [due.pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_reminder_once(clinic, mailoutbox):
    service, physio = clinic
    # A practitioner each: the times overlap.
    due = [BookingFactory(service=service, start=NOW + timedelta(hours=24, minutes=15 * i)) for i in range(6)]
    results, _ = split(race(*[partial(bookings_remind, now=NOW)] * 2))
    sent = sorted(pk for result in results for pk in result)
    assert sent == sorted(b.pk for b in due)
    assert len(reminders(mailoutbox)) == 6
    assert BookingEvent.objects.filter(action=BookingEvent.Action.REMINDER).count() == 6
