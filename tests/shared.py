"""Constants and small helpers that many test folders share (fixtures are in tests/conftest.py)."""

from __future__ import annotations

import socket
from datetime import datetime, time, timedelta

from django.utils import timezone

from booking.availability import LONDON

# A Monday morning in winter (London time is UTC); bookings need two hours' notice. The `frozen`
# fixture stops the clock here unless the test module names another NOW.
NOW = MONDAY_8AM = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)

# A plain intake without red flags.
INTAKE = {"pain_areas": ["buttock", "thigh"], "side": "left", "duration_weeks": 3}

# Working hours for PractitionerFactory(hours=...): 08:00-18:00 every day of the week.
EVERY_DAY = [(day, time(8), time(18)) for day in range(7)]


def next_week_at(clock: time) -> datetime:
    """A London wall-clock time a week from now: inside notice and horizon whenever the suite runs."""
    day = timezone.localtime(timezone.now(), LONDON).date() + timedelta(days=7)
    return datetime.combine(day, clock, tzinfo=LONDON)


_CLOSED: list[socket.socket] = []


def closed_port() -> int:
    """A 127.0.0.1 port where nothing listens, for "the service is down" tests.

    It stays bound (never listening) for the whole session, so no other process on a busy machine
    can take it between here and the test's call: connecting is refused, always."""
    if not _CLOSED:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        _CLOSED.append(sock)
    return _CLOSED[0].getsockname()[1]
