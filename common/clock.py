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
