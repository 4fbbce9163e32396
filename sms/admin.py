from django.contrib import admin

from .models import SmsContact, SmsMessage


@admin.register(SmsContact)
class SmsContactAdmin(admin.ModelAdmin):
    list_display = ("user", "phone", "consented_at", "consent_source", "opted_out_at")
    search_fields = ("user__email", "phone")


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "to", "purpose", "provider", "status")
    list_filter = ("purpose", "status")
    readonly_fields = [f.name for f in SmsMessage._meta.fields]
