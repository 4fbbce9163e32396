"""Staff roles: who may use the clinic's calendar desk.

Reception (the "Reception" group, or a superuser) sees every calendar and
every booking. A physiotherapist is a user with a Practitioner row: they see
their own calendar and their own patients' intake and flags. Everyone else
(patients, visitors) never reaches a staff page.

Answers are cached on the user object, so a request asks the database once.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist

RECEPTION_GROUP = "Reception"
# The clinic owner's role (issue 18): reports, and the records kept after an erasure.
MANAGER_GROUP = "Manager"


def _in_group(user, group: str) -> bool:
    """A superuser, or a member of the group. The user's group names are read once (one query answers
    every role check of the request) and kept on the user object."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    names = getattr(user, "_group_names", None)
    if names is None:
        names = user._group_names = frozenset(user.groups.values_list("name", flat=True))
    return group in names


def is_reception(user) -> bool:
    return _in_group(user, RECEPTION_GROUP)


def is_manager(user) -> bool:
    """The "Manager" group or a superuser: the owner's reports and kept records (privacy.access)."""
    return _in_group(user, MANAGER_GROUP)


def practitioner_for(user):
    """The user's own active Practitioner row, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not hasattr(user, "_practitioner_for"):
        # The reverse side of booking.Practitioner.user (related_name="practitioner"): accounts sits
        # below booking and never imports it. One query, as before; the row's user is the user.
        try:
            practitioner = user.practitioner
        except ObjectDoesNotExist:
            practitioner = None
        user._practitioner_for = practitioner if practitioner is not None and practitioner.active else None
    return user._practitioner_for


def is_staff_member(user) -> bool:
    """Reception or a physiotherapist: may open the staff pages at all."""
    return is_reception(user) or practitioner_for(user) is not None
