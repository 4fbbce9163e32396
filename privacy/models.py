"""Data rights under UK GDPR: what was emailed, who asked for what, what is kept after erasure and until when."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SentEmail(models.Model):
    """One email the clinic sent, as the patient's export lists it (no body kept: subject and time suffice)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["user", "-sent_at"], name="sentemail_user_idx")]

    def __str__(self) -> str:
        return f"{self.subject} ({self.sent_at:%Y-%m-%d})"


class DataRequest(models.Model):
    """The log of data-rights requests: who asked, how, who handled it, when.

    Holds no name or address (it outlives an erasure): only the user id, whose
    row is anonymised by the erasure itself.
    """

    class Kind(models.TextChoices):
        EXPORT = "export", "Export (subject access)"
        ERASURE = "erasure", "Erasure"

    class Channel(models.TextChoices):
        ONLINE = "online", "By the patient, online"
        PHONE = "phone", "By phone, through reception"
        IN_PERSON = "in_person", "In person, through reception"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.CharField(max_length=200, blank=True, help_text="e.g. how the caller's identity was checked.")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for user #{self.user_id} ({self.get_channel_display()})"


class Erasure(models.Model):
    """An erased patient: their user row is anonymised and kept only while records hang on it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="erasure")
    erased_at = models.DateTimeField(default=timezone.now)
    # Lets the clinic find the kept records again if the person writes in with
    # their address (e.g. a claim), without keeping the address itself.
    mailbox_hash = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return f"Erased patient #{self.user_id} ({self.erased_at:%Y-%m-%d})"


class RetainedBooking(models.Model):
    """A booking an erased patient's record keeps, why, and until when (then erase_due_records deletes it).

    Clinical records: 8 years after the last treatment (adults, England: NHS
    Records Management Code of Practice). Payment records: 6 years (HMRC, and
    the Limitation Act 1980 for contract claims).
    """

    booking = models.OneToOneField("booking.Booking", on_delete=models.CASCADE, related_name="retention")
    erasure = models.ForeignKey(Erasure, on_delete=models.CASCADE, related_name="bookings")
    clinical_until = models.DateField(null=True, blank=True)
    financial_until = models.DateField(null=True, blank=True)
    keep_until = models.DateField(db_index=True)

    class Meta:
        ordering = ["keep_until", "id"]

    def __str__(self) -> str:
        return f"Booking #{self.booking_id} kept until {self.keep_until}"


class RetainedRecordAccess(models.Model):
    """Someone opened a kept (retained-for-law) record's clinical and payment content, and why.

    Only managers and superusers may (privacy.access); every opening is logged here.
    Keeps the booking id as a number: the log outlives the record.
    """

    booking_id = models.PositiveBigIntegerField(db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Retained booking #{self.booking_id} opened by user #{self.by_id}: {self.reason}"
