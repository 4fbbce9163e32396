"""`manage.py check --deploy`: production must not take fake money."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def payments_deploy_check(app_configs, **kwargs):
    problems = []
    if not settings.STRIPE_SECRET_KEY:
        problems.append(Warning(
            "No STRIPE_SECRET_KEY: the site runs the local test-payment mode (ALLOW_TEST_PAYMENTS=1); "
            "no real money is taken and bookings are confirmed without payment.",
            hint="Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET to go live (payments/README.md).",
            id="payments.W001",
        ))
    elif not settings.STRIPE_WEBHOOK_SECRET:
        problems.append(Error(
            "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: every Stripe webhook is refused.",
            hint="Copy the endpoint's signing secret from the Stripe dashboard.", id="payments.E001",
        ))
    if settings.STRIPE_SECRET_KEY and settings.STRIPE_API_BASE:
        problems.append(Warning(
            "STRIPE_API_BASE is set: Stripe calls go to an emulator, not to Stripe.", id="payments.W002",
        ))
    if settings.STRIPE_SECRET_KEY.startswith("sk_test_"):
        problems.append(Warning("STRIPE_SECRET_KEY is a test key: no real money is taken.", id="payments.W003"))
    return problems
