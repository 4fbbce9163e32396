from django.contrib import admin

from booking.admin import KeptRecordsHiddenAdminMixin

from .models import OutcomeScore


@admin.register(OutcomeScore)
class OutcomeScoreAdmin(KeptRecordsHiddenAdminMixin, admin.ModelAdmin):
    list_display = ("booking", "leg_pain", "activity_limit", "recorded_at")
    raw_id_fields = ("booking",)
