"""The patient's waitlist pages: join (from the time picker), my waitlist, an offer, leave from the email."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from common import hostile
from common.clock import london_date
from common.errors import DomainError
from booking import availability
from booking.exceptions import InvalidIntake, UrgentCareNeeded
from booking import services as booking_services
from booking.urgent import urgent_redirect
from booking.forms import IntakeForm
from booking.models import UrgentAdvice
from booking.models import Service
from payments import services as payments
from payments.gateway import GatewayUnavailable

from . import services
from .exceptions import OfferGone
from .forms import WaitlistJoinForm
from .models import WaitlistEntry, WaitlistOffer
from .notifications import entry_id_from_leave_token

ANY = "any"


def _today():
    return london_date()


@login_required
def join(request, service, who):
    service = get_object_or_404(Service, slug=service, active=True, bookable_online=True)
    practitioner = None
    if who != ANY:
        if not who.isdigit():
            raise Http404
        practitioner = get_object_or_404(availability.practitioners_for(service), pk=int(who))
    today = _today()
    first = max(hostile.parse_date(request.GET.get("day")) or today, today)
    form = WaitlistJoinForm(request.POST or None, initial={"date_from": first, "date_to": first + timedelta(days=14)})
    intake_form = IntakeForm(request.POST or None) if service.is_first_session else None
    if request.method == "POST" and intake_form is not None:
        try:
            # Urgent signs first, whatever else is blank or invalid (the same screen as booking).
            booking_services.intake_screen(data=request.POST, source=UrgentAdvice.Source.ONLINE)
        except UrgentCareNeeded as urgent:
            return urgent_redirect(request, urgent)
    if request.method == "POST":
        valid = form.is_valid()
        intake = None
        if intake_form is not None:
            valid = intake_form.is_valid() and valid
            if intake_form.is_valid():
                intake = intake_form.intake().as_dict()
        if valid:
            try:
                services.waitlist_join(
                    patient=request.user, service=service, practitioner=practitioner, intake=intake,
                    date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"],
                    weekdays=form.cleaned_data["weekdays"], times_of_day=form.cleaned_data["times_of_day"],
                )
            except UrgentCareNeeded as urgent:
                return render(request, "booking/urgent_care.html", {
                    "message": urgent.message,
                    "signs": [intake_form[s].label for s in urgent.extra.get("signs", [])],
                })
            except InvalidIntake as invalid:
                for field, error in (invalid.extra.get("errors") or {}).items():
                    intake_form.add_error(field if field in intake_form.fields else None, error)
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                messages.success(request, "You are on the waitlist. We will email you as soon as a time comes free.")
                return redirect("waitlist:mine")
    return render(request, "waitlist/join.html", {
        "service": service, "practitioner": practitioner, "who": who, "form": form, "intake_form": intake_form,
    })


@login_required
def mine(request):
    now = timezone.now()
    entries = list(
        WaitlistEntry.objects.filter(patient=request.user)
        .select_related("service", "practitioner__user")
        .prefetch_related("offers__booking", "offers__practitioner__user")
        .order_by("-created_at")
    )
    for entry in entries:
        entry.live_offers = [o for o in entry.offers.all() if o.state(now) == "holding"]
    return render(request, "waitlist/mine.html", {"entries": entries, "today": _today()})


@login_required
@require_POST
def leave_entry(request, pk):
    entry = get_object_or_404(WaitlistEntry, pk=pk, patient=request.user)
    services.waitlist_leave(entry=entry)
    messages.success(request, f"You have left the waitlist for {entry.service.name}.")
    return redirect("waitlist:mine")


def leave(request, token):
    """From the email: no login needed, the signed link is the proof."""
    entry_id = entry_id_from_leave_token(token)
    entry = get_object_or_404(WaitlistEntry.objects.select_related("service"), pk=entry_id)
    if request.method == "POST":
        services.waitlist_leave(entry=entry)
        return render(request, "waitlist/left.html", {"entry": entry})
    return render(request, "waitlist/leave.html", {"entry": entry})


def _own_offer(request, pk) -> WaitlistOffer:
    # Another patient's offer is a 404: no existence leak.
    return get_object_or_404(
        WaitlistOffer.objects.select_related("entry__service", "booking", "practitioner__user"),
        pk=pk, entry__patient=request.user,
    )


@login_required
def offer(request, pk):
    offer = _own_offer(request, pk)
    now = timezone.now()
    if request.method == "POST":
        try:
            booking = services.waitlist_offer_accept(offer=offer, now=now)
            if booking.status != booking.Status.HELD:
                return redirect("booking:my_booking", booking.pk)
            payment = payments.payment_start(booking=booking, actor=request.user)
        except OfferGone as gone:
            messages.error(request, gone.message)
            return redirect("waitlist:offer", offer.pk)
        except GatewayUnavailable:
            return render(request, "booking/payment_unavailable.html", {"booking": offer.booking}, status=503)
        except DomainError as refused:
            messages.error(request, refused.message)
            return redirect("waitlist:offer", offer.pk)
        return redirect(payment.checkout_url)
    state = offer.state(now)
    seconds_left = max(0, int((offer.booking.hold_expires_at - now).total_seconds())) if state == "holding" else 0
    return render(request, "waitlist/offer.html", {
        "offer": offer, "entry": offer.entry, "state": state, "seconds_left": seconds_left,
        "end": offer.start + timedelta(minutes=offer.entry.service.duration),
    })
