"""The clinic owner's role: the "Manager" group (or a superuser) sees reports and retained records.

The role lives with the other roles (accounts.roles) and its page guard with the desk's
(booking.staff.permissions: log in, else 403); re-exported here for the reports' views and tags.
"""

from __future__ import annotations

from accounts.roles import MANAGER_GROUP, is_manager
from booking.staff.permissions import manager_required

__all__ = ["MANAGER_GROUP", "is_manager", "manager_required"]
