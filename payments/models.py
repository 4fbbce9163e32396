"""Payments: one row per payment attempt, refunds as their own rows, Stripe events once."""

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce


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
        NONE_DUE = "none_due", "Nothing to pay (£0)"

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
    # Stripe's own total refunded for this payment's charge, as last reported (charge.refunded,
    # reconcile). Never added to our refund rows: a figure higher than theirs means rows are missing.
    provider_refunded_pence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payment_status_created_idx"),
            # When money was taken, as the reports' ledger reads it (reports.ledger.taken_by_method): a range
            # scan for a period, and statistics that let the planner count the period's rows right.
            models.Index(Coalesce("paid_at", "created_at"), name="payment_taken_at_idx"),
        ]
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

    # The ledger. Three questions, three answers; every page, command and test asks these.
    @property
    def captured_pence(self) -> int:
        """What the provider (or the desk) took for this payment."""
        return self.amount_pence if self.status in self.PAID_STATUSES else 0

    @property
    def refunded_pence(self) -> int:
        """Refunded or on its way back (pending, unsent or accepted): never refund this twice."""
        return self.refunds.exclude(status=Refund.Status.FAILED).aggregate(total=Sum("amount_pence"))["total"] or 0

    @property
    def provider_accepted_refund_pence(self) -> int:
        """Refunds the provider has accepted (it gave an id and did not fail them): what Stripe's
        charge.amount_refunded counts. The audit compares this figure."""
        return (
            self.refunds.exclude(status=Refund.Status.FAILED).exclude(stripe_refund_id="")
            .aggregate(total=Sum("amount_pence"))["total"] or 0
        )

    @property
    def settled_refund_pence(self) -> int:
        """Refunds that have succeeded: only these make a payment read 'refunded'."""
        return self.refunds.filter(status=Refund.Status.SUCCEEDED).aggregate(total=Sum("amount_pence"))["total"] or 0

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
    failure_reason = models.CharField(max_length=255, blank=True)
    # An automatic refund (a payment we could not keep): the patient is emailed once Stripe accepts it.
    auto = models.BooleanField(default=False)
    patient_told_at = models.DateTimeField(null=True, blank=True)
    # A failed refund is never reused (its Stripe id stays its own): a retry is a new row.
    retry_of = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="retry")
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
    # An event about a payment intent we do not know yet (refund before checkout.session.completed):
    # kept, and applied when the payment with that intent appears.
    waiting_for = models.CharField(max_length=255, blank=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Attention(models.Model):
    """Money that needs a person: reception's "needs attention" list, until someone resolves it.

    One row per problem (`key` is unique), so repeated events or reconcile runs never list it twice.
    """

    class Kind(models.TextChoices):
        DESK_REFUND = "desk_refund", "Refund at the desk"
        REFUND_FAILED = "refund_failed", "Refund failed at Stripe"
        MISMATCH = "mismatch", "Payment does not match what we asked for"
        UNKNOWN_SESSION = "unknown_session", "Payment for a checkout we did not create"
        UNKNOWN_AT_STRIPE = "unknown_at_stripe", "Stripe does not know this checkout"
        REFUNDED_AT_STRIPE = "refunded_at_stripe", "Refunded in full at Stripe"

    key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    booking = models.ForeignKey("booking.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="attention")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="attention")
    amount_pence = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["resolved_at", "created_at"], name="attention_open_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"


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
