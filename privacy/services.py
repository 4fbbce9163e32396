"""Data-rights actions: log an export, erase a patient, erase retained records when due.

Erasure (UK GDPR art. 17) removes at once every personal detail that no
clinical or financial record needs: name, contact details, sign-in, emails
sent, offer-code addresses, waitlist entries, bookings that never led to care or payment. What
the law makes the clinic keep (privacy.retention) stays, attached to an
anonymised user row, each booking with its end date in RetainedBooking; the
scheduled command erase_due_records deletes it once that date has passed.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from common.clock import london_date
from accounts.models import User
from accounts.roles import is_staff_member
from common.actor import actor_or_none
from booking.models import Booking, BookingEvent, awaiting_payment_q
from offers.models import OfferCode, mailbox_hash
from payments.models import Attention, LocalCheckoutSession, Payment, Refund, StripeEvent
from payments.services import desk_refund_message
from sms.models import SmsContact, SmsMessage

from . import retention
from .exceptions import AlreadyErased, StaffAccount, UpcomingBookings
from .models import DataRequest, Erasure, RetainedBooking, SentEmail

ERASED_DOMAIN = "erased.invalid"  # RFC 2606: nothing is ever sent there
# What a kept record shows where people had typed free text about the patient.
ERASED_TEXT = "(text erased: it may have identified the patient)"
# Event reasons the code writes itself ("Booked online.", "Paid 7500 pence (Cash) at the desk."): kept.
# Every other action's reason may be what a person typed (a desk note, a cancel or move reason).
_WRITTEN_BY_CODE = (BookingEvent.Action.HELD, BookingEvent.Action.EXPIRED, BookingEvent.Action.REMINDER,
                    BookingEvent.Action.PAYMENT)


def is_erased(user) -> bool:
    return Erasure.objects.filter(user=user).exists()


def data_request_log(*, user: User, kind: str, channel: str, actor=None, note: str = "") -> DataRequest:
    return DataRequest.objects.create(user=user, kind=kind, channel=channel, handled_by=actor_or_none(actor), note=note[:200])


def _upcoming(user: User, now: datetime):
    return Booking.objects.filter(patient=user, end__gt=now).filter(
        Q(status=Booking.Status.CONFIRMED) | awaiting_payment_q(now)
    )


def _local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


@transaction.atomic
def patient_erase(*, user: User, channel: str, actor=None, note: str = "", now: datetime | None = None) -> Erasure:
    """Erase the patient now, keeping only what the law requires, each kept booking with its end date.

    The same for the patient's own request and reception's (a phone request: actor is the
    receptionist, note how they checked who was calling); logged in DataRequest either way.
    """
    now = now or timezone.now()
    user = User.objects.select_for_update().get(pk=user.pk)
    if Erasure.objects.filter(user=user).exists():
        raise AlreadyErased()
    if user.is_staff or user.is_superuser or is_staff_member(user):
        raise StaffAccount()
    if _upcoming(user, now).exists():
        raise UpcomingBookings()

    email = user.email
    erasure = Erasure.objects.create(user=user, erased_at=now, mailbox_hash=mailbox_hash(email))

    bookings = list(Booking.objects.filter(patient=user).select_for_update().order_by("start"))
    paid = {}
    for payment in Payment.objects.filter(booking__patient=user, status__in=Payment.PAID_STATUSES):
        moment = payment.paid_at or payment.created_at
        paid[payment.booking_id] = max(paid.get(payment.booking_id, moment), moment)
    attended = [b for b in bookings if b.status == Booking.Status.ATTENDED]
    clinical_until = (
        retention.years_after(_local_day(max(b.start for b in attended)), retention.CLINICAL_YEARS) if attended else None
    )
    drop, keep = [], []
    for booking in bookings:
        is_clinical = booking.status == Booking.Status.ATTENDED
        financial_until = (
            retention.years_after(_local_day(paid[booking.pk]), retention.FINANCIAL_YEARS) if booking.pk in paid else None
        )
        if not is_clinical and financial_until is None:
            drop.append(booking.pk)
            continue
        if not is_clinical:
            # Kept for the accounts only: the health answers are not needed for that.
            Booking.objects.filter(pk=booking.pk).update(intake={}, flags=[])
        keep.append(
            RetainedBooking(
                booking=booking,
                erasure=erasure,
                clinical_until=clinical_until if is_clinical else None,
                financial_until=financial_until,
                keep_until=max(d for d in (clinical_until if is_clinical else None, financial_until) if d),
            )
        )
    RetainedBooking.objects.bulk_create(keep)
    _typed_text_erase([record.booking.pk for record in keep], email=email)
    # Waitlist entries hold health answers and no record the law needs (their offers cascade).
    # Through the relation: privacy and waitlist are independent features (pyproject's layers).
    user.waitlist_entries.all().delete()
    _bookings_delete(drop)

    # Offer codes keep their mailbox hash (one code per mailbox, ever) but lose the address.
    for code in OfferCode.objects.filter(Q(mailbox_hash=erasure.mailbox_hash) | Q(email__iexact=email)):
        OfferCode.objects.filter(pk=code.pk).update(email=f"erased-code-{code.pk}@{ERASED_DOMAIN}")
    LocalCheckoutSession.objects.filter(customer_email__iexact=email).update(customer_email=f"erased@{ERASED_DOMAIN}")
    _stripe_payloads_redact(email)
    SentEmail.objects.filter(Q(user=user) | Q(to__iexact=email)).delete()
    # Texts as emails: the number, the consent and every message sent are personal data no law keeps.
    numbers = list(SmsContact.objects.filter(user=user).values_list("phone", flat=True))
    SmsMessage.objects.filter(Q(patient=user) | Q(to__in=numbers)).delete()
    SmsContact.objects.filter(user=user).delete()

    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user=user).delete()
    # What calendars and kept records show from now on, instead of a name.
    user.first_name, user.last_name, user.phone = "Erased", "patient", ""
    user.email = f"erased-{user.pk}@{ERASED_DOMAIN}"
    user.username = f"erased-{user.pk}"
    user.is_active = False
    # Also ends every session: Django checks the password hash on each request.
    user.set_unusable_password()
    user.save()
    data_request_log(user=user, kind=DataRequest.Kind.ERASURE, channel=channel, actor=actor, note=note)
    return erasure


def _attention_on(booking_ids: list[int]):
    """Reception's "needs attention" items about these bookings' money: they go with the payment records."""
    return Attention.objects.filter(
        Q(booking_id__in=booking_ids) | Q(payment__booking_id__in=booking_ids)
        | Q(refund__payment__booking_id__in=booking_ids)
    )


def _typed_text_erase(booking_ids: list[int], *, email: str) -> None:
    """Free text on kept records that may name the patient goes: refund reasons, desk notes and
    cancel or move reasons in the event log, reception's notes on "needs attention" items. The
    amounts, Stripe ids, dates, statuses and who did what stay (the accounts need them)."""
    Refund.objects.filter(payment__booking_id__in=booking_ids).exclude(reason="").update(reason=ERASED_TEXT)
    BookingEvent.objects.filter(booking_id__in=booking_ids).exclude(action__in=_WRITTEN_BY_CODE).exclude(
        reason="").update(reason=ERASED_TEXT)
    items = _attention_on(booking_ids).select_related("refund__payment")
    for item in items:
        if item.kind == Attention.Kind.DESK_REFUND and item.refund is not None:
            item.message = desk_refund_message(payment=item.refund.payment, amount_pence=item.amount_pence,
                                               reason=ERASED_TEXT)
        elif email and email.lower() in item.message.lower():  # Stripe's details, written by code, rarely hold it
            item.message = ERASED_TEXT
        item.resolution = ERASED_TEXT if item.resolution else ""
        item.save(update_fields=["message", "resolution"])


def _stripe_payloads_redact(email: str) -> None:
    """Stripe's events carry the customer's address; keep only what identifies the event."""
    events = StripeEvent.objects.annotate(text=Cast("payload", TextField())).filter(text__icontains=email)
    for event in events:
        obj = (event.payload.get("data") or {}).get("object") or {}
        event.payload = {"id": event.payload.get("id"), "type": event.type, "redacted": True,
                         "data": {"object": {"id": obj.get("id"), "object": obj.get("object")}}}
        event.save(update_fields=["payload"])


def _bookings_delete(booking_ids: list[int]) -> None:
    if not booking_ids:
        return
    _attention_on(booking_ids).delete()  # PROTECTs the refunds, payments and bookings it is about
    Refund.objects.filter(payment__booking_id__in=booking_ids).delete()
    Payment.objects.filter(booking_id__in=booking_ids).delete()
    # Events cascade; offer codes' reserved_by / redeemed_by are SET_NULL.
    Booking.objects.filter(pk__in=booking_ids).delete()


@transaction.atomic
def records_erase_due(*, today: date | None = None) -> dict:
    """Delete what erased patients' records no longer need; then the anonymised user once nothing is left.

    A date is the last day a record is kept: it goes on the day after.
    """
    today = today or london_date()
    # Payment records past their six years, on bookings still kept for clinical reasons.
    money_due = RetainedBooking.objects.select_for_update().filter(financial_until__lt=today, keep_until__gte=today)
    money_booking_ids = list(money_due.values_list("booking_id", flat=True))
    _attention_on(money_booking_ids).delete()
    Refund.objects.filter(payment__booking_id__in=money_booking_ids).delete()
    Payment.objects.filter(booking_id__in=money_booking_ids).delete()
    money_due.update(financial_until=None)

    due_ids = list(RetainedBooking.objects.select_for_update().filter(keep_until__lt=today).values_list("booking_id", flat=True))
    _bookings_delete(due_ids)

    # Nothing kept, and no booking at all (a hold that slipped in while erasing would be PROTECTed).
    finished = Erasure.objects.filter(bookings__isnull=True).exclude(
        user_id__in=Booking.objects.filter(patient__erasure__isnull=False).values("patient_id")
    )
    users = list(finished.values_list("user_id", flat=True))
    DataRequest.objects.filter(user_id__in=users).update(user=None)
    User.objects.filter(pk__in=users).delete()
    return {"payments_records": len(money_booking_ids), "bookings": len(due_ids), "patients": len(users)}
