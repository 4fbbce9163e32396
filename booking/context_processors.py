from django.conf import settings


def clinic(request):
    return {
        "clinic_name": settings.CLINIC_NAME,
        "test_payment_mode": not settings.STRIPE_SECRET_KEY,
    }
