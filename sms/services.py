"""Texts to patients: consent, sending, delivery status, STOP and START."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from . import gateway
from .models import SmsContact, SmsMessage
from .phone import normalise_uk_mobile

log = logging.getLogger(__name__)

# Carrier-standard opt-out words (Twilio honours the same set on its side).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
# Twilio's opt-in words: after one of these Twilio delivers to the number again, so we text it again too.
START_WORDS = frozenset({"START", "UNSTOP", "YES"})


@transaction.atomic
def sms_consent_set(*, user, phone: str, agreed: bool, now: datetime | None = None) -> SmsContact:
    """Record the mobile number (E.164) and the patient's yes or no to texts, with the time.

    Raises phone.InvalidPhone for a number that is not a UK mobile.
    """
    now = now or timezone.now()
    e164 = normalise_uk_mobile(phone)
    contact, _ = SmsContact.objects.select_for_update().get_or_create(user=user, defaults={"phone": e164})
    contact.phone = e164
    if agreed:
        if not contact.may_text:
            contact.consented_at, contact.consent_source = now, SmsContact.ConsentSource.PROFILE
        contact.opted_out_at = None
    elif contact.consented_at and not contact.opted_out_at:
        contact.opted_out_at = now
    contact.save()
    return contact


def sms_send_to_patient(*, patient, body: str, purpose: str) -> SmsMessage | None:
    """Text a patient who agreed; None (nothing sent) otherwise. A provider failure is logged, not raised:
    the email has gone, and a text is a courtesy on top."""
    contact = SmsContact.objects.filter(user=patient).first()
    if contact is None or not contact.may_text:
        return None
    provider = gateway.current()
    message = SmsMessage.objects.create(patient=patient, to=contact.phone, body=body, purpose=purpose,
                                        provider=provider.name)
    callback = settings.SITE_URL.rstrip("/") + reverse("sms:status")
    try:
        sent = provider.send(to=contact.phone, body=body, status_callback=callback)
    except gateway.SmsUnavailable as error:
        log.warning("SMS %s to patient %s failed: %s", purpose, patient.pk, error)
        SmsMessage.objects.filter(pk=message.pk).update(status=SmsMessage.Status.FAILED, error_code="unavailable")
        message.status = SmsMessage.Status.FAILED
        return message
    SmsMessage.objects.filter(pk=message.pk).update(provider_id=sent.provider_id, status=sent.status)
    message.provider_id, message.status = sent.provider_id, sent.status
    return message


_ORDER = {s: i for i, s in enumerate(["queued", "sent", "delivered", "undelivered", "failed"])}


def sms_status_update(*, provider_id: str, status: str, error_code: str = "") -> bool:
    """A delivery status callback. Unknown ids and statuses are ignored; callbacks may arrive out of order,
    so a status never goes back (sent after delivered stays delivered)."""
    if status not in SmsMessage.Status.values:
        return False
    message = SmsMessage.objects.filter(provider_id=provider_id).first()
    if message is None or _ORDER[status] < _ORDER.get(message.status, 0):
        return False
    SmsMessage.objects.filter(pk=message.pk).update(status=status, error_code=error_code[:16], updated_at=timezone.now())
    return True


def sms_inbound(*, from_number: str, body: str, now: datetime | None = None) -> int:
    """A reply. STOP (and its synonyms) opts every contact with that number out; START (UNSTOP, YES) opts every
    contact with that number that had opted out back in, the consent recorded with its time and source (the
    reply). A number that never agreed is not signed up by a reply. Returns how many contacts changed."""
    word = body.strip().upper()
    now = now or timezone.now()
    if word in STOP_WORDS:
        return SmsContact.objects.filter(phone=from_number, opted_out_at__isnull=True).update(opted_out_at=now)
    if word in START_WORDS:
        return SmsContact.objects.filter(phone=from_number, opted_out_at__isnull=False).update(
            opted_out_at=None, consented_at=now, consent_source=SmsContact.ConsentSource.SMS_REPLY, updated_at=now)
    return 0
