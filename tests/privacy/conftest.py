import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Factories hash a password per user; PBKDF2 on a loaded 2-core box costs seconds each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def recorded_mail(settings, mailoutbox):
    """Send through privacy's recording backend, delivering to the test outbox."""
    settings.EMAIL_BACKEND = "privacy.mail.RecordingEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return mailoutbox
