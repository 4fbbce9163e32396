"""Everything the clinic holds about a patient, as plain data (UK GDPR subject access).

A read: no writes, no HTTP. The JSON download and the readable page both
render patient_export's result, so they can never disagree. The number of
queries does not grow with the patient's history.
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from accounts.models import User
from booking.models import Booking, BookingEvent
from offers.models import OfferCode, mailbox_hash
from payments.models import Payment, Refund

from .models import DataRequest, SentEmail

FORMAT_VERSION = 1


def _iso(value):
    return value.isoformat() if value else None


def _local(value):
    return timezone.localtime(value).isoformat() if value else None


# Outcome scores and waitlist entries are read through their relations (booking.outcome_score,
# user.waitlist_entries): privacy, outcomes and waitlist are independent features (pyproject's layers).


def _outcome_scores(user: User) -> list[dict]:
    rows = (
        Booking.objects.filter(patient=user, outcome_score__isnull=False)
        .order_by("outcome_score__recorded_at", "pk")
        .values("pk", "outcome_score__leg_pain", "outcome_score__activity_limit", "outcome_score__recorded_at")
    )
    return [
        {"booking_id": r["pk"], "leg_pain": r["outcome_score__leg_pain"],
         "activity_limit": r["outcome_score__activity_limit"], "recorded_at": _local(r["outcome_score__recorded_at"])}
        for r in rows
    ]


def _waitlist(user: User) -> list[dict]:
    return [
        {"service": e.service.name, "practitioner": e.practitioner.name if e.practitioner else None,
         "date_from": _iso(e.date_from), "date_to": _iso(e.date_to), "weekdays": e.weekdays,
         "times_of_day": e.times_of_day, "intake": e.intake, "status": e.status, "joined": _local(e.created_at)}
        for e in user.waitlist_entries.select_related("service", "practitioner__user").order_by("created_at", "id")
    ]


def patient_export(*, user: User) -> dict:
    from allauth.account.models import EmailAddress

    bookings = (
        Booking.objects.filter(patient=user)
        .select_related("service", "practitioner__user", "offer_code")
        .prefetch_related(
            Prefetch("events", queryset=BookingEvent.objects.order_by("at", "id")),
            Prefetch(
                "payments",
                queryset=Payment.objects.order_by("created_at", "id").prefetch_related(
                    Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id"))
                ),
            ),
        )
        .order_by("start", "id")
    )
    booking_rows, payment_rows = [], []
    for b in bookings:
        booking_rows.append(
            {
                "id": b.pk,
                "service": b.service.name,
                "practitioner": b.practitioner.name,
                "start": _local(b.start),
                "end": _local(b.end),
                "status": b.status,
                "source": b.source,
                "price_pence": b.price_pence,
                "discount_pence": b.discount_pence,
                "amount_due_pence": b.amount_due_pence,
                "offer_code": b.offer_code.display_code if b.offer_code_id else None,
                "intake": b.intake,
                "clinical_flags": b.flags,
                "arrived_at": _local(b.arrived_at),
                "created_at": _local(b.created_at),
                "history": [
                    {"at": _local(e.at), "action": e.action, "from_status": e.from_status,
                     "to_status": e.to_status, "reason": e.reason}
                    for e in b.events.all()
                ],
            }
        )
        for p in b.payments.all():
            payment_rows.append(
                {
                    "booking_id": b.pk,
                    "method": p.get_method_display(),
                    "status": p.status,
                    "amount_pence": p.amount_pence,
                    "currency": p.currency,
                    "paid_at": _local(p.paid_at),
                    "created_at": _local(p.created_at),
                    "refunds": [
                        {"amount_pence": r.amount_pence, "status": r.status, "at": _local(r.created_at)}
                        for r in p.refunds.all()
                    ],
                }
            )
    codes = OfferCode.objects.filter(mailbox_hash=mailbox_hash(user.email)).select_related("offer")
    now = timezone.now()
    return {
        "format_version": FORMAT_VERSION,
        "generated_at": _local(now),
        "profile": {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email if user.can_be_emailed else None,
            "phone": user.phone,
            "joined": _local(user.date_joined),
            "last_login": _local(user.last_login),
            "email_addresses": [
                {"email": a.email, "verified": a.verified, "primary": a.primary}
                for a in EmailAddress.objects.filter(user=user).order_by("-primary", "email")
            ],
        },
        "bookings": booking_rows,
        "payments": payment_rows,
        "outcome_scores": _outcome_scores(user),
        "waitlist": _waitlist(user),
        "offer_codes": [
            {"code": c.display_code, "offer": c.offer.name, "issued_to": c.email, "issued_at": _local(c.issued_at),
             "expires_at": _local(c.expires_at), "state": c.state_at(now)}
            for c in codes
        ],
        "emails_sent": [
            {"to": m.to, "subject": m.subject, "sent_at": _local(m.sent_at)}
            for m in SentEmail.objects.filter(user=user).order_by("sent_at", "id")
        ],
        "data_requests": [
            {"kind": r.kind, "channel": r.channel, "at": _local(r.at)}
            for r in DataRequest.objects.filter(user=user).order_by("at", "id")
        ],
    }
