"""calendar_days reads bookings as plain rows (instants as text, flags as JSON text, queries built once per
process): what it returns must still be what the models hold, on PostgreSQL and SQLite."""

from datetime import date, datetime, time, timedelta

import pytest

from booking.availability import LONDON
from booking.calendar import calendar_days
from booking.models import Booking
from tests.factories import BookingFactory, PractitionerFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

FALL_BACK = date(2027, 10, 31)  # 01:00-02:00 happens twice


def test_instants_flags_and_names_read_as_the_models_hold_them():
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service], hours=[])
    first_reading = datetime(2027, 10, 31, 0, 30, tzinfo=LONDON) + timedelta(minutes=45)  # 01:15 BST
    second_reading = first_reading + timedelta(hours=1)  # 01:15 GMT, the same wall clock
    odd = datetime(2027, 10, 31, 14, 7, 9, 123456, tzinfo=LONDON)
    made = [
        BookingFactory(practitioner=physio, service=service, start=first_reading, flags=["cancer_history"]),
        BookingFactory(practitioner=physio, service=service, start=second_reading,
                       patient=UserFactory(first_name="", last_name="", email="nameless@example.com")),
        BookingFactory(practitioner=physio, service=service, start=odd, status=Booking.Status.HELD,
                       hold_expires_at=odd + timedelta(minutes=10)),
    ]
    (pday,) = calendar_days(date_from=FALL_BACK, date_to=FALL_BACK, practitioner_ids=[physio.pk], now=odd)
    read = {b.id: b for b in pday.bookings}
    assert list(read) == [b.pk for b in made]
    for booking in made:
        row = read[booking.pk]
        assert (row.start, row.end) == (booking.start, booking.end)  # the same instants, to the microsecond
        assert row.start.tzinfo == LONDON and row.start.utcoffset() == booking.start.astimezone(LONDON).utcoffset()
        assert row.hold_expires_at == booking.hold_expires_at
    assert [read[b.pk].start.utcoffset() for b in made[:2]] == [timedelta(hours=1), timedelta(0)]
    assert read[made[0].pk].flags == ("cancer_history",) and read[made[0].pk].flag_labels == ("History of cancer",)
    assert read[made[1].pk].flags == () and read[made[1].pk].patient_name == "nameless@example.com"
    assert read[made[2].pk].status == "held" and f"{read[made[2].pk].start:%H:%M:%S.%f}" == "14:07:09.123456"


def test_each_call_reads_the_database_afresh():
    """The queries are built once per process: a later call must still see later practitioners and bookings."""
    service = ServiceFactory()
    day = date(2027, 1, 12)
    one = PractitionerFactory(services=[service], hours=[(1, time(9), time(17))])
    assert [p.practitioner_id for p in calendar_days(date_from=day, date_to=day)] == [one.pk]
    two = PractitionerFactory(services=[service], hours=[(1, time(9), time(17))])
    BookingFactory(practitioner=two, service=service, start=datetime.combine(day, time(10), tzinfo=LONDON))
    again = calendar_days(date_from=day, date_to=day)
    assert [p.practitioner_id for p in again] == [one.pk, two.pk]
    assert [len(p.bookings) for p in again] == [0, 1]
    assert [len(p.working) for p in again] == [1, 1]
