from django.contrib import admin

from .models import Offer, OfferCode


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["name", "percent_off", "validity_hours", "active", "created_at"]
    filter_horizontal = ["services"]


@admin.register(OfferCode)
class OfferCodeAdmin(admin.ModelAdmin):
    list_display = ["display_code", "email", "issued_at", "expires_at", "state", "reserved_by", "redeemed_by"]
    search_fields = ["email", "code"]
    raw_id_fields = ["reserved_by", "redeemed_by"]
    readonly_fields = ["code", "issued_at", "expires_at", "reserved_by", "redeemed_by", "redeemed_at", "issued_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).with_state()

    @admin.display(ordering="state")
    def state(self, obj):
        return obj.get_state_display() if hasattr(obj, "get_state_display") else obj.state
