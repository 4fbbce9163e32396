"""An email backend that delivers through the configured one and records what was sent.

The patient's export lists every email the clinic sent them (UK GDPR subject
access); recording it here, at the one place every message passes, means no
sender can forget. settings.EMAIL_DELIVERY_BACKEND does the delivering.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError

from accounts.models import User

log = logging.getLogger(__name__)


class RecordingEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.delivery = get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=fail_silently, **kwargs)

    def open(self):
        return self.delivery.open()

    def close(self):
        return self.delivery.close()

    def send_messages(self, email_messages):
        sent = self.delivery.send_messages(email_messages)
        if sent:
            try:
                record_sent(email_messages)
            except DatabaseError:
                # The mail is gone already: failing now would only make a caller send it twice.
                log.exception("could not record %d sent email(s)", sent)
        return sent


def record_sent(email_messages) -> None:
    from .models import SentEmail

    rows = []
    for message in email_messages:
        recipients = [address.strip().lower() for address in message.recipients()]
        for to in recipients:
            user = User.objects.filter(email__iexact=to).first()
            rows.append(SentEmail(user=user, to=to, subject=str(message.subject)[:255]))
    SentEmail.objects.bulk_create(rows)
