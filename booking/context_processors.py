from django.conf import settings

from clinic.contact import contact


def clinic(request):
    return {
        **contact(),
        "test_payment_mode": not settings.STRIPE_SECRET_KEY,
    }
