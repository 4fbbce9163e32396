"""The first-session offer: a campaign and the personal codes issued from it."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.mailbox import normalise_mailbox


def mailbox_hash(email: str) -> str:
    """SHA-256 of the normalised mailbox: lets "one code per mailbox" outlive the address.

    Kept after the patient's erasure (issue 18), so the same mailbox can never
    claim a second code. Not anonymous (anyone holding an address can test
    it), which is exactly the use; it reveals no address by itself.
    """
    return hashlib.sha256(("physiobook-mailbox:" + normalise_mailbox(email)).encode()).hexdigest()


class Offer(models.Model):
    name = models.CharField(max_length=120, default="20% off your first session")
    percent_off = models.PositiveSmallIntegerField(default=20)
    validity_hours = models.PositiveSmallIntegerField(default=24)
    services = models.ManyToManyField(
        "booking.Service", related_name="offers", help_text="Services the code can be used on (first sessions)."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(percent_off__gt=0, percent_off__lte=100), name="offer_percent_range"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> "Offer | None":
        return cls.objects.filter(active=True).order_by("-created_at").first()


class OfferCodeQuerySet(models.QuerySet):
    def with_state(self, now=None):
        now = now or timezone.now()
        return self.annotate(
            state=models.Case(
                models.When(redeemed_by__isnull=False, then=models.Value(OfferCode.State.REDEEMED)),
                models.When(reserved_by__isnull=False, then=models.Value(OfferCode.State.RESERVED)),
                models.When(expires_at__lte=now, then=models.Value(OfferCode.State.EXPIRED)),
                default=models.Value(OfferCode.State.AVAILABLE),
                output_field=models.CharField(),
            )
        )


class OfferCode(models.Model):
    class State(models.TextChoices):
        AVAILABLE = "available", "Available"
        RESERVED = "reserved", "Reserved by a held booking"
        REDEEMED = "redeemed", "Redeemed"
        EXPIRED = "expired", "Expired"

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="codes")
    code = models.CharField(max_length=32, unique=True, help_text="Stored without dashes, upper case.")
    # The address it was sent to (trimmed, lower-cased).
    email = models.EmailField(unique=True)
    # One code per mailbox, ever; survives erasure of the email (see mailbox_hash).
    # Null only for old rows whose mailbox already had an earlier code.
    mailbox_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Staff member who issued it by hand, if any.",
    )
    # At most one held booking reserves the code, and one paid booking redeems it:
    # a OneToOne is a unique column, so the database refuses a second one.
    reserved_by = models.OneToOneField(
        "booking.Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="reserved_offer_code"
    )
    redeemed_by = models.OneToOneField(
        "booking.Booking", null=True, blank=True, on_delete=models.SET_NULL, related_name="redeemed_offer_code"
    )
    redeemed_at = models.DateTimeField(null=True, blank=True)

    objects = OfferCodeQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.display_code

    def save(self, *args, **kwargs):
        if self.mailbox_hash is None and self.email:
            self.mailbox_hash = mailbox_hash(self.email)
        super().save(*args, **kwargs)

    @property
    def display_code(self) -> str:
        """FIRST7KQ9M2XD -> FIRST-7KQ9-M2XD"""
        prefix, rest = self.code[:5], self.code[5:]
        return "-".join([prefix] + [rest[i : i + 4] for i in range(0, len(rest), 4)])

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    def time_left(self, now=None) -> timedelta:
        return max(self.expires_at - (now or timezone.now()), timedelta(0))

    def state_at(self, now=None) -> str:
        if self.redeemed_by_id:
            return self.State.REDEEMED
        if self.reserved_by_id:
            return self.State.RESERVED
        if self.is_expired(now):
            return self.State.EXPIRED
        return self.State.AVAILABLE
