from django.conf import settings

from accounts.roles import is_staff_member


def clinic(request):
    user = getattr(request, "user", None)
    return {
        "clinic_name": settings.CLINIC_NAME,
        "test_payment_mode": not settings.STRIPE_SECRET_KEY,
        # The header's link to the desk. Staff accounts carry is_staff, so a
        # patient's page costs no query; a staff member's is asked (and cached) once.
        "is_desk_user": bool(user is not None and getattr(user, "is_staff", False) and is_staff_member(user)),
    }
