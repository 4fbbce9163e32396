from django.contrib import admin

from .models import WaitlistEntry, WaitlistOffer


class OfferInline(admin.TabularInline):
    model = WaitlistOffer
    extra = 0
    readonly_fields = ("practitioner", "start", "booking", "offered_at", "offered_by")
    can_delete = False


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ("patient", "service", "practitioner", "date_from", "date_to", "status", "created_at")
    list_filter = ("status", "service")
    search_fields = ("patient__email",)
    inlines = [OfferInline]
