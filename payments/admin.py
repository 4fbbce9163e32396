from django.contrib import admin

from booking.admin import KeptRecordsHiddenAdminMixin
from common.admin import ReadOnlyAdminMixin

from .models import Attention, Payment, Refund, StripeEvent


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    readonly_fields = ["amount_pence", "status", "stripe_refund_id", "reason", "failure_reason", "retry_of", "auto",
                       "created_by", "created_at"]
    can_delete = False


@admin.register(Payment)
class PaymentAdmin(KeptRecordsHiddenAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: payments change through payments.services (webhooks, the desk's cancel and refund)."""

    list_display = ["id", "booking", "method", "status", "amount_pence", "auto_refunded", "created_at"]
    # auto_refunded: payments that arrived for a slot that was lost (or a booking already paid or
    # cancelled) and were refunded in full automatically; reception calls these patients.
    list_filter = ["auto_refunded", "status", "method"]
    search_fields = ["checkout_session_id", "payment_intent_id", "booking__patient__email"]
    raw_id_fields = ["booking"]
    readonly_fields = ["checkout_session_id", "payment_intent_id", "idempotency_key", "paid_at", "auto_refunded",
                       "provider_refunded_pence"]
    inlines = [RefundInline]


@admin.register(Refund)
class RefundAdmin(KeptRecordsHiddenAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    booking_path = "payment__booking"
    list_display = ["id", "payment", "amount_pence", "status", "stripe_refund_id", "created_at"]
    list_filter = ["status"]
    search_fields = ["stripe_refund_id", "payment__payment_intent_id", "payment__booking__patient__email"]
    raw_id_fields = ["payment"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What Stripe sent, kept as received."""

    list_display = ["event_id", "type", "received_at", "waiting_for"]
    list_filter = ["type"]
    search_fields = ["event_id", "type"]


@admin.register(Attention)
class AttentionAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "amount_pence", "message", "created_at", "resolved_at", "resolved_by"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "message"]
    raw_id_fields = ["booking", "payment", "refund"]
    readonly_fields = ["key", "created_at"]
