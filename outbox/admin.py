from django.contrib import admin

from .models import Heartbeat, OutboxTask


@admin.register(OutboxTask)
class OutboxTaskAdmin(admin.ModelAdmin):
    list_display = ("created_at", "name", "key", "status", "attempts", "next_attempt_at", "done_at")
    list_filter = ("status", "name")
    search_fields = ("key", "request_id")
    readonly_fields = [f.name for f in OutboxTask._meta.fields]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "at", "hostname")
