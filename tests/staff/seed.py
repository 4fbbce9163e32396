"""Arrange a busy clinic day quickly (direct writes, no rules): for calendars, query counts, benchmarks."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from booking.availability import LONDON
from booking.models import Booking
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    PractitionerFactory,
    ServiceFactory,
    StaffFactory,
    TimeOffFactory,
    UserFactory,
)

NAMES = ["Amara Okafor", "Ben Hughes", "Chloe Martin", "Dev Patel", "Ella Novak", "Finn O'Brien",
         "Grace Liu", "Hamza Khan"]
COLOURS = ["#1f5f7a", "#7a3e9d", "#2f7d4f", "#b5541c", "#3552a8", "#8a6d00", "#a2335b", "#3d6e6e"]
PATIENT_NAMES = ["Olivia Smith", "Jack Taylor", "Amelia Brown", "Harry Wilson", "Isla Evans", "Noah Thomas",
                 "Mia Roberts", "Leo Walker", "Ava Wright", "Oscar Robinson", "Freya Thompson", "George White",
                 "Sophia Hall", "Arthur Green", "Lily Lewis", "Muhammad Clarke", "Emily Jackson", "Alfie Wood",
                 "Poppy Turner", "Theo Hill"]


INTAKES = [
    {"pain_areas": ["lower_back", "buttock", "thigh"], "side": "left", "duration_weeks": 3, "numbness": True,
     "tingling": True, "previous_injuries": "Disc bulge L5/S1 in 2019", "cancer_history": True},
    {"pain_areas": ["buttock", "calf", "foot"], "side": "right", "duration_weeks": 10, "weakness": True},
    {"pain_areas": ["lower_back"], "side": "both", "duration_weeks": 1},
]


def make_clinic(count: int = 8, *, all_week: bool = False):
    assessment = ServiceFactory()
    follow_up = FollowUpFactory()
    days = range(7) if all_week else range(6)
    practitioners = []
    for i in range(count):
        first, last = NAMES[i % len(NAMES)].split(" ", 1)
        user = StaffFactory(first_name=first, last_name=last, email=f"physio{i}@clinic.example")
        practitioners.append(PractitionerFactory(
            user=user, services=[assessment, follow_up], colour=COLOURS[i % len(COLOURS)],
            title="Physiotherapist, MCSP", position=i,
            hours=[(d, time(8), time(13)) for d in days] + [(d, time(14), time(19)) for d in days]
            if i % 3 == 0 else [(d, time(9), time(17)) for d in days],
        ))
    return assessment, follow_up, practitioners


def make_patients(count: int = 20):
    patients = []
    for i in range(count):
        first, last = PATIENT_NAMES[i % len(PATIENT_NAMES)].split(" ", 1)
        patients.append(UserFactory(first_name=first, last_name=last, email=f"p{i}@example.com",
                                    phone=f"07700 900{i:03d}", password=None))
    return patients


def fill_day(day: date, practitioners, service, patients, count: int) -> list[Booking]:
    """count bookings of `service` (30 min) on `day`, round-robin across practitioners.

    Statuses mix like a real day: mostly confirmed, some held, attended, no-show,
    cancelled; every fifth is flagged.
    """
    statuses = [Booking.Status.CONFIRMED] * 5 + [Booking.Status.HELD, Booking.Status.ATTENDED,
                                                 Booking.Status.NO_SHOW, Booking.Status.CANCELLED]
    created = []
    n = len(practitioners)
    # A normal day (up to 8 each): one an hour from 09:00. A packed one: back to back from 07:00.
    first, step = (time(9), 60) if count <= 8 * n else (time(7), 30)
    for i in range(count):
        start = datetime.combine(day, first, tzinfo=LONDON) + timedelta(minutes=step * (i // n))
        status = statuses[i % len(statuses)]
        created.append(BookingFactory(
            practitioner=practitioners[i % n], service=service, patient=patients[i % len(patients)],
            start=start, status=status,
            hold_expires_at=start if status == Booking.Status.HELD else None,
            flags=["cancer_history"] if i % 5 == 0 else [],
            intake=INTAKES[i % len(INTAKES)] if i % 3 != 1 else {},
        ))
    return created


def add_lunches(day: date, practitioners):
    for p in practitioners[1::3]:
        TimeOffFactory(practitioner=p, start=datetime.combine(day, time(12, 30), tzinfo=LONDON),
                       end=datetime.combine(day, time(13), tzinfo=LONDON), reason="lunch")
