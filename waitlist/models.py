"""Patients waiting for a time, and the offers made to them when one comes free."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.clock import london_date
from booking.models import Booking, Practitioner, Service

MORNING, AFTERNOON = "morning", "afternoon"
TIMES_OF_DAY = (MORNING, AFTERNOON)
NOON_HOUR = 12  # London wall clock: a start before 12:00 is "morning", from 12:00 on "afternoon".


class WaitlistEntryQuerySet(models.QuerySet):
    def waiting(self, now=None):
        """Entries still looking for a time: not left, not expired, window not over, not already booked."""
        today = london_date(now)
        return self.filter(status=WaitlistEntry.Status.WAITING, date_to__gte=today)


class WaitlistEntry(models.Model):
    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        BOOKED = "booked", "Booked"
        LEFT = "left", "Left the waitlist"
        EXPIRED = "expired", "Window over"

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist_entries")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    practitioner = models.ForeignKey(Practitioner, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     help_text="Empty: any physiotherapist.")
    date_from = models.DateField()
    date_to = models.DateField(help_text="Last day that suits (inclusive); the entry expires after it.")
    weekdays = models.JSONField(default=list, blank=True, help_text="0 = Monday ... 6 = Sunday; empty = any day.")
    times_of_day = models.JSONField(default=list, blank=True, help_text='"morning", "afternoon"; empty = any time.')
    intake = models.JSONField(default=dict, blank=True, help_text="The assessment's intake, given when joining.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WaitlistEntryQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "waitlist entries"
        indexes = [models.Index(fields=["status", "date_to"], name="waitlist_waiting_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(date_to__gte=models.F("date_from")), name="waitlist_window_order"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} waiting for {self.service} {self.date_from}..{self.date_to}"

    def matches(self, local_start) -> bool:
        """Does a start (London wall clock) fall inside this entry's window?"""
        day = local_start.date()
        if not (self.date_from <= day <= self.date_to):
            return False
        if self.weekdays and day.weekday() not in self.weekdays:
            return False
        if self.times_of_day:
            part = MORNING if local_start.hour < NOON_HOUR else AFTERNOON
            if part not in self.times_of_day:
                return False
        return True


class WaitlistOffer(models.Model):
    """A freed slot offered to one waiting patient, held for them by a real booking hold."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    # The hold made by booking.services.booking_hold; a later acceptance may replace it with a fresh one.
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="waitlist_offers")
    offered_at = models.DateTimeField(default=timezone.now)
    offered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="Reception, when offered by hand.")

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            # One patient is offered one slot once: a lapsed offer moves on to the next patient.
            models.UniqueConstraint(fields=["entry", "practitioner", "start"], name="waitlist_offer_once_per_slot"),
        ]

    def __str__(self) -> str:
        return f"Offer of {self.start:%Y-%m-%d %H:%M} to {self.entry.patient}"

    @property
    def hold_expires_at(self):
        return self.booking.hold_expires_at

    def state(self, now=None) -> str:
        """holding | booked | lapsed: the one answer every page and the API give."""
        if self.booking.status in Booking.FIRM_STATUSES or self.booking.status == Booking.Status.NO_SHOW:
            return "booked"
        if self.booking.is_blocking(now):
            return "holding"
        return "lapsed"
