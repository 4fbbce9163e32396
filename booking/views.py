"""The patient's pages: home, the booking flow, and "My bookings".

Server-rendered, no JavaScript needed. The choice being booked (service,
practitioner, start, intake, offer code) lives in the session as a "draft",
so signing in or creating an account on the way never loses it. Every write
goes through booking.services / payments.services / offers.services.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.views.decorators.http import require_POST


from common import hostile
from common.clock import london_date
from offers import services as offers
from offers.throttles import RateLimited, offer_code_validate_for_request
from payments import services as payments
from payments.gateway import GatewayError

from . import availability, policy, services, slot_cache
from .exceptions import (
    BookingError,
    InsidePolicyWindow,
    IntakeRequired,
    InvalidIntake,
    InvalidSlot,
    NotCancellable,
    NotReschedulable,
    OfferRefused,
    ServiceNotBookable,
    SlotTaken,
    UrgentCareNeeded,
)
from .forms import CancelForm, IntakeForm, OfferCodeForm, ScalesForm
from .ics import booking_ics
from .intake import SCALES
from .intake_link import intake_link_booking, intake_link_open
from .urgent import urgent_redirect
from .models import Booking, Practitioner, Service, UrgentAdvice

DRAFT = "booking_draft"
OFFER_CODE_KEY = "booking_offer_code"  # from the offer's "Book your first session" link
ANY = "any"
Status = Booking.Status


# ---------------------------------------------------------------- helpers

def _today() -> date:
    return london_date()


def _parse_date(text: str | None, default: date | None) -> date | None:
    # Bounded (common.hostile): year 1 or 9999 would overflow the week's arithmetic.
    return hostile.parse_date(text) or default


def _parse_start(text: str | None) -> datetime | None:
    return hostile.parse_aware_datetime(text)


def _bookable_service(slug: str) -> Service:
    return get_object_or_404(Service, slug=slug, active=True, bookable_online=True)


def _practitioner_or_any(service: Service, who: str) -> Practitioner | None:
    if who == ANY:
        return None
    pk = hostile.parse_id(who)
    if pk is None:
        raise Http404
    return get_object_or_404(availability.practitioners_for(service), pk=pk)


def _week(day_from: date, slots) -> list[dict]:
    """Days of one week with their free-slot counts, for the day picker."""
    by_day: dict[date, list] = {}
    for slot in _times(slots):
        by_day.setdefault(slot.local_start.date(), []).append(slot)
    return [
        {"date": day_from + timedelta(days=i), "slots": by_day.get(day_from + timedelta(days=i), [])}
        for i in range(7)
    ]


def _times(slots) -> list[availability.Slot]:
    """One button per start time ("any" merges practitioners: the first free one is shown)."""
    seen, unique = set(), []
    for slot in slots:
        if slot.start not in seen:
            seen.add(slot.start)
            unique.append(slot)
    return unique


def _paging(day_from: date) -> dict:
    today = _today()
    last = today + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    return {
        "prev_from": day_from - timedelta(days=7) if day_from > today else None,
        "next_from": day_from + timedelta(days=7) if day_from + timedelta(days=7) <= last else None,
    }


def _steps(service: Service) -> int:
    """How many steps this service's booking takes: service, physiotherapist, day, time,
    the intake (first sessions only), check, payment."""
    return 7 if service.is_first_session else 6


def _draft(request) -> dict | None:
    return request.session.get(DRAFT)


def _save_draft(request, draft: dict) -> None:
    request.session[DRAFT] = draft
    request.session.modified = True


def _draft_objects(draft: dict):
    """The draft's service, practitioner (or None for any) and start, or None if it no longer makes sense."""
    service = Service.objects.filter(slug=draft.get("service"), active=True, bookable_online=True).first()
    start = _parse_start(draft.get("start"))
    if service is None or start is None:
        return None
    practitioner = None
    if draft.get("practitioner"):
        pk = hostile.parse_id(draft["practitioner"])
        practitioner = availability.practitioners_for(service).filter(pk=pk).first() if pk else None
        if practitioner is None:
            return None
    return service, practitioner, start


def _own_booking(request, pk: int) -> Booking:
    # Another patient's booking is a 404, never a 403: no existence leak.
    return get_object_or_404(
        Booking.objects.select_related("service", "practitioner__user", "offer_code"), pk=pk, patient=request.user
    )


def _start_payment(request, booking: Booking):
    """Open the checkout and send the patient there; if the provider is down, say so and keep the hold."""
    try:
        payment = payments.payment_start(booking=booking, actor=request.user)
    except GatewayError:
        return render(request, "booking/payment_unavailable.html", {"booking": booking}, status=503)
    if not payment.checkout_url:  # nothing to pay: confirmed already
        return redirect("booking:my_booking", booking.pk)
    return redirect(payment.checkout_url)


# ---------------------------------------------------------------- home

def home(request):
    services_ = Service.objects.filter(active=True, bookable_online=True)
    try:
        # The offers app provides the banner; without it the page links to /offer/.
        get_template("offers/banner.html")
        banner = "offers/banner.html"
    except TemplateDoesNotExist:
        banner = None
    first = next((s for s in services_ if s.is_first_session), None)
    return render(request, "booking/home.html", {"services": services_, "offer_banner": banner, "first_service": first})


# ---------------------------------------------------------------- booking flow

def book_service(request):
    services_ = Service.objects.filter(active=True, bookable_online=True)
    return render(request, "booking/book_service.html", {"services": services_, "step": 1})


def book_first_session(request):
    """The offer's "Book your first session": into the flow for the first-session service, with the
    code kept for the review step (applied there, checked like a typed one). No retyping on a phone."""
    code = (request.GET.get("code") or "").strip()[:40]
    if code:
        request.session[OFFER_CODE_KEY] = code
    first = Service.objects.filter(active=True, bookable_online=True, is_first_session=True).first()
    if first is None:
        return redirect("booking:book_service")
    return redirect("booking:book_practitioner", first.slug)


def book_practitioner(request, service):
    service = _bookable_service(service)
    practitioners = list(availability.practitioners_for(service))
    return render(request, "booking/book_practitioner.html",
                  {"service": service, "practitioners": practitioners, "step": 2, "steps": _steps(service)})


def book_day(request, service, who):
    service = _bookable_service(service)
    practitioner = _practitioner_or_any(service, who)
    today = _today()
    day_from = max(_parse_date(request.GET.get("from"), today), today)
    slots = slot_cache.free_slots(
        service=service, date_from=day_from, date_to=day_from + timedelta(days=6),
        practitioner_ids=[practitioner.pk] if practitioner else None,
    )
    days = _week(day_from, slots)
    return render(request, "booking/book_day.html", {
        "service": service, "practitioner": practitioner, "who": who, "days": days,
        "any_free": any(d["slots"] for d in days), "day_from": day_from, "step": 3, "steps": _steps(service),
        **_paging(day_from),
    })


def book_time(request, service, who, day):
    service = _bookable_service(service)
    practitioner = _practitioner_or_any(service, who)
    day = _parse_date(day, None)
    if day is None:
        raise Http404
    slots = slot_cache.free_slots(
        service=service, date_from=day, date_to=day, practitioner_ids=[practitioner.pk] if practitioner else None
    )
    now = timezone.now()
    return render(request, "booking/book_time.html", {
        "service": service, "practitioner": practitioner, "who": who, "day": day, "step": 4, "steps": _steps(service),
        # Times inside the free-cancellation window are marked: no refund if cancelled, no online move.
        "times": [(slot, policy.inside_policy_window(start=slot.start, now=now)) for slot in _times(slots)],
        "free_cancel_hours": settings.BOOKING_FREE_CANCEL_HOURS,
    })


@require_POST
def book_choose(request):
    """Keep the chosen slot in the session, then go on to the intake (first sessions) or review."""
    service = _bookable_service(request.POST.get("service", ""))
    who = request.POST.get("who", ANY)
    practitioner = _practitioner_or_any(service, who)
    start = _parse_start(request.POST.get("start"))
    if start is None:
        messages.error(request, "Please choose one of the times shown.")
        return redirect("booking:book_day", service.slug, who)
    previous = _draft(request) or {}
    same_service = previous.get("service") == service.slug
    _save_draft(request, {
        "service": service.slug,
        "practitioner": practitioner.pk if practitioner else None,
        "start": start.isoformat(),
        # Coming back from "that time was taken" keeps the answers and the code.
        "intake": previous.get("intake") if same_service else None,
        "offer_code": (previous.get("offer_code", "") if same_service else "")
        or (request.session.get(OFFER_CODE_KEY, "") if service.is_first_session else ""),
    })
    if service.is_first_session and not (same_service and previous.get("intake")):
        return redirect("booking:book_intake")
    return redirect("booking:book_review")


def book_intake(request):
    draft = _draft(request)
    objects = draft and _draft_objects(draft)
    if not objects:
        messages.error(request, "Please choose a time first.")
        return redirect("booking:book_service")
    service, practitioner, start = objects
    previous = None
    if request.method == "POST":
        form, scales = IntakeForm(request.POST), ScalesForm(request.POST)
        try:
            # Urgent signs first, whatever else is blank or invalid in the form (the scales included).
            services.intake_screen(data=request.POST, source=UrgentAdvice.Source.ONLINE)
        except UrgentCareNeeded as urgent:
            # Nothing is booked and nothing is kept: the answers stop here.
            draft["intake"] = None
            _save_draft(request, draft)
            return urgent_redirect(request, urgent)
        if form.is_valid() & scales.is_valid():  # both checked: every error shows at once
            try:
                intake = form.intake(scales.cleaned_data)
                services.parse_intake(service=service, intake=intake, required=True)
            except InvalidIntake as invalid:
                _intake_errors(invalid, form, scales)
            else:
                # The scales travel with the draft's intake; the hold hands them to the outcomes record.
                draft["intake"] = intake.as_dict(scales=True)
                _save_draft(request, draft)
                return redirect("booking:book_review")
    else:
        if not draft.get("intake") and request.user.is_authenticated:
            previous = _previous_intake(request.user)
        form = IntakeForm(initial=IntakeForm.initial_from(draft.get("intake") or (previous and previous["intake"]),
                                                          ask_urgent_again=bool(previous)))
        # Pain "now": never carried over from an earlier booking, only from this draft.
        scales = ScalesForm(initial={k: v for k, v in (draft.get("intake") or {}).items() if k in SCALES})
    return render(request, "booking/book_intake.html", {
        "form": form, "scales": scales, "service": service, "practitioner": practitioner, "start": start, "step": 5,
        "steps": _steps(service), "previous": previous,
    })


def _intake_errors(invalid: InvalidIntake, form: IntakeForm, scales: ScalesForm) -> None:
    """Put each of the intake's refusals beside its question (the intake's or a scale's)."""
    for field, error in (invalid.extra.get("errors") or {}).items():
        owner = scales if field in scales.fields else form
        owner.add_error(field if field in owner.fields else None, error)


def _previous_intake(user) -> dict | None:
    """A returning patient's last answers, offered to confirm or change (the urgent questions are asked afresh)."""
    return (
        Booking.objects.filter(patient=user).exclude(intake={}).order_by("-created_at", "-pk")
        .values("intake", "start").first()
    )


def intake_link(request, token):
    """A phone booking's intake, answered through the signed link in the patient's email (no password)."""
    booking = intake_link_booking(token)
    if booking is None:
        raise Http404
    if not intake_link_open(booking):
        return render(request, "booking/intake_link_done.html", {"booking": booking})
    if request.method == "POST":
        form, scales = IntakeForm(request.POST), ScalesForm(request.POST)
        valid = form.is_valid() & scales.is_valid()  # both checked: every error shows at once
        try:
            if valid:
                # The service screens first: an urgent sign flags the booking for a call (not only the page).
                services.booking_intake_answer(booking=booking, data=form.answers(scales.cleaned_data))
            else:
                # Urgent signs first, whatever else is blank or invalid (the scales included); then the errors.
                services.booking_intake_screen(booking=booking, data=form.raw_answers())
        except UrgentCareNeeded as urgent:
            return urgent_redirect(request, urgent)
        except InvalidIntake as invalid:
            _intake_errors(invalid, form, scales)
        except BookingError:  # cancelled or started while the page was open: nothing was saved
            return render(request, "booking/intake_link_done.html", {"booking": booking})
        else:
            if valid:
                messages.success(request, "Thank you: your answers are with your physiotherapist.")
                return redirect("booking:intake_link", token)
    else:
        form, scales = IntakeForm(), ScalesForm()
    return render(request, "booking/intake_link.html", {"form": form, "scales": scales, "booking": booking})


@login_required
def book_review(request):
    draft = _draft(request)
    objects = draft and _draft_objects(draft)
    if not objects:
        messages.error(request, "Please choose a time first.")
        return redirect("booking:book_service")
    service, practitioner, start = objects
    if service.is_first_session and not draft.get("intake"):
        return redirect("booking:book_intake")

    form = OfferCodeForm(request.POST or None, initial={"offer_code": draft.get("offer_code", "")})
    quote = None
    action = request.POST.get("action") if request.method == "POST" else None
    if action in ("apply", "pay") and form.is_valid():
        code = form.cleaned_data["offer_code"].strip()
        if action == "apply" and not code:
            form.add_error("offer_code", "Enter a code to apply it.")
        elif code:
            try:
                # Throttled per IP and per account, on the same budget as the API (offers.throttles).
                quote = offer_code_validate_for_request(request, code_text=code, service=service)
            except RateLimited as limited:
                form.add_error("offer_code", limited.message)
                draft["offer_code"] = ""
            except OfferRefused as refusal:
                hint = " Clear the box to pay the full price." if action == "pay" else ""
                form.add_error("offer_code", refusal.message + hint)
                draft["offer_code"] = ""
            else:
                draft["offer_code"] = code
        else:
            draft["offer_code"] = ""
        _save_draft(request, draft)
        if action == "pay" and not form.errors:
            response = _hold_and_pay(request, draft, service, practitioner, start, form)
            if response is not None:
                return response
            quote = None  # the code was refused when the slot was held
    elif action == "remove_code":
        request.session.pop(OFFER_CODE_KEY, None)
        draft["offer_code"] = ""
        _save_draft(request, draft)
        return redirect("booking:book_review")
    elif draft.get("offer_code"):
        try:
            quote = offers.offer_code_validate(code_text=draft["offer_code"], patient=request.user, service=service)
        except OfferRefused as refusal:
            form = OfferCodeForm(data={"offer_code": draft["offer_code"]})
            form.is_valid()
            form.add_error("offer_code", refusal.message)

    return render(request, "booking/book_review.html", {
        "service": service, "practitioner": practitioner, "start": start, "end": start + timedelta(minutes=service.duration),
        "form": form, "quote": quote, "intake": draft.get("intake"),
        "step": _steps(service) - 1, "steps": _steps(service),
        "inside_window": policy.inside_policy_window(start=start, now=timezone.now()),
        "free_cancel_hours": settings.BOOKING_FREE_CANCEL_HOURS,
        "hold_minutes": settings.BOOKING_HOLD_MINUTES,
        "total_pence": quote.amount_due_pence if quote else service.price_pence,
        "who": practitioner.pk if practitioner else ANY,
    })


def _hold_and_pay(request, draft, service, practitioner, start, form):
    """Hold the slot, then open the checkout. Returns a response, or None to show the form's errors."""
    # A double click, or Back then Continue again: the patient's own hold on this time is reused.
    mine = Booking.objects.awaiting_payment().filter(patient=request.user, service=service, start=start).first()
    if mine is not None:
        request.session.pop(DRAFT, None)
        return _start_payment(request, mine)
    try:
        booking = services.booking_hold(
            patient=request.user, service=service, start=start, practitioner=practitioner,
            offer_code=draft.get("offer_code") or None, intake=draft.get("intake"), actor=request.user,
        )
    except SlotTaken as taken:
        return render(request, "booking/slot_taken.html", {
            "service": service, "start": start, "alternatives": taken.alternatives,
            "who": practitioner.pk if practitioner else ANY,
        }, status=409)
    except OfferRefused as refusal:
        form.add_error("offer_code", refusal.message)
        draft["offer_code"] = ""
        _save_draft(request, draft)
        return None
    except UrgentCareNeeded as urgent:
        return urgent_redirect(request, urgent)
    except (IntakeRequired, InvalidIntake):
        return redirect("booking:book_intake")
    except (InvalidSlot, ServiceNotBookable) as refused:
        messages.error(request, refused.message)
        return redirect("booking:book_day", service.slug, practitioner.pk if practitioner else ANY)
    except BookingError as refused:  # RateLimited, TooManyHolds: the patient's limits, shown on the form
        form.add_error(None, refused.message)
        return None
    request.session.pop(DRAFT, None)
    request.session.pop(OFFER_CODE_KEY, None)
    return _start_payment(request, booking)


# ---------------------------------------------------------------- my bookings

def _is_upcoming(booking: Booking, now: datetime) -> bool:
    return booking.end > now and booking.is_blocking(now)


@login_required
def my_bookings(request):
    now = timezone.now()
    rows = list(
        Booking.objects.filter(patient=request.user).select_related("service", "practitioner__user").order_by("start")
    )
    upcoming = [b for b in rows if _is_upcoming(b, now)]
    past = [b for b in reversed(rows) if not _is_upcoming(b, now)]
    return render(request, "booking/my_bookings.html", {"upcoming": upcoming, "past": past, "now": now})


def _allowed(check, booking: Booking, now) -> bool:
    """Whether a booking.services check lets the patient do this now (to show the button)."""
    try:
        check(booking=booking, now=now)
    except BookingError:
        return False
    return True


@login_required
def my_booking(request, pk):
    booking = _own_booking(request, pk)
    now = timezone.now()
    cancellation = None
    if booking.status == Status.CANCELLED:
        cancellation = booking.events.filter(action="cancelled").select_related("actor").order_by("-at", "-pk").first()
    return render(request, "booking/my_booking.html", {
        "booking": booking, "refunded_pence": payments.refunded_pence(booking=booking),
        "due_pence": payments.balance_due_pence(booking=booking),
        "paid_pence": payments.paid_pence(booking=booking) if booking.status == Status.CANCELLED else 0,
        "cancelled_by_clinic": bool(cancellation and cancellation.actor and cancellation.actor.is_staff),
        "cancellation_reason": cancellation.reason if cancellation else "",
        "free_cancel_hours": settings.BOOKING_FREE_CANCEL_HOURS,
        "awaiting_payment": booking.awaiting_payment(now),
        "lapsed": booking.shown_status(now) == Status.EXPIRED,
        "manageable": _allowed(services.check_cancellable, booking, now),
        "movable": _allowed(services.check_movable, booking, now),
        "upcoming": booking.status == Status.CONFIRMED and booking.end > now,
    })


@login_required
@require_POST
def my_booking_pay(request, pk):
    booking = _own_booking(request, pk)
    if not booking.awaiting_payment():
        messages.error(request, "This booking is no longer waiting for payment.")
        return redirect("booking:my_booking", booking.pk)
    return _start_payment(request, booking)


@login_required
def my_booking_cancel(request, pk):
    booking = _own_booking(request, pk)
    now = timezone.now()
    try:
        services.check_cancellable(booking=booking, now=now)
    except NotCancellable as refused:
        messages.error(request, refused.message)
        return redirect("booking:my_booking", booking.pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        paid_before = payments.paid_pence(booking=booking)
        try:
            cancelled = payments.booking_cancel(
                booking=booking, actor=request.user, reason=form.cleaned_data["reason"] or "Cancelled by the patient online."
            )
        except NotCancellable as refused:
            messages.error(request, refused.message)
        else:
            if cancelled.refund_pence:
                messages.success(request, f"Your booking is cancelled. A full refund of £{cancelled.refund_pence / 100:.2f} is on its way.")
            elif paid_before:
                # The refund window can close while the page is open: say so, never imply a refund.
                messages.success(request, "Your booking is cancelled. No refund was given: it was less than "
                                          f"{settings.BOOKING_FREE_CANCEL_HOURS} hours away.")
            else:
                messages.success(request, "Your booking is cancelled. Nothing was charged.")
        return redirect("booking:my_booking", booking.pk)
    paid = payments.paid_pence(booking=booking)
    return render(request, "booking/my_booking_cancel.html", {
        "booking": booking, "form": form, "paid_pence": paid,
        "refund_due": services.refund_due(booking=booking, now=now),
        "free_cancel_hours": settings.BOOKING_FREE_CANCEL_HOURS,
    })


@login_required
def my_booking_reschedule(request, pk):
    booking = _own_booking(request, pk)
    now = timezone.now()
    context = {"booking": booking, "free_cancel_hours": settings.BOOKING_FREE_CANCEL_HOURS}
    try:
        services.check_movable(booking=booking, now=now)
    except InsidePolicyWindow:
        return render(request, "booking/my_booking_reschedule.html", {**context, "too_late": True})
    except NotReschedulable as refused:
        messages.error(request, refused.message)
        return redirect("booking:my_booking", booking.pk)

    if request.method == "POST":
        start = _parse_start(request.POST.get("start"))
        if start is None:
            messages.error(request, "Please choose one of the times shown.")
            return redirect("booking:my_booking_reschedule", booking.pk)
        if request.POST.get("confirm") != "yes":
            # Choosing a time asks first; only "Yes, move it" moves the booking.
            return render(request, "booking/my_booking_reschedule.html", {
                **context, "confirm_start": timezone.localtime(start, availability.LONDON),
                "confirm_end": timezone.localtime(start + booking.duration, availability.LONDON),
            })
        try:
            services.booking_reschedule(booking=booking, start=start, actor=request.user, reason="Moved by the patient online.")
        except SlotTaken as taken:
            return render(request, "booking/my_booking_reschedule.html", {
                **context, "taken": True, "alternatives": taken.alternatives,
            }, status=409)
        except (InsidePolicyWindow, NotReschedulable, InvalidSlot) as refused:
            messages.error(request, refused.message)
            return redirect("booking:my_booking", booking.pk)
        messages.success(request, "Your booking has been moved. We have emailed you the new time.")
        return redirect("booking:my_booking", booking.pk)

    today = _today()
    day_from = max(_parse_date(request.GET.get("from"), today), today)
    slots = availability.free_slots(
        service=booking.service, date_from=day_from, date_to=day_from + timedelta(days=6),
        practitioner_ids=[booking.practitioner_id], exclude_booking_id=booking.pk,
    )
    slots = [s for s in slots if s.start != booking.start]
    days = _week(day_from, slots)
    chosen = _parse_date(request.GET.get("day"), None)
    chosen_day = next((d for d in days if d["date"] == chosen), None)
    return render(request, "booking/my_booking_reschedule.html", {
        **context, "days": days, "day_from": day_from, "chosen_day": chosen_day,
        "any_free": any(d["slots"] for d in days), **_paging(day_from),
    })


@login_required
def my_booking_ics(request, pk):
    booking = _own_booking(request, pk)
    response = HttpResponse(booking_ics(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="physiobook-{booking.pk}.ics"'
    return response

