"""The SMS boundary: which provider sends texts (SMS_PROVIDER), and its small interface.

A provider has send(to, body, status_callback) -> SentSms and
request_is_signed(request) -> bool. "console" prints (like the console email
backend) and is the default; "twilio" is sms/twilio_gateway.py, the only module
that imports Twilio's SDK. Tests swap providers with use_provider(), never patch twilio.
"""

from __future__ import annotations

import itertools
import logging
import sys
from dataclasses import dataclass

from django.conf import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentSms:
    provider_id: str
    status: str


class SmsUnavailable(Exception):
    """The provider could not be reached or refused the message."""


class ConsoleProvider:
    name = "console"
    _ids = itertools.count(1)

    def send(self, *, to: str, body: str, status_callback: str | None = None) -> SentSms:
        sys.stdout.write(f"--- SMS to {to} ---\n{body}\n---\n")
        return SentSms(provider_id=f"console-{next(self._ids)}", status="sent")

    def request_is_signed(self, request) -> bool:
        # Nothing calls back in console mode, so nothing is trusted.
        return False


_override = None


def use_provider(provider) -> None:
    """Tests: swap the provider (None restores the one SMS_PROVIDER names)."""
    global _override
    _override = provider


def current():
    if _override is not None:
        return _override
    if settings.SMS_PROVIDER == "twilio":
        from . import twilio_gateway

        return twilio_gateway.TwilioProvider.from_settings()
    if settings.SMS_PROVIDER != "console":
        raise ValueError(f"Unknown SMS_PROVIDER {settings.SMS_PROVIDER!r}: use console or twilio.")
    return ConsoleProvider()
