"""One row per piece of work to do after a commit (an email, a call to Stripe).

Written in the same transaction as the change that needs it, so a crash
between commit and send loses nothing: the sweep finds every row not done.
"""

from django.db import models
from django.db.models import Q


class OutboxTask(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed (gave up)"

    # Dotted path of the function to call, e.g. "booking.notifications.send_booking_confirmed".
    name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict)
    # The intent's identity ("booking_confirmed:42"): enqueueing it again is a no-op.
    key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the sweep may queue it (again) if it is still not done.
    next_attempt_at = models.DateTimeField()
    # A worker running it holds it until then; after that it is considered lost (worker killed).
    locked_until = models.DateTimeField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="outbox_pending_due"),
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.key}] {self.status}"


class Heartbeat(models.Model):
    """The last time a Celery worker ran the periodic heartbeat (readiness reads it)."""

    name = models.CharField(max_length=50, primary_key=True)
    at = models.DateTimeField()
    hostname = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
