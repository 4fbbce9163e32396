from django.contrib import admin

from common.admin import ReadOnlyAdminMixin

from .calendar import retained_label
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


class KeptRecordsHiddenAdminMixin:
    """privacy.access's rule in the admin, for pages whose rows are a booking's content (payments, refunds,
    outcome scores, urgent-advice signs): rows of a record kept after an erasure are not listed or opened
    here, for anyone; managers open that content with a logged reason at /staff/retained-records/<id>/."""

    booking_path = "booking"  # the lookup from this admin's model to its Booking

    def get_queryset(self, request):
        return super().get_queryset(request).filter(**{f"{self.booking_path}__retention__isnull": True})


# What a kept record's admin page shows: the slot and its end date (booking.calendar's restricted row).
KEPT_BOOKING_FIELDS = ["practitioner", "service", "start", "end", "status", "retained"]


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: every change (patient, time, status) goes through booking.services from the desk
    pages, which check the rules and log it as a BookingEvent. A record kept after an erasure shows
    only its slot and "Record retained until <date>" (privacy.access), to everyone here."""

    list_display = ["id", "start", "practitioner", "service", "patient_shown", "status", "amount_due_pence", "source",
                    "flag_list"]
    list_filter = ["status", "source", "service", "practitioner"]
    search_fields = ["patient__email", "patient__first_name", "patient__last_name", "patient__phone", "id"]
    date_hierarchy = "start"
    list_select_related = ["practitioner__user", "service", "patient", "retention"]
    raw_id_fields = ["patient", "offer_code"]
    readonly_fields = [
        "status", "hold_expires_at", "price_pence", "discount_pence", "amount_due_pence", "blocks_until",
        "offer_code", "created_at", "updated_at", "created_by", "reminder_sent_at",
    ]
    inlines = [BookingEventInline]

    @staticmethod
    def _kept_until(obj):
        retention = getattr(obj, "retention", None)  # the reverse one-to-one raises when absent
        return retention.keep_until if retention else None

    @admin.display(description="Patient")
    def patient_shown(self, obj):
        keep_until = self._kept_until(obj)
        return retained_label(keep_until) if keep_until else obj.patient

    @admin.display(description="Flags")
    def flag_list(self, obj):
        return "" if self._kept_until(obj) else ", ".join(obj.flags)

    @admin.display(description="Access restricted")
    def retained(self, obj):
        return (f"{retained_label(self._kept_until(obj))}. Managers open its content, with a reason that is logged, "
                f"at /staff/retained-records/{obj.pk}/.")

    def get_fields(self, request, obj=None):
        return KEPT_BOOKING_FIELDS if obj and self._kept_until(obj) else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "retained"]

    def get_inlines(self, request, obj):
        return [] if obj and self._kept_until(obj) else super().get_inlines(request, obj)

    def has_add_permission(self, request):
        return False


@admin.register(UrgentAdvice)
class UrgentAdviceAdmin(KeptRecordsHiddenAdminMixin, admin.ModelAdmin):
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
