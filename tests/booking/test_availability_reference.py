"""free_slots against a slow, obviously-correct reference on random calendars.

The engine merges working-hours rows into spans and walks gaps between busy
intervals on integer seconds for speed; the reference is a minute-by-minute
model: a start is in hours when every minute it occupies lies inside some
row that applies that day (so touching and overlapping rows count as one
block, as ../shared/design.md says), and is free when no busy interval meets
it, tested with datetimes.
Dates are in January-February 2027 (no clock change: the DST days have their
own tests in test_availability.py). Working hours, time off and bookings are
deliberately off the grid (09:10, 10:07:30 ...) and buffers are odd lengths.
"""

import random
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings

from booking import availability
from booking.models import Booking, WorkingHours
from tests.factories import BookingFactory, PractitionerFactory, ServiceFactory, TimeOffFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

LONDON = availability.LONDON
FIRST_DAY = date(2027, 1, 11)
DAYS = 21


def random_clock(rng, low_hour, high_hour) -> time:
    return time(rng.randint(low_hour, high_hour), rng.choice([0, 0, 0, 10, 15, 30, 45, 50]))


def build_calendar(rng):
    service = ServiceFactory(
        name=f"Service {rng.random()}", duration=rng.choice([15, 30, 45, 60, 50]), buffer_after=rng.choice([0, 0, 10, 15, 20])
    )
    physios = []
    for _ in range(rng.randint(1, 3)):
        physio = PractitionerFactory(services=[service], hours=[])
        for weekday in range(7):
            if rng.random() < 0.4:
                # Split shifts as the desk's form offers them: 09:00-13:00 and
                # 13:00-17:00 (touching), or rows that overlap by a little.
                middle = random_clock(rng, 10, 14)
                morning_start = random_clock(rng, 7, 9)
                afternoon_end = time(rng.randint(15, 18), rng.choice([0, 30]))
                overlap = rng.choice([0, 0, 15, 30])
                afternoon_start = (datetime.combine(FIRST_DAY, middle) - timedelta(minutes=overlap)).time()
                for start, end in ((morning_start, middle), (afternoon_start, afternoon_end)):
                    if start < end:
                        WorkingHours.objects.create(practitioner=physio, weekday=weekday, start_time=start, end_time=end)
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                start = random_clock(rng, 7, 16)
                end_minutes = start.hour * 60 + start.minute + rng.choice([30, 60, 95, 180, 240])
                end = time(min(end_minutes // 60, 23), end_minutes % 60)
                if end <= start:
                    continue
                valid_from = FIRST_DAY + timedelta(days=rng.randint(-3, 10)) if rng.random() < 0.2 else None
                valid_until = FIRST_DAY + timedelta(days=rng.randint(5, 25)) if rng.random() < 0.2 else None
                WorkingHours.objects.create(
                    practitioner=physio, weekday=weekday, start_time=start, end_time=end,
                    valid_from=valid_from, valid_until=valid_until,
                )
        for _ in range(rng.randint(0, 12)):
            start = datetime.combine(FIRST_DAY + timedelta(days=rng.randint(0, DAYS)), random_clock(rng, 8, 17), tzinfo=LONDON)
            start += timedelta(seconds=rng.choice([0, 0, 450, 7, -30]))
            TimeOffFactory(practitioner=physio, start=start, end=start + timedelta(minutes=rng.choice([20, 60, 60, 90, 300, 2000])))
        # Bookings on a 5-minute grid, never overlapping each other (as the database insists).
        taken = []
        for _ in range(rng.randint(0, 40)):
            day = FIRST_DAY + timedelta(days=rng.randint(0, DAYS))
            start = datetime.combine(day, time(rng.randint(7, 18), rng.choice(range(0, 60, 5))), tzinfo=LONDON)
            blocks_until = start + timedelta(minutes=service.blocked_minutes)
            if any(s < blocks_until and e > start for s, e in taken):
                continue
            status = rng.choice(list(Booking.Status))
            hold = None
            if status == Booking.Status.HELD:
                hold = NOW + timedelta(minutes=rng.choice([-60, -1, 0, 1, 30]))
            if status in Booking.CONSTRAINED_STATUSES:
                taken.append((start, blocks_until))
            BookingFactory(practitioner=physio, service=service, start=start, status=status, hold_expires_at=hold)
        physios.append(physio)
    return service, physios


NOW = datetime(2027, 1, 11, 9, 7, 30, tzinfo=LONDON)


def reference_slots(service, physios, date_from, date_to, now, enforce_notice=True):
    step = timedelta(minutes=settings.BOOKING_SLOT_MINUTES)
    minute = timedelta(minutes=1)
    occupied_minutes = service.duration + service.buffer_after
    occupied = timedelta(minutes=occupied_minutes)
    earliest = now + timedelta(minutes=settings.BOOKING_MIN_NOTICE_MINUTES) if enforce_notice else now
    latest = now + timedelta(days=settings.BOOKING_HORIZON_DAYS) if enforce_notice else None
    found = set()
    for physio in physios:
        busy = [(t.start, t.end) for t in physio.time_off.all()]
        busy += [(b.start, b.blocks_until) for b in physio.bookings.all() if b.is_blocking(now)]
        day = date_from
        while day <= date_to:
            rows = [
                (datetime.combine(day, row.start_time, tzinfo=LONDON), datetime.combine(day, row.end_time, tzinfo=LONDON))
                for row in physio.working_hours.all()
                if row.applies_on(day)
            ]

            def working(instant, rows=rows):
                return any(row_start <= instant < row_end for row_start, row_end in rows)

            start = datetime.combine(day, time(0), tzinfo=LONDON)
            while start.date() == day:
                in_hours = all(working(start + n * minute) for n in range(occupied_minutes))
                in_window = start >= earliest and (latest is None or start <= latest)
                clear = not any(b_start < start + occupied and b_end > start for b_start, b_end in busy)
                if in_hours and in_window and clear:
                    found.add((start, physio.pk))
                start += step
            day += timedelta(days=1)
    return sorted(found)


@pytest.mark.parametrize("seed", range(20))
def test_free_slots_match_the_reference(seed):
    rng = random.Random(seed)
    service, physios = build_calendar(rng)
    date_from, date_to = FIRST_DAY, FIRST_DAY + timedelta(days=DAYS - 1)
    with time_machine.travel(NOW, tick=False):
        for enforce_notice in (True, False):
            got = availability.free_slots(
                service=service, date_from=date_from, date_to=date_to, enforce_notice=enforce_notice
            )
            expected = reference_slots(service, physios, date_from, date_to, NOW, enforce_notice)
            assert [(s.start, s.practitioner_id) for s in got] == expected
            assert all(s.end - s.start == timedelta(minutes=service.duration) for s in got)
            # Every start offered is one booking_hold accepts: on the clinic's grid.
            assert all(s.local_start.minute % settings.BOOKING_SLOT_MINUTES == 0 for s in got)
