"""Admin pages that show records but never change them."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """View only, for everyone: the records change through the services (desk pages, payment
    webhooks), which check the rules and write the booking event log; an admin form would not."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
