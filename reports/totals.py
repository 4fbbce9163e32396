"""A report period, and the totals the reports are made from: what reports/direct.py and
reports/summary.py both return (the first from the source tables, the second from the per-day
summary), and reports/figures.py turns into the reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from booking.models import WorkingHours

from common.clock import local_day_bounds


@dataclass(frozen=True)
class Period:
    """A range of London days, [date_from 00:00, date_to + 1 day 00:00) London time."""

    date_from: date
    date_to: date
    # Totals several reports share, read once per Period object (one request's page).
    _memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def start(self) -> datetime:
        return local_day_bounds(self.date_from)[0]

    @property
    def end(self) -> datetime:
        return local_day_bounds(self.date_to)[1]

    def days(self):
        day = self.date_from
        while day <= self.date_to:
            yield day
            day += timedelta(days=1)


def minutes(delta: timedelta | None) -> int:
    return int(delta.total_seconds() // 60) if delta else 0


@dataclass(frozen=True)
class BookingTotals:
    """One practitioner's bookings starting in the period."""

    bookings: int = 0  # every status, unpaid holds included
    made_online: int = 0  # "made": confirmed, attended, no-show or cancelled
    made_reception: int = 0
    made_waitlist: int = 0
    confirmed: int = 0
    attended: int = 0
    no_shows: int = 0
    cancelled: int = 0
    late_cancellations: int = 0
    occupied_minutes: int = 0  # confirmed, attended and no-show bookings' length

    @property
    def made(self) -> int:
        return self.made_online + self.made_reception + self.made_waitlist


@dataclass(frozen=True)
class MoneyTotals:
    """Pence by payment method: taken in the period, and refunded in the period."""

    taken: dict[str, int]
    refunded: dict[str, int]


@dataclass(frozen=True)
class FunnelTotals:
    """Offer codes issued in the period, and how many got how far."""

    claimed: int = 0
    held: int = 0
    paid: int = 0
    came_back: int = 0


@dataclass(frozen=True)
class StaffMember:
    pk: int
    name: str
    position: int
    active: bool


@dataclass(frozen=True)
class HoursRow:
    """A WorkingHours row as plain data."""

    pk: int
    weekday: int
    start_time: time
    end_time: time
    valid_from: date | None
    valid_until: date | None

    applies_on = WorkingHours.applies_on  # the model's rule (availability.working_intervals asks it too)


@dataclass(frozen=True)
class StaffTime:
    """Every practitioner, their weekly hours, and their time off overlapping the period (aware instants)."""

    practitioners: list[StaffMember]
    hours: dict[int, list[HoursRow]]
    time_off: dict[int, list[tuple[datetime, datetime]]]
