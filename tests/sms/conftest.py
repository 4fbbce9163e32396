import pytest

from sms import gateway

from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio


@pytest.fixture
def twilio(settings):
    """SMS_PROVIDER=twilio, with the official SDK pointed at the local fake."""
    with FakeTwilio() as fake:
        settings.SMS_PROVIDER = "twilio"
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER = FROM_NUMBER
        settings.TWILIO_API_BASE = fake.url
        settings.SITE_URL = "https://book.example.com"
        gateway.use_provider(None)
        yield fake
