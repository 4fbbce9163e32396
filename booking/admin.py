from django.contrib import admin

from common.admin import ReadOnlyAdminMixin

from .models import (
    Booking,
    BookingEvent,
    Practitioner,
    Service,
    TimeOff,
    UrgentAdvice,
    WorkingHours,
)


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "duration", "buffer_after", "price_pence", "is_first_session", "bookable_online", "active"]
    list_filter = ["active", "bookable_online", "is_first_session"]
    list_editable = ["active", "bookable_online"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["name", "title", "colour", "active"]
    list_filter = ["active", "services"]
    search_fields = ["user__first_name", "user__last_name", "user__email"]
    filter_horizontal = ["services"]
    inlines = [WorkingHoursInline]
    list_select_related = ["user"]


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "weekday", "start_time", "end_time", "valid_from", "valid_until"]
    list_filter = ["weekday", "practitioner"]
    list_select_related = ["practitioner__user"]


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ["practitioner", "start", "end", "reason", "note"]
    list_filter = ["reason", "practitioner"]
    date_hierarchy = "start"
    list_select_related = ["practitioner__user"]


class BookingEventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_status", "to_status", "reason", "data"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: every change (patient, time, status) goes through booking.services from the desk
    pages, which check the rules and log it as a BookingEvent."""

    list_display = ["id", "start", "practitioner", "service", "patient", "status", "amount_due_pence", "source", "flag_list"]
    list_filter = ["status", "source", "service", "practitioner"]
    search_fields = ["patient__email", "patient__first_name", "patient__last_name", "patient__phone", "id"]
    date_hierarchy = "start"
    list_select_related = ["practitioner__user", "service", "patient"]
    raw_id_fields = ["patient", "offer_code"]
    readonly_fields = [
        "status", "hold_expires_at", "price_pence", "discount_pence", "amount_due_pence", "blocks_until",
        "offer_code", "created_at", "updated_at", "created_by", "reminder_sent_at",
    ]
    inlines = [BookingEventInline]

    @admin.display(description="Flags")
    def flag_list(self, obj):
        return ", ".join(obj.flags)

    def has_add_permission(self, request):
        return False


@admin.register(UrgentAdvice)
class UrgentAdviceAdmin(admin.ModelAdmin):
    """The clinical lead's audit of the screening: read-only, nothing here is edited."""

    list_display = ["shown_at", "source", "signs", "booking"]
    list_filter = ["source", "shown_at"]
    date_hierarchy = "shown_at"
    list_select_related = ["booking"]
    readonly_fields = ["shown_at", "source", "signs", "booking"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
