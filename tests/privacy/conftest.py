import pytest


@pytest.fixture
def recorded_mail(settings, mailoutbox):
    """Send through privacy's recording backend, delivering to the test outbox."""
    settings.EMAIL_BACKEND = "privacy.mail.RecordingEmailBackend"
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return mailoutbox
