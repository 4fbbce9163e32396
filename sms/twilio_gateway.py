"""Twilio, through its official SDK: the only module that imports twilio."""

from __future__ import annotations

from django.conf import settings
from twilio.base.exceptions import TwilioException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from .gateway import SentSms, SmsUnavailable


class TwilioProvider:
    name = "twilio"

    def __init__(self, *, account_sid: str, auth_token: str, from_number: str, api_base: str = ""):
        if not (account_sid and auth_token and from_number):
            raise SmsUnavailable("SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER.")
        self.client = Client(account_sid, auth_token)
        if api_base:
            # Tests only: a local fake of the REST API on 127.0.0.1.
            self.client.api.base_url = api_base.rstrip("/")
        self.auth_token = auth_token
        self.from_number = from_number

    @classmethod
    def from_settings(cls) -> TwilioProvider:
        return cls(account_sid=settings.TWILIO_ACCOUNT_SID, auth_token=settings.TWILIO_AUTH_TOKEN,
                   from_number=settings.TWILIO_FROM_NUMBER, api_base=settings.TWILIO_API_BASE)

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SentSms:
        kwargs = {"to": to, "from_": self.from_number, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except (TwilioException, OSError) as error:
            raise SmsUnavailable(str(error)) from error
        return SentSms(provider_id=message.sid, status=message.status or "queued")

    def request_is_signed(self, request) -> bool:
        """X-Twilio-Signature over the URL Twilio called and the POSTed form fields."""
        signature = request.headers.get("X-Twilio-Signature", "")
        url = settings.SITE_URL.rstrip("/") + request.get_full_path()
        return bool(signature) and RequestValidator(self.auth_token).validate(url, request.POST.dict(), signature)
