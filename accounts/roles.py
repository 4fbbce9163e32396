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


def is_reception(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_is_reception", None)
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name=RECEPTION_GROUP).exists()
        user._is_reception = cached
    return cached


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
