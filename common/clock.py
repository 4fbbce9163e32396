"""The clinic's clock: London wall-clock time, "today in London" and a London day's bounds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

LONDON = ZoneInfo("Europe/London")


def london_date(instant: datetime | None = None) -> date:
    """The London calendar day of `instant` (now when None)."""
    return timezone.localtime(instant or timezone.now(), LONDON).date()


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a London calendar day as aware datetimes."""
    return (
        datetime.combine(day, time.min, tzinfo=LONDON),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=LONDON),
    )


def reading_repeats(instant: datetime) -> bool:
    """Does the London wall-clock reading of `instant` happen twice that day (01:00-01:59 on the
    fall-back night, the last Sunday of October)?"""
    naive = instant.astimezone(LONDON).replace(tzinfo=None)
    return naive.replace(tzinfo=LONDON, fold=0).utcoffset() != naive.replace(tzinfo=LONDON, fold=1).utcoffset()


def zone_if_repeated(instant: datetime) -> str:
    """" BST" or " GMT" after a reading that happens twice that day, so a person can tell them apart; else ""."""
    return f" {instant.astimezone(LONDON).tzname()}" if reading_repeats(instant) else ""


def london_clock(instant: datetime, fmt: str = "%H:%M") -> str:
    """`instant` on the London clock ("09:30"), with its zone where the reading happens twice ("01:30 GMT")."""
    return f"{instant.astimezone(LONDON):{fmt}}{zone_if_repeated(instant)}"
