from django.contrib import admin

from .models import Payment, Refund, StripeEvent


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    readonly_fields = ["amount_pence", "status", "stripe_refund_id", "reason", "created_by", "created_at"]
    can_delete = False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "booking", "method", "status", "amount_pence", "created_at", "auto_refunded"]
    list_filter = ["status", "method", "auto_refunded"]
    search_fields = ["checkout_session_id", "payment_intent_id", "booking__patient__email"]
    raw_id_fields = ["booking"]
    inlines = [RefundInline]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "received_at"]
    search_fields = ["event_id", "type"]
