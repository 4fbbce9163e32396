"""Reception's calendar desk and the physiotherapists' day. Thin: forms parse, services decide."""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta

from django.contrib import messages
from django.db.models import Prefetch
from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.roles import is_reception, practitioner_for
from common import hostile
from booking import services as booking_services
from booking.availability import LONDON
from booking.calendar import calendar_days
from booking.exceptions import BookingError, SlotTaken
from booking.intake import FLAG_LABELS, PAIN_AREAS, SIDES, URGENT_SIGNS, FLAG_SIGNS
from booking.models import Booking, BookingEvent, Practitioner, TimeOff
from payments.models import Payment, Refund
from payments.services import paid_pence

from . import services as desk
from .forms import BookForm, CancelForm, MoveForm, TimeOffForm, WorkingHoursForm, today_london
from .grid import build_grid
from .permissions import (
    booking_for,
    may_mark,
    reception_required,
    staff_required,
    visible_practitioner_ids,
    visible_practitioners,
)


def _parse_day(value: str | None) -> date | None:
    # Bounded (common.hostile): year 1 or 9999 would overflow the calendar's arithmetic.
    return hostile.parse_date(value)


def _grid_urls() -> dict:
    # The booking page's path with a placeholder id, reversed once per page, not once per block.
    return {"book_url": reverse("staff:book"),
            "booking_url": reverse("staff:booking", args=[987654321]).replace("987654321", "{}")}


def _day_url(day: date) -> str:
    return reverse("staff:day", args=[day.isoformat()])


def booking_error_to_form(form, exc: BookingError) -> None:
    """One mapping from a service refusal to form errors: fields it names, else the whole form."""
    field_errors = exc.extra.get("errors") if isinstance(exc.extra.get("errors"), dict) else {}
    placed = False
    for name, message in field_errors.items():
        if name in form.fields:
            form.add_error(name, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
    if isinstance(exc, SlotTaken) and exc.alternatives:
        times = ", ".join(f"{s.local_start:%a %-d %b %H:%M}" for s in exc.alternatives)
        form.add_error(None, f"Nearest free times: {times}.")


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
    pdays = calendar_days(date_from=shown, date_to=shown, practitioner_ids=visible_practitioner_ids(request.user), now=now)
    grid = build_grid(pdays, by="practitioner", now=now, offer_slots=is_reception(request.user), **_grid_urls())
    return render(request, "staff/day.html", {
        "day": shown,
        "grid": grid,
        "prev_day": shown - timedelta(days=1),
        "next_day": shown + timedelta(days=1),
        "today": today_london(),
        "cancelled": [b for p in pdays for b in p.cancelled],
        "can_book": is_reception(request.user),
        "nav": "day",
    })


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
    bookings = []
    if practitioner is not None:
        pdays = calendar_days(date_from=shown, date_to=shown, practitioner_ids=[practitioner.pk])
        ids = [b.id for p in pdays for b in p.bookings]
        intakes = dict(Booking.objects.filter(pk__in=ids).values_list("pk", "intake"))
        bookings = [(b, _intake_rows(intakes.get(b.id) or {})) for p in pdays for b in p.bookings]
    return render(request, "staff/my_day.html", {
        "practitioner": practitioner,
        "practitioners": practitioners if is_reception(request.user) else [],
        "day": shown,
        "prev_day": shown - timedelta(days=1),
        "next_day": shown + timedelta(days=1),
        "bookings": bookings,
        "nav": "my_day",
    })


def _intake_rows(intake: dict) -> list[tuple[str, str]]:
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
    booking = booking_for(request.user, pk)
    events = BookingEvent.objects.filter(booking=booking).select_related("actor").order_by("at", "pk")
    payments = Payment.objects.filter(booking=booking).prefetch_related(
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at"))
    ).order_by("created_at")
    now = timezone.now()
    status = booking.status
    if status == Booking.Status.HELD and not booking.is_blocking(now):
        status = Booking.Status.EXPIRED
    reception = is_reception(request.user)
    return render(request, "staff/booking.html", {
        "booking": booking,
        "shown_status": status,
        "shown_status_label": Booking.Status(status).label,
        "events": events,
        "payments": payments,
        "intake_rows": _intake_rows(booking.intake),
        "flag_labels": [FLAG_LABELS.get(f, f) for f in booking.flags or []],
        "can_change": reception and status in (Booking.Status.HELD, Booking.Status.CONFIRMED),
        "can_send_link": reception and status == Booking.Status.HELD and booking.patient.can_be_emailed,
        "can_mark": may_mark(request.user, booking),
        "started": booking.start <= now,
        "day": timezone.localtime(booking.start, LONDON).date(),
        "paid": paid_pence(booking=booking),
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
    form = MoveForm(request.POST or None, practitioners=practitioners, initial={
        "practitioner": booking.practitioner_id, "date": local.date(), "time": f"{local:%H:%M}",
    })
    if request.method == "POST" and form.is_valid() and form.cleaned_data.get("start"):
        try:
            moved = booking_services.booking_reschedule(
                booking=booking, start=form.cleaned_data["start"], practitioner=form.cleaned_data["practitioner"],
                actor=request.user, reason=form.cleaned_data["reason"] or "Moved by reception.", by_staff=True,
            )
        except BookingError as exc:
            booking_error_to_form(form, exc)
        else:
            when = timezone.localtime(moved.start, LONDON)
            messages.success(request, f"Moved to {when:%a %-d %b %H:%M} with {moved.practitioner.name}. "
                                      "The patient has been emailed.")
            return redirect(_day_url(when.date()))
    return render(request, "staff/move.html", {"booking": booking, "form": form, "day": local.date()})


@reception_required
def booking_cancel(request, pk: int):
    booking = booking_for(request.user, pk)
    paid = paid_pence(booking=booking)
    form = CancelForm(request.POST or None, paid_pence=paid, initial={"refund": "full" if paid else "none"})
    day = timezone.localtime(booking.start, LONDON).date()
    if request.method == "POST" and form.is_valid() and "refund_pence" in form.cleaned_data:
        try:
            cancelled = booking_services.booking_cancel(
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
def booking_send_link(request, pk: int):
    booking = booking_for(request.user, pk)
    if booking.status != Booking.Status.HELD or not booking.is_blocking():
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
            initial.update(date=local.date(), time=f"{local:%H:%M}")
    if hostile.parse_id(source.get("practitioner")):
        initial["practitioner"] = hostile.parse_id(source["practitioner"])
    query = " ".join(hostile.search_words(source.get("q", "")))
    results = list(desk.patient_find(query=query)) if query else []

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
                booking_error_to_form(form, exc)
            else:
                booking = result.booking
                when = timezone.localtime(booking.start, LONDON)
                name = booking.patient.display_name
                if result.link_error:
                    messages.error(request, result.link_error)
                elif result.checkout_url:
                    messages.success(request, f"{name} held at {when:%H:%M}; payment link emailed.")
                else:
                    messages.success(request, f"{name} booked at {when:%H:%M} and paid; confirmed.")
                return redirect(_day_url(when.date()))
    else:
        # First visit or a patient search: nothing to validate yet, keep what was typed.
        typed = request.POST.dict() if searching else {}
        typed.pop("csrfmiddlewaretoken", None)
        if searching and len(results) == 1:
            typed["patient_id"] = results[0].pk
        form = BookForm(practitioners=practitioners, patient_choices=results, initial={
            **initial, "payment": desk.PAY_AT_CLINIC_CARD, "hold_minutes": 1440, **typed,
        })
    selected = str(form["patient_id"].value() or "")
    day = _parse_day(str(form["date"].value() or "")) or initial.get("date") or today_london()
    return render(request, "staff/book.html", {
        "form": form, "query": query, "results": results, "selected": selected,
        "keep": {k: source.get(k, "") for k in ("practitioner", "start")}, "day": day, "searched": bool(query),
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
            desk.time_off_create(practitioner=data["practitioner"], start=data["start"], end=data["end"],
                                 reason=data["reason"], note=data["note"], actor=request.user,
                                 confirm=bool(request.POST.get("confirm")))
        except desk.BookingsInTheWay as exc:
            clashes = exc.bookings
            form.add_error(None, exc.message)
        except BookingError as exc:
            booking_error_to_form(form, exc)
        else:
            messages.success(request, f"Time off added for {data['practitioner'].name}.")
            return redirect(_day_url(timezone.localtime(data["start"], LONDON).date()))
    return render(request, "staff/time_off.html", {"form": form, "clashes": clashes, "day": day})


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
