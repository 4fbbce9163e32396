"""Who may see and do what on the staff pages.

Anonymous visitors are sent to log in; logged-in patients get 403. A
physiotherapist sees only their own calendar and bookings: another
practitioner's booking is a 404, so its existence is not even confirmed.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from accounts.roles import is_manager, is_reception, is_staff_member, practitioner_for
from booking.models import Booking, Practitioner


def _guard(test):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(request.user):
                raise PermissionDenied("Staff only.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


# Any staff member: reception or a physiotherapist.
staff_required = _guard(is_staff_member)
# Reception's desk actions: booking, moving, cancelling, time off, working hours.
reception_required = _guard(is_reception)
# The clinic owner (Manager group, superusers): records kept after an erasure (privacy.access).
manager_required = _guard(is_manager)


def may_open_retained(user) -> bool:
    """Only a manager or a superuser opens a kept record's clinical and payment content (with a logged reason)."""
    return is_manager(user)


def visible_practitioners(user):
    """Practitioners whose calendars the user may see (a queryset)."""
    if is_reception(user):
        return Practitioner.objects.filter(active=True)
    own = practitioner_for(user)
    return Practitioner.objects.filter(pk=own.pk) if own else Practitioner.objects.none()


def visible_practitioner_ids(user) -> list[int] | None:
    """None means every practitioner (reception)."""
    if is_reception(user):
        return None
    own = practitioner_for(user)
    return [own.pk] if own else []


def bookings_visible_to(user):
    qs = Booking.objects.all()
    if is_reception(user):
        return qs
    own = practitioner_for(user)
    return qs.filter(practitioner=own) if own else qs.none()


def booking_for(user, pk: int, *, lock_related: bool = True, retained: bool = False) -> Booking:
    """The booking, if the user may see it. A record kept after its patient's erasure is a 404
    unless retained=True (only its own restricted page asks: no desk action applies to it)."""
    qs = bookings_visible_to(user)
    if not retained:
        qs = qs.filter(retention__isnull=True)
    if lock_related:
        qs = qs.select_related("patient", "service", "practitioner__user", "created_by")
    return get_object_or_404(qs, pk=pk)


def may_mark(user, booking: Booking) -> bool:
    """Reception marks any booking; a physiotherapist their own patients."""
    if is_reception(user):
        return True
    own = practitioner_for(user)
    return own is not None and booking.practitioner_id == own.pk
