from django.conf import settings

from clinic.contact import contact
from accounts.roles import is_manager, is_reception, is_staff_member, practitioner_for


def clinic(request):
    user = getattr(request, "user", None)
    staff_account = bool(user is not None and getattr(user, "is_staff", False))
    return {
        **contact(),
        "test_payment_mode": not settings.STRIPE_SECRET_KEY,
        # The header's link to the desk. Staff accounts carry is_staff, so a
        # patient's page costs no query; a staff member's is asked (and cached) once.
        "is_desk_user": staff_account and is_staff_member(user),
        "is_reception_user": staff_account and is_reception(user),
        # The owner's reports (the "Manager" group is granted through the admin, so on a staff account).
        "is_manager_user": staff_account and is_manager(user),
        # "My week" for a physiotherapist (already looked up by the staff pages' permission check).
        "own_practitioner": practitioner_for(user) if staff_account and not is_reception(user) else None,
    }
