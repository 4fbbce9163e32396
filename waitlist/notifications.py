"""Tell a waiting patient about an offer: email, and SMS where they agreed. Run by the outbox after commit."""

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from common.clock import london_clock
from sms import services as sms

from .models import WaitlistOffer

LEAVE_SALT = "waitlist.leave"


def leave_token(entry_id: int) -> str:
    return signing.dumps(entry_id, salt=LEAVE_SALT)


def entry_id_from_leave_token(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=LEAVE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def offer_links(offer: WaitlistOffer) -> dict:
    return {
        "offer_url": settings.SITE_URL + reverse("waitlist:offer", args=[offer.pk]),
        "leave_url": settings.SITE_URL + reverse("waitlist:leave", args=[leave_token(offer.entry_id)]),
    }


def send_offer(offer_id: int) -> None:
    offer = WaitlistOffer.objects.select_related(
        "entry__patient", "entry__service", "practitioner__user", "booking"
    ).get(pk=offer_id)
    patient = offer.entry.patient
    when = timezone.localtime(offer.start)
    context = {
        "offer": offer, "entry": offer.entry, "when": when, "clinic_name": settings.CLINIC_NAME,
        "hold_until": timezone.localtime(offer.booking.hold_expires_at), **offer_links(offer),
    }
    if patient.can_be_emailed:
        body = render_to_string("waitlist/email/offer.txt", context)
        EmailMultiAlternatives(
            subject=f"A time has come free: {offer.entry.service.name} on {london_clock(when, '%a %-d %b at %H:%M')}",
            body=body, to=[patient.email],
        ).send()
    sms.sms_send_to_patient(patient=patient, body=render_to_string("waitlist/sms/offer.txt", context).strip(),
                            purpose="waitlist_offer")
