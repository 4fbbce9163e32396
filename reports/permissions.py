"""The clinic owner's role: the "Manager" group (or a superuser) sees reports and retained records."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

MANAGER_GROUP = "Manager"


def is_manager(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_is_manager", None)
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name=MANAGER_GROUP).exists()
        user._is_manager = cached
    return cached


def manager_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_manager(request.user):
            raise PermissionDenied("Managers only.")
        return view(request, *args, **kwargs)

    return wrapped
