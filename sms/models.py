"""Who agreed to texts (and when), and every text sent with its delivery status."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SmsContact(models.Model):
    """A patient's mobile number (E.164) and their consent to texts, recorded with its time."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sms_contact")
    class ConsentSource(models.TextChoices):
        PROFILE = "profile", "Profile page"
        SMS_REPLY = "sms_reply", "Replied START by text"

    phone = models.CharField(max_length=16, help_text="E.164, e.g. +447700900123.")
    consented_at = models.DateTimeField(null=True, blank=True)
    consent_source = models.CharField(max_length=16, choices=ConsentSource.choices, blank=True,
                                      help_text="Where the consent at consented_at was given.")
    opted_out_at = models.DateTimeField(null=True, blank=True, help_text="Replied STOP or turned texts off.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["phone"], name="sms_contact_phone_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.phone}"

    @property
    def may_text(self) -> bool:
        return bool(self.phone and self.consented_at and not self.opted_out_at)


class SmsMessage(models.Model):
    class Status(models.TextChoices):
        # Twilio's message statuses (the status callback's MessageStatus), plus our own "failed to send".
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        UNDELIVERED = "undelivered", "Undelivered"
        FAILED = "failed", "Failed"

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    to = models.CharField(max_length=16)
    body = models.TextField()
    purpose = models.CharField(max_length=32, help_text="reminder, waitlist_offer, ...")
    provider = models.CharField(max_length=16)
    provider_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.purpose} to {self.to}: {self.status}"
