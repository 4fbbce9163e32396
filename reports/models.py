"""Per-day sums behind the reports (reports/summary.py keeps them true), so a year's report adds
up a few thousand small rows instead of scanning every booking and payment of the year.

A day's rows are right when the day has a ComputedDay row (for the current cancellation window)
and no StaleDay marker. Every write that changes a figure inserts a marker for the day(s) it
touches, in its own transaction (reports/signals.py); the next report over that day recomputes
it from the bookings, payments and codes, then deletes the markers it saw. A day never computed
counts as stale.
"""

from django.db import models

from booking.models import Practitioner


class ComputedDay(models.Model):
    """A London day whose BookingDay, MethodDay and FunnelDay rows were built from the source tables."""

    day = models.DateField(primary_key=True)
    # Late cancellations depend on BOOKING_FREE_CANCEL_HOURS: a day computed under another window is stale.
    cancel_window_hours = models.PositiveIntegerField()
    computed_at = models.DateTimeField()


class StaleDay(models.Model):
    """A write changed a figure of this day. Not unique: a report deletes only the markers it read,
    so a write that lands while the report recomputes leaves its own marker behind."""

    day = models.DateField(db_index=True)


class BookingDay(models.Model):
    """One practitioner's bookings starting that day (London), counted (rows only where there are bookings)."""

    day = models.DateField()
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="+")
    bookings = models.PositiveIntegerField(default=0)  # every status, unpaid holds included
    made_online = models.PositiveIntegerField(default=0)  # "made": not held or expired
    made_reception = models.PositiveIntegerField(default=0)
    made_waitlist = models.PositiveIntegerField(default=0)
    confirmed = models.PositiveIntegerField(default=0)
    attended = models.PositiveIntegerField(default=0)
    no_shows = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    late_cancellations = models.PositiveIntegerField(default=0)
    occupied_seconds = models.BigIntegerField(default=0)  # confirmed, attended and no-show bookings' length

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "practitioner"], name="reports_bookingday_unique")]


class MethodDay(models.Model):
    """Pence taken (payments by when taken) and refunded (refunds by when made) that day, for one method."""

    day = models.DateField()
    method = models.CharField(max_length=32)
    payments = models.PositiveIntegerField(default=0)  # how many were taken (a £0 one still lists its method)
    taken_pence = models.BigIntegerField(default=0)
    refunds = models.PositiveIntegerField(default=0)
    refunded_pence = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "method"], name="reports_methodday_unique")]


class FunnelDay(models.Model):
    """Offer codes issued that day, and how far they have gone so far."""

    day = models.DateField(primary_key=True)
    claimed = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    paid = models.PositiveIntegerField(default=0)
    came_back = models.PositiveIntegerField(default=0)
