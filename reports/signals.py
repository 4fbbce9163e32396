"""Every write that changes a report figure marks its London day(s) stale, in its own transaction.

One hook, on the models' save and delete, so no service can forget it: the booking services,
payments (Stripe webhooks, the desk), offer codes, the admin, erasure (deletes send signals per
row). What bypasses signals was checked by hand:
- booking.services' reminder update, offers' reserved_by updates, privacy's intake and e-mail
  scrubs change no figure;
- offers.services.offer_code_redeem's update (a code is paid) runs right after booking_confirm
  saves the booking that redeems it, whose save marks the code's day;
- demo_data and test seeds write with update() before any report is read (a day never computed
  is built from scratch).

What each figure depends on, and so what is marked:
- bookings (utilisation, sources, attendance): the booking's start day, before and after a move;
  a cancellation event: its booking's start day (late cancellations);
- the offer funnel counts codes by their issue day, and a code's steps depend on the bookings that
  carry it and on its redeeming patient's later bookings: a booking's write marks the issue day of
  its code and of the codes its patient redeemed (one query);
- revenue: a payment's taken day (paid, else created) before and after, and the days of its
  refunds if its method changes; a refund's day.
Working hours and time off are read directly by utilisation (not summarised): nothing to mark.
"""

from __future__ import annotations

from django.db.models import Q
from django.db.models.signals import post_save, pre_delete, pre_save

from booking.models import Booking, BookingEvent
from offers.models import OfferCode
from payments.models import Payment, Refund

from .summary import london_day, mark_stale

BEFORE = "_reports_before"  # the stored values a save may change, read by pre_save


def _changes(update_fields, fields: set[str]) -> bool:
    return update_fields is None or bool(fields & set(update_fields))


def _remember(instance, update_fields, fields: list[str]) -> None:
    """Before a save that may change `fields` of a stored row: keep their stored values (one query)."""
    if instance.pk is not None and _changes(update_fields, set(fields)):
        stored = type(instance)._base_manager.filter(pk=instance.pk).values(*fields).first()
        setattr(instance, BEFORE, stored or {})
    else:
        setattr(instance, BEFORE, {})


def _before(instance) -> dict:
    return getattr(instance, BEFORE, None) or {}


# --- Bookings ---------------------------------------------------------------------------------

BOOKING_KEYS = ["start", "patient_id", "offer_code_id"]


def _booking_days(instance: Booking, before: dict) -> set:
    days = {london_day(instance.start)}
    if before.get("start"):
        days.add(london_day(before["start"]))
    codes = {instance.offer_code_id, before.get("offer_code_id")} - {None}
    patients = {instance.patient_id, before.get("patient_id")} - {None}
    issued = OfferCode.objects.filter(Q(pk__in=codes) | Q(redeemed_by__patient_id__in=patients)).values_list(
        "issued_at", flat=True
    )
    return days | {london_day(moment) for moment in issued}


def booking_before_save(sender, instance: Booking, update_fields=None, **kwargs):
    _remember(instance, update_fields, BOOKING_KEYS)


def booking_saved(sender, instance: Booking, **kwargs):
    mark_stale(_booking_days(instance, _before(instance)))


def booking_deleting(sender, instance: Booking, **kwargs):
    # Before the delete: the codes it redeemed still point at it.
    mark_stale(_booking_days(instance, {}))


def event_changed(sender, instance: BookingEvent, **kwargs):
    if instance.action == BookingEvent.Action.CANCELLED:
        start = Booking._base_manager.filter(pk=instance.booking_id).values_list("start", flat=True).first()
        if start is not None:
            mark_stale([london_day(start)])


# --- Money ---------------------------------------------------------------------------------------

PAYMENT_KEYS = ["paid_at", "created_at", "method"]


def _taken_day(paid_at, created_at):
    moment = paid_at or created_at
    return london_day(moment) if moment else None


def payment_before_save(sender, instance: Payment, update_fields=None, **kwargs):
    _remember(instance, update_fields, PAYMENT_KEYS)


def payment_saved(sender, instance: Payment, **kwargs):
    before = _before(instance)
    days = {_taken_day(instance.paid_at, instance.created_at)}
    if before:
        days.add(_taken_day(before["paid_at"], before["created_at"]))
        if before["method"] != instance.method:
            days |= {london_day(moment) for moment in instance.refunds.values_list("created_at", flat=True)}
    mark_stale(days)


def payment_deleting(sender, instance: Payment, **kwargs):
    mark_stale([_taken_day(instance.paid_at, instance.created_at)])  # its refunds send their own


def refund_changed(sender, instance: Refund, **kwargs):
    mark_stale([london_day(instance.created_at)] if instance.created_at else [])


# --- Offer codes ----------------------------------------------------------------------------------


def code_before_save(sender, instance: OfferCode, update_fields=None, **kwargs):
    _remember(instance, update_fields, ["issued_at"])


def code_changed(sender, instance: OfferCode, **kwargs):
    mark_stale([london_day(instance.issued_at), *(london_day(v) for v in _before(instance).values() if v)])


def connect() -> None:
    hooks = [
        (pre_save, booking_before_save, Booking), (post_save, booking_saved, Booking),
        (pre_delete, booking_deleting, Booking),
        (post_save, event_changed, BookingEvent), (pre_delete, event_changed, BookingEvent),
        (pre_save, payment_before_save, Payment), (post_save, payment_saved, Payment),
        (pre_delete, payment_deleting, Payment),
        (post_save, refund_changed, Refund), (pre_delete, refund_changed, Refund),
        (pre_save, code_before_save, OfferCode), (post_save, code_changed, OfferCode),
        (pre_delete, code_changed, OfferCode),
    ]
    for signal, receiver, model in hooks:
        signal.connect(receiver, sender=model, dispatch_uid=f"reports-{receiver.__name__}-{model.__name__}")
