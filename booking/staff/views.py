"""Reception's calendar desk and the physiotherapists' day. Thin: forms parse, services decide."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.db import connection
from django.db.models import Prefetch
from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.roles import is_reception, practitioner_for
from booking import availability
from common import hostile
from common.clock import london_clock
from booking import services as booking_services
from booking.availability import LONDON
from booking.calendar import calendar_days, urgent_advice_queryset
from booking.exceptions import BookingError, SlotTaken
from booking.intake import FLAG_LABELS, FLAG_SIGNS, PAIN_AREAS, SIDES, URGENT_SIGNS
from booking.intake_link import intake_link_open, intake_link_url
from booking.models import Booking, BookingEvent, Practitioner, TimeOff
from payments import services as payment_services
from payments.models import Attention, Payment, Refund
from payments.receipts import takings_for_day
from payments.services import paid_pence

from . import day_cache
from . import services as desk
from .forms import (
    BookForm,
    CancelForm,
    MoveForm,
    TakePaymentForm,
    TimeOffForm,
    WorkingHoursForm,
    clock_value,
    today_london,
)
from .grid import build_grid
from .permissions import (
    booking_for,
    may_open_retained,
    may_mark,
    reception_required,
    staff_required,
    visible_practitioner_ids,
    visible_practitioners,
)


def _parse_day(value: str | None) -> date | None:
    # Bounded (common.hostile): year 1 or 9999 would overflow the calendar's arithmetic.
    return hostile.parse_date(value)


def _parse_start(value: str | None) -> datetime | None:
    """An aware start inside the calendar's years (common.hostile), else None."""
    start = hostile.parse_aware_datetime(value or "")
    return start if start is not None and timezone.is_aware(start) else None


def _grid_urls() -> dict:
    # The booking page's path with a placeholder id, reversed once per page, not once per block.
    return {"book_url": reverse("staff:book"),
            "booking_url": reverse("staff:booking", args=[987654321]).replace("987654321", "{}")}


def _day_url(day: date) -> str:
    return reverse("staff:day", args=[day.isoformat()])


def booking_error_to_form(form, exc: BookingError, *, refused: dict | None = None) -> None:
    """One mapping from a service refusal to form errors: fields it names, else the whole form.

    refused (service, practitioner, start, exclude_booking_id): for SlotTaken, say what is
    really in the way (staff may see other patients' names); the alternatives are links on the page.
    """
    field_errors = exc.extra.get("errors") if isinstance(exc.extra.get("errors"), dict) else {}
    placed = False
    for name, message in field_errors.items():
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if placed:
        return
    message = exc.message
    if isinstance(exc, SlotTaken) and refused and refused.get("practitioner") and refused.get("start"):
        message = _refusal_text(**refused) or message
    form.add_error(None, message)


def _refusal_text(*, service, practitioner, start, exclude_booking_id=None) -> str:
    conflict = availability.conflict_at(service=service, practitioner=practitioner, start=start,
                                        exclude_booking_id=exclude_booking_id)
    when = london_clock(start)  # "01:30 GMT" where the fall-back night has the reading twice
    if conflict is None:
        return ""

    def span(c):
        return f"{london_clock(c.start)}-{london_clock(c.end)}"

    what = f"{service.name} ({service.blocked_minutes} min with its buffer) at {when}"
    if conflict.kind == "booking":
        return f"{what} overlaps {conflict.booking.patient.display_name} {span(conflict)} with {practitioner.name}."
    if conflict.kind == "time_off":
        return f"{what} overlaps {practitioner.name}'s time off ({conflict.time_off.get_reason_display()}) {span(conflict)}."
    if conflict.end is not None:
        return f"{what} does not fit before {london_clock(conflict.end)}, when {practitioner.name} stops working."
    return f"{what} is outside {practitioner.name}'s working hours."


def _alternative_links(exc: BookingError, url_name: str, args=()) -> list[tuple[str, str]]:
    """SlotTaken's nearest free times as (label, link to the same page with that time filled in)."""
    if not isinstance(exc, SlotTaken):
        return []
    base = reverse(url_name, args=args)
    return [
        (london_clock(slot.start, "%a %-d %b %H:%M"),
         f"{base}?{urlencode({'practitioner': slot.practitioner_id, 'start': slot.start.isoformat()})}")
        for slot in exc.alternatives
    ]


# Calendars ---------------------------------------------------------------------------


@staff_required
def day_view(request, day: str | None = None):
    if day is None and request.GET.get("date"):
        picked = _parse_day(request.GET["date"])
        if picked is None:
            messages.error(request, "That is not a date.")
            return redirect("staff:today")
        return redirect(_day_url(picked))
    shown = _parse_day(day) if day else today_london()
    if shown is None:
        raise Http404("Not a date.")
    now = timezone.now()
    visible, reception = visible_practitioner_ids(request.user), is_reception(request.user)
    cache_key = day_cache.key(day=shown, practitioner_ids=visible, reception=reception)
    body = day_cache.get(cache_key, now)
    if body is None:
        pdays = calendar_days(date_from=shown, date_to=shown, practitioner_ids=visible, now=now)
        grid = build_grid(pdays, by="practitioner", now=now, offer_slots=reception, **_grid_urls())
        body = render_to_string("staff/_day_body.html", {
            "day": shown,
            "grid": grid,
            "prev_day": shown - timedelta(days=1),
            "next_day": shown + timedelta(days=1),
            "today": today_london(),
            "cancelled": [b for p in pdays for b in p.cancelled],
            "can_book": reception,
        })
        day_cache.put(cache_key, body, until=day_cache.valid_until(pdays, now))
    attention_count, urgent_count = _counts(
        Attention.objects.filter(resolved_at__isnull=True) if reception else None, urgent_advice_queryset(day=shown))
    return render(request, "staff/day.html", {
        "day": shown, "body": mark_safe(body), "nav": "day", "can_book": reception, "attention_count": attention_count,
        "urgent_advice_count": urgent_count,
    })


def _counts(*querysets) -> list[int]:
    """The rows of each queryset (None: 0), counted in one round trip: SELECT (SELECT COUNT(*) ...), (...)."""
    parts, params = [], []
    for queryset in querysets:
        if queryset is None:
            parts.append("0")
            continue
        sql, sql_params = queryset.order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted)")
        params.extend(sql_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return list(cursor.fetchone())


@staff_required
def week_view(request, practitioner_id: int, day: str | None = None):
    practitioner = get_object_or_404(visible_practitioners(request.user).select_related("user"), pk=practitioner_id)
    shown = _parse_day(day or request.GET.get("date")) or today_london()
    monday = shown - timedelta(days=shown.weekday())
    now = timezone.now()
    pdays = calendar_days(date_from=monday, date_to=monday + timedelta(days=6), practitioner_ids=[practitioner.pk], now=now)
    grid = build_grid(pdays, by="day", now=now, offer_slots=is_reception(request.user), **_grid_urls())
    return render(request, "staff/week.html", {
        "practitioner": practitioner,
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "grid": grid,
        "prev_week": monday - timedelta(days=7),
        "next_week": monday + timedelta(days=7),
        "practitioners": visible_practitioners(request.user).select_related("user"),
        "can_book": is_reception(request.user),
        "nav": "week",
    })


@staff_required
def week_all(request, day: str | None = None):
    """A week of every visible practitioner at a glance: a row each, a cell per day (hours, bookings, time off)."""
    shown = _parse_day(day or request.GET.get("date")) or today_london()
    monday = shown - timedelta(days=shown.weekday())
    pdays = calendar_days(date_from=monday, date_to=monday + timedelta(days=6),
                          practitioner_ids=visible_practitioner_ids(request.user))
    reception = is_reception(request.user)
    rows: dict[int, dict] = {}
    for pday in pdays:
        row = rows.setdefault(pday.practitioner_id, {"id": pday.practitioner_id, "name": pday.name, "cells": []})
        booked = [b for b in pday.bookings if b.status != "no_show"]
        row["cells"].append({
            "day": pday.day, "working": pday.working, "booked": len(booked), "time_off": pday.time_off,
            # Reception moves these to another day or practitioner (drag, or M and the arrow keys).
            "movable": [b for b in pday.bookings if b.status in ("confirmed", "held")] if reception else [],
            "due": sum(b.due_pence for b in pday.bookings),
            "first": booked[0].start if booked else None, "last": booked[-1].end if booked else None,
        })
    return render(request, "staff/week_all.html", {
        "monday": monday, "sunday": monday + timedelta(days=6), "days": [monday + timedelta(days=n) for n in range(7)],
        "rows": list(rows.values()), "prev_week": monday - timedelta(days=7), "next_week": monday + timedelta(days=7),
        "today": today_london(), "nav": "week_all", "can_book": reception,
    })


@staff_required
def my_day(request):
    """The day's patients in order, with intake answers and flags: the physiotherapist's list."""
    own = practitioner_for(request.user)
    practitioners = list(visible_practitioners(request.user).select_related("user"))
    practitioner = own
    if is_reception(request.user) and request.GET.get("practitioner"):
        practitioner = next((p for p in practitioners if str(p.pk) == request.GET["practitioner"]), None)
        if practitioner is None:
            raise Http404("No such practitioner.")
    if practitioner is None and practitioners:
        practitioner = practitioners[0]
    shown = _parse_day(request.GET.get("date")) or today_london()
    bookings, time_off, outside_ids = [], [], set()
    if practitioner is not None:
        pdays = calendar_days(date_from=shown, date_to=shown, practitioner_ids=[practitioner.pk])
        # Kept records of erased patients are listed as slots only: no intake, history or scores.
        day_bookings = [b for p in pdays for b in p.bookings if not b.retained_until]
        ids = [b.id for b in day_bookings]
        intakes = dict(Booking.objects.filter(pk__in=ids).values_list("pk", "intake"))
        history = _visit_history(day_bookings)
        bookings = [(b, intake_rows(intakes.get(b.id) or history[b.id]["intake"] or {}), history[b.id])
                    if not b.retained_until else (b, [], None)
                    for p in pdays for b in p.bookings]
        time_off = [o for p in pdays for o in p.time_off]
        outside_ids = {
            b.id for p in pdays for b in p.bookings
            if b.status in ("held", "confirmed") and not any(ws <= b.start and b.end <= we for ws, we in p.working)
        }
    return render(request, "staff/my_day.html", {
        "practitioner": practitioner,
        "practitioners": practitioners if is_reception(request.user) else [],
        "day": shown,
        "prev_day": shown - timedelta(days=1),
        "next_day": shown + timedelta(days=1),
        "bookings": bookings,
        "time_off": time_off,
        "outside_ids": outside_ids,
        "today": today_london(),
        "nav": "my_day",
    })


def _retained_booking(request, booking: Booking):
    """A record kept after its patient's erasure: the slot and its end dates only (privacy.access)."""
    return render(request, "staff/booking_retained.html", {
        "booking": booking, "retention": booking.retention, "day": timezone.localtime(booking.start, LONDON).date(),
        "may_open": may_open_retained(request.user),
    })


def _visit_history(day_bookings) -> dict:
    """Per booking of the day: the patient's earlier visits (newest first, a few) and, for a
    follow-up, the intake of their latest earlier assessment. One query for the whole day."""
    patients = {b.patient_id for b in day_bookings}
    first = min((b.start for b in day_bookings), default=None)
    earlier = list(
        Booking.objects.filter(patient_id__in=patients, start__lt=first or timezone.now())
        .exclude(status__in=[Booking.Status.CANCELLED, Booking.Status.EXPIRED, Booking.Status.HELD])
        .select_related("service", "practitioner__user")
        .order_by("-start")
    ) if patients else []
    result = {}
    for b in day_bookings:
        visits = [e for e in earlier if e.patient_id == b.patient_id and e.start < b.start]
        assessment = next((e for e in visits if e.service.is_first_session and e.intake), None)
        result[b.id] = {"visits": visits[:5], "count": len(visits), "intake": assessment.intake if assessment else None,
                        "intake_from": assessment}
    return result


def intake_rows(intake: dict) -> list[tuple[str, str]]:
    """The intake answers as a few (question, answer) lines a clinician reads at a glance."""
    if not intake:
        return []
    areas = ", ".join(PAIN_AREAS.get(a, a) for a in intake.get("pain_areas", [])) or "Not given"
    side = SIDES.get(intake.get("side", ""), "")
    weeks = intake.get("duration_weeks", 0)
    symptoms = [label for name, label in (("numbness", "Numbness"), ("tingling", "Tingling"), ("weakness", "Weakness"))
                if intake.get(name)]
    serious = [label for name, label in {**URGENT_SIGNS, **FLAG_SIGNS}.items() if intake.get(name)]
    return [
        ("Where it hurts", f"{areas} ({side.lower()})" if side else areas),
        ("For how long", f"{weeks} week{'s' if weeks != 1 else ''}"),
        ("Numbness, tingling, weakness", ", ".join(symptoms) or "None"),
        ("Previous injuries", intake.get("previous_injuries") or "None given"),
        ("Serious signs", ", ".join(serious) or "None reported"),
    ]


# One booking ------------------------------------------------------------------------------


@staff_required
def booking_detail(request, pk: int):
    booking = booking_for(request.user, pk, retained=True)
    if hasattr(booking, "retention"):
        return _retained_booking(request, booking)
    events = BookingEvent.objects.filter(booking=booking).select_related("actor").order_by("at", "pk")
    payments = Payment.objects.filter(booking=booking).prefetch_related(
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at"))
    ).order_by("created_at")
    now = timezone.now()
    status = booking.shown_status(now)
    reception = is_reception(request.user)
    return render(request, "staff/booking.html", {
        "booking": booking,
        "shown_status": status,
        "shown_status_label": Booking.Status(status).label,
        "events": events,
        "payments": payments,
        "intake_rows": intake_rows(booking.intake),
        "flag_labels": [FLAG_LABELS.get(f, f) for f in booking.flags or []],
        "can_change": reception and status in (Booking.Status.HELD, Booking.Status.CONFIRMED),
        "can_send_link": reception and status == Booking.Status.HELD and booking.patient.can_be_emailed,
        "marks": booking_services.booking_allowed_marks(booking=booking, now=now) if may_mark(request.user, booking) else [],
        "day": timezone.localtime(booking.start, LONDON).date(),
        "paid": paid_pence(booking=booking),
        "due": payment_services.balance_due_pence(booking=booking),
        "take_form": TakePaymentForm() if reception else None,
        "intake_link": intake_link_url(booking) if intake_link_open(booking, now=now) else "",
        "nav": "",
    })


@staff_required
@require_POST
def booking_mark(request, pk: int):
    booking = booking_for(request.user, pk)
    if not may_mark(request.user, booking):
        raise Http404()
    action = request.POST.get("action", "")
    labels = {"arrived": "arrived", "attended": "attended", "no_show": "a no-show"}
    if action not in labels:
        messages.error(request, "Choose arrived, attended or no-show.")
    else:
        try:
            booking_services.booking_mark(booking=booking, action=action, actor=request.user,
                                          reason=request.POST.get("reason", "").strip())
        except BookingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{booking.patient.display_name} marked {labels[action]}.")
    return _back(request, booking)


def _back(request, booking: Booking) -> HttpResponseRedirect:
    """Return where the action came from (a calendar or the booking page); only our own paths."""
    target = request.POST.get("next", "")
    if target.startswith("/staff/") and "//" not in target:
        return HttpResponseRedirect(target)
    return redirect("staff:booking", pk=booking.pk)


@reception_required
def booking_move(request, pk: int):
    booking = booking_for(request.user, pk)
    practitioners = visible_practitioners(request.user).select_related("user")
    local = timezone.localtime(booking.start, LONDON)
    initial = {"practitioner": booking.practitioner_id, "date": local.date(), "time": clock_value(local)}
    # Dragged (or moved by keyboard) onto a free cell of the calendar: this page is the confirm step.
    proposed = _parse_start(request.GET.get("start"))
    target_label = ""  # the confirm line's time: "01:30 GMT" on the fall-back night, not the picker's value
    if proposed is not None:
        target = timezone.localtime(proposed, LONDON)
        initial.update(date=target.date(), time=clock_value(target))
        target_label = london_clock(target)
        if request.GET.get("practitioner", "").isdigit():
            initial["practitioner"] = int(request.GET["practitioner"])
    elif _parse_day(request.GET.get("date")) is not None:
        # Dropped on another day in the week of all practitioners: the same time that day, to confirm here.
        proposed = _parse_day(request.GET["date"])
        initial["date"] = proposed
        if re.fullmatch(r"\d\d:\d\d", request.GET.get("time", "")):
            initial["time"] = request.GET["time"]
        if request.GET.get("practitioner", "").isdigit():
            initial["practitioner"] = int(request.GET["practitioner"])
    form = MoveForm(request.POST or None, practitioners=practitioners, initial=initial)
    alternatives = []
    if request.method == "POST" and form.is_valid() and form.cleaned_data.get("start"):
        try:
            moved = booking_services.booking_reschedule(
                booking=booking, start=form.cleaned_data["start"], practitioner=form.cleaned_data["practitioner"],
                actor=request.user, reason=form.cleaned_data["reason"] or "Moved by reception.", by_staff=True,
            )
        except BookingError as exc:
            booking_error_to_form(form, exc, refused={
                "service": booking.service, "practitioner": form.cleaned_data["practitioner"],
                "start": form.cleaned_data["start"], "exclude_booking_id": booking.pk})
            alternatives = _alternative_links(exc, "staff:move", args=[booking.pk])
        else:
            when = timezone.localtime(moved.start, LONDON)
            messages.success(request, f"Moved to {london_clock(when, '%a %-d %b %H:%M')} with {moved.practitioner.name}. "
                                      "The patient has been emailed.")
            return redirect(_day_url(when.date()))
    return render(request, "staff/move.html", {"booking": booking, "form": form, "day": local.date(),
                                               "alternatives": alternatives,
                                               "proposed": proposed is not None and request.method == "GET",
                                               "proposed_at": target_label})


@reception_required
def booking_cancel(request, pk: int):
    booking = booking_for(request.user, pk)
    paid = paid_pence(booking=booking)
    form = CancelForm(request.POST or None, paid_pence=paid, initial={"refund": "full" if paid else "none"})
    day = timezone.localtime(booking.start, LONDON).date()
    if request.method == "POST" and form.is_valid() and "refund_pence" in form.cleaned_data:
        try:
            cancelled = payment_services.booking_cancel(
                booking=booking, actor=request.user, reason=form.cleaned_data["reason"],
                refund_pence=form.cleaned_data["refund_pence"], by_staff=True,
            )
        except BookingError as exc:
            booking_error_to_form(form, exc)
        else:
            refund = cancelled.refund_pence
            messages.success(request, f"Booking cancelled; refund £{refund / 100:.2f}." if refund else
                             "Booking cancelled; no refund.")
            return redirect(_day_url(day))
    return render(request, "staff/cancel.html", {"booking": booking, "form": form, "paid": paid, "day": day})


@reception_required
@require_POST
def booking_take_payment(request, pk: int):
    """Record money taken at the desk (card terminal or cash), then show its receipt."""
    booking = booking_for(request.user, pk)
    form = TakePaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose card terminal or cash.")
        return redirect("staff:booking", pk=booking.pk)
    try:
        payment = payment_services.payment_take_at_desk(booking=booking, method=form.cleaned_data["method"],
                                                        actor=request.user)
    except BookingError as exc:
        messages.error(request, exc.message)
        return redirect("staff:booking", pk=booking.pk)
    messages.success(request, f"£{payment.amount_pence / 100:.2f} taken ({payment.get_method_display()}). "
                              "Receipt below" + (" and emailed." if booking.patient.can_be_emailed else "."))
    return redirect("payments:receipt", payment_id=payment.pk)


@reception_required
def takings(request):
    """End of day: money taken by method and by practitioner."""
    day = _parse_day(request.GET.get("date")) or today_london()
    return render(request, "staff/takings.html", {
        "takings": takings_for_day(day), "day": day, "prev_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1), "nav": "takings",
    })


@reception_required
@require_POST
def booking_send_link(request, pk: int):
    booking = booking_for(request.user, pk)
    if not booking.awaiting_payment():
        messages.error(request, "Only a held booking can be paid by link.")
    else:
        result = desk.payment_link_send(booking=booking, actor=request.user)
        if result.link_error:
            messages.error(request, result.link_error)
        else:
            messages.success(request, f"Payment link emailed to {booking.patient.email}.")
    return redirect("staff:booking", pk=booking.pk)


# Booking from the desk -----------------------------------------------------------------


@reception_required
def book(request):
    practitioners = visible_practitioners(request.user).select_related("user")
    source = request.POST if request.method == "POST" else request.GET
    initial = {}
    start = source.get("start", "")
    if start:
        start_dt = hostile.parse_aware_datetime(start)
        if start_dt is not None:
            local = start_dt.astimezone(LONDON)
            initial.update(date=local.date(), time=clock_value(local))
    if hostile.parse_id(source.get("practitioner")):
        initial["practitioner"] = hostile.parse_id(source["practitioner"])
    fits = []
    if request.method == "GET" and initial.get("practitioner") and start:
        # A free cell was clicked: preselect the first service that fits there and say which do.
        chosen = practitioners.filter(pk=initial["practitioner"]).first()
        proposed = _parse_start(start)
        if chosen is not None and proposed is not None:
            fits = availability.services_fitting(practitioner=chosen, start=proposed)
            first_fit = next((f.service for f in fits if f.fits), None)
            if first_fit is not None:
                initial["service"] = first_fit.pk
    query = " ".join(hostile.search_words(source.get("q", "")))
    results = list(desk.patient_find(query=query)) if query else []

    alternatives = []
    searching = request.method == "POST" and request.POST.get("action") == "search"
    if request.method == "POST" and not searching:
        form = BookForm(request.POST, practitioners=practitioners, patient_choices=results)
        if form.is_valid() and form.cleaned_data.get("start"):
            data = form.cleaned_data
            try:
                result = desk.reception_book(
                    patient=data["patient"], service=data["service"], practitioner=data["practitioner"],
                    start=data["start"], payment=data["payment"], actor=request.user,
                    hold_minutes=data["hold_minutes"],
                    new_patient={"first_name": data["new_first_name"], "last_name": data["new_last_name"],
                                 "email": data["new_email"], "phone": data["new_phone"]},
                )
            except BookingError as exc:
                booking_error_to_form(form, exc, refused={
                    "service": data["service"], "practitioner": data["practitioner"], "start": data["start"]})
                alternatives = _alternative_links(exc, "staff:book")
            else:
                booking = result.booking
                when = timezone.localtime(booking.start, LONDON)
                name = booking.patient.display_name
                if result.link_error:
                    messages.error(request, result.link_error)
                elif result.checkout_url:
                    messages.success(request, f"{name} held at {london_clock(when)}; payment link emailed.")
                else:
                    messages.success(request, f"{name} booked at {london_clock(when)}; confirmed, "
                                              f"£{booking.amount_due_pence / 100:.2f} to pay at the clinic.")
                return redirect(_day_url(when.date()))
    else:
        # First visit or a patient search: nothing to validate yet, keep what was typed.
        typed = request.POST.dict() if searching else {}
        typed.pop("csrfmiddlewaretoken", None)
        if searching and len(results) == 1:
            typed["patient_id"] = results[0].pk
        form = BookForm(practitioners=practitioners, patient_choices=results, initial={
            **initial, "payment": desk.PAY_AT_CLINIC, "hold_minutes": 1440, **typed,
        })
    selected = str(form["patient_id"].value() or "")
    day = _parse_day(str(form["date"].value() or "")) or initial.get("date") or today_london()
    return render(request, "staff/book.html", {
        "form": form, "query": query, "results": results, "selected": selected,
        "keep": {k: source.get(k, "") for k in ("practitioner", "start")}, "day": day, "searched": bool(query),
        "fits": fits, "alternatives": alternatives,
    })


# Time off and working hours ---------------------------------------------------------------


@reception_required
def time_off_new(request):
    practitioners = visible_practitioners(request.user).select_related("user")
    day = _parse_day(request.GET.get("date")) or today_london()
    initial = {"date": day, "start_time": "12:00", "end_time": "13:00", "reason": TimeOff.Reason.LUNCH}
    if hostile.parse_id(request.GET.get("practitioner")):
        initial["practitioner"] = hostile.parse_id(request.GET["practitioner"])
    form = TimeOffForm(request.POST or None, practitioners=practitioners, initial=initial)
    clashes = []
    if request.method == "POST" and form.is_valid() and form.cleaned_data.get("start") and form.cleaned_data.get("end"):
        data = form.cleaned_data
        try:
            created = desk.time_off_create(practitioner=data["practitioner"], start=data["start"], end=data["end"],
                                 reason=data["reason"], note=data["note"], actor=request.user,
                                 confirm=bool(request.POST.get("confirm")))
        except desk.BookingsInTheWay as exc:
            clashes = exc.bookings
            form.add_error(None, exc.message)
        except BookingError as exc:
            booking_error_to_form(form, exc)
        else:
            messages.success(request, f"Time off added for {data['practitioner'].name}.")
            if desk.time_off_bookings(time_off=created):
                return redirect("staff:time_off_detail", pk=created.pk)
            return redirect(_day_url(timezone.localtime(data["start"], LONDON).date()))
    return render(request, "staff/time_off.html", {"form": form, "clashes": clashes, "day": day})


@reception_required
def time_off_detail(request, pk: int):
    """Bookings left inside a time off, and the one action that asks their patients to choose a new time."""
    time_off = get_object_or_404(TimeOff.objects.select_related("practitioner__user"), pk=pk)
    day = timezone.localtime(time_off.start, LONDON).date()
    if request.method == "POST":
        asked = desk.time_off_ask_to_reschedule(time_off=time_off, actor=request.user)
        if asked.emailed:
            messages.success(request, f"Emailed {len(asked.emailed)} patient(s) to choose a new time.")
        if asked.to_phone:
            names = ", ".join(b.patient.display_name for b in asked.to_phone)
            messages.warning(request, f"No email address, please call: {names}.")
        return redirect("staff:time_off_detail", pk=time_off.pk)
    asked_ids = set(BookingEvent.objects.filter(
        action=BookingEvent.Action.NOTE, reason__startswith="Asked by email to choose a new time",
        booking__practitioner=time_off.practitioner, booking__start__lt=time_off.end, booking__blocks_until__gt=time_off.start,
    ).values_list("booking_id", flat=True))
    return render(request, "staff/time_off_detail.html", {
        "time_off": time_off, "day": day, "bookings": desk.time_off_bookings(time_off=time_off), "asked_ids": asked_ids,
        "start": timezone.localtime(time_off.start, LONDON), "end": timezone.localtime(time_off.end, LONDON),
    })


@reception_required
def time_off_delete(request, pk: int):
    time_off = get_object_or_404(TimeOff.objects.select_related("practitioner__user"), pk=pk)
    day = timezone.localtime(time_off.start, LONDON).date()
    if request.method == "POST":
        desk.time_off_delete(time_off=time_off, actor=request.user)
        messages.success(request, f"Time off removed for {time_off.practitioner.name}.")
        return redirect(_day_url(day))
    return render(request, "staff/time_off_delete.html", {"time_off": time_off, "day": day,
                                                           "start": timezone.localtime(time_off.start, LONDON),
                                                           "end": timezone.localtime(time_off.end, LONDON)})


@reception_required
def working_hours(request, practitioner_id: int):
    practitioner = get_object_or_404(Practitioner.objects.select_related("user"), pk=practitioner_id, active=True)
    today = today_london()
    current = [r for r in practitioner.working_hours.all() if (r.valid_from is None or r.valid_from <= today)
               and (r.valid_until is None or r.valid_until >= today)]
    form = WorkingHoursForm(request.POST or None, initial={"effective_from": today, **WorkingHoursForm.initial_from(current)})
    outside, confirm_needed = [], False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outside = desk.working_hours_replace(
                practitioner=practitioner, rows=data["rows"], effective_from=data["effective_from"],
                confirm=bool(request.POST.get("confirm")), actor=request.user,
            )
        except desk.BookingsInTheWay as exc:
            outside, confirm_needed = exc.bookings, True
            form.add_error(None, exc.message + " Move them, or confirm to save anyway.")
        except BookingError as exc:
            booking_error_to_form(form, exc)
        else:
            if outside:
                messages.warning(request, f"Working hours saved. {len(outside)} booking(s) are now outside them: "
                                          "move them from the calendar.")
            else:
                messages.success(request, f"Working hours saved for {practitioner.name}.")
            return redirect("staff:week", practitioner_id=practitioner.pk)
    return render(request, "staff/working_hours.html", {
        "practitioner": practitioner, "form": form, "outside": outside, "confirm_needed": confirm_needed,
        "day": today,
    })


# The calendar's geometry as classes ---------------------------------------------------------

_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@staff_required
def grid_css(request):
    """The grid's positions (row, length, column, lane) and practitioners' colours as classes.

    The Content-Security-Policy allows no inline style, so the calendar cannot put
    `style="--s: 12"` on each block; every value it can use has a class here
    instead (a day has at most 24 * 60 / BOOKING_SLOT_MINUTES rows), and each
    practitioner's colour is a class of its own. A stylesheet from our own
    origin, so 'self' covers it; a few kilobytes, revalidated by ETag.
    """
    rows = 24 * 60 // max(1, settings.BOOKING_SLOT_MINUTES) + 1
    rules = [f".s-{n}{{--s:{n}}}.l-{n}{{--l:{n}}}.rows-{n}{{--rows:{n}}}" for n in range(rows + 1)]
    rules += [f".c-{n}{{--c:{n}}}.cols-{n}{{--cols:{n}}}.lane-{n}{{--lane:{n}}}.lanes-{n}{{--lanes:{n}}}" for n in range(41)]
    for pk, colour in Practitioner.objects.values_list("pk", "colour"):
        if _HEX_COLOUR.fullmatch(colour or ""):
            rules.append(f".pc-{pk}{{--pc:{colour}}}")
    body = "\n".join(rules) + "\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    response["ETag"] = f'"{hashlib.sha256(body.encode()).hexdigest()[:32]}"'
    response["Cache-Control"] = "private, no-cache"
    return response
