from django.contrib import admin

from .models import DataRequest, Erasure, RetainedBooking, RetainedRecordAccess, SentEmail


@admin.register(DataRequest)
class DataRequestAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "channel", "user", "handled_by"]
    list_filter = ["kind", "channel"]
    readonly_fields = [f.name for f in DataRequest._meta.fields]


@admin.register(RetainedBooking)
class RetainedBookingAdmin(admin.ModelAdmin):
    list_display = ["booking", "clinical_until", "financial_until", "keep_until"]
    readonly_fields = ["booking", "erasure", "clinical_until", "financial_until", "keep_until"]


admin.site.register(Erasure)
admin.site.register(SentEmail, list_display=["sent_at", "to", "subject"], search_fields=["to", "subject"])


@admin.register(RetainedRecordAccess)
class RetainedRecordAccessAdmin(admin.ModelAdmin):
    list_display = ["at", "booking_id", "by", "reason"]
    readonly_fields = [f.name for f in RetainedRecordAccess._meta.fields]
