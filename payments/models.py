"""Payments: one row per payment attempt, refunds as their own rows, Stripe events once."""

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum


class Payment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    class Method(models.TextChoices):
        STRIPE_CHECKOUT = "stripe_checkout", "Stripe Checkout"
        LOCAL_TEST = "local_test", "Local test payment (no card charged)"
        CARD_TERMINAL = "card_terminal", "Card terminal at the clinic"
        CASH = "cash", "Cash at the clinic"

    PAID_STATUSES = (Status.SUCCEEDED, Status.REFUNDED, Status.PARTIALLY_REFUNDED)

    booking = models.ForeignKey("booking.Booking", on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=20, choices=Method.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    amount_pence = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="gbp")
    checkout_session_id = models.CharField(max_length=255, blank=True, db_index=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    # A payment that arrived for a slot that was lost meanwhile: refunded automatically.
    auto_refunded = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="payment_status_created_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["checkout_session_id"], condition=~Q(checkout_session_id=""), name="payment_unique_session"
            ),
            # One successful payment per booking, whatever the race (a second one is
            # recorded only as auto_refunded, so Stripe's word is never refused).
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(status__in=["succeeded", "refunded", "partially_refunded"], auto_refunded=False),
                name="payment_one_paid_per_booking",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} £{self.amount_pence / 100:.2f} ({self.status})"

    @property
    def refunded_pence(self) -> int:
        return self.refunds.exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount_pence"))["total"] or 0

    @property
    def refundable_pence(self) -> int:
        if self.status not in self.PAID_STATUSES:
            return 0
        return self.amount_pence - self.refunded_pence


class Refund(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_pence = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_refund_id"], condition=~Q(stripe_refund_id=""), name="refund_unique_stripe_id"
            ),
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="refund_positive"),
        ]

    def __str__(self) -> str:
        return f"Refund £{self.amount_pence / 100:.2f} ({self.status})"


class StripeEvent(models.Model):
    """Every webhook event id, stored once; processed in the same transaction as its effect."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class LocalCheckoutSession(models.Model):
    """The local test-payment mode's stand-in for a Stripe Checkout Session.

    Used only when STRIPE_SECRET_KEY is unset; no card is charged.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        EXPIRED = "expired", "Expired"

    session_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    payment_status = models.CharField(max_length=16, default="unpaid")
    amount_pence = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="gbp")
    description = models.CharField(max_length=255)
    customer_email = models.EmailField()
    metadata = models.JSONField(default=dict)
    expires_at = models.DateTimeField()
    success_url = models.URLField(max_length=2000)
    cancel_url = models.URLField(max_length=2000)
    payment_intent_id = models.CharField(max_length=64, blank=True)
    refunded_pence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.session_id
