"""Reception's waitlist: who is waiting for a given day, and offering one of that day's free times by hand."""

from __future__ import annotations

from datetime import date, datetime

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from common import hostile
from common.clock import london_clock, london_date
from accounts.roles import is_reception
from booking import availability
from common.errors import DomainError
from booking.models import Practitioner
from booking.staff.permissions import reception_required, staff_required

from . import services
from .models import WaitlistEntry


def _day(text: str | None) -> date:
    return hostile.parse_date(text) or london_date()


def _free_for(entry: WaitlistEntry, day: date, now: datetime) -> list[availability.Slot]:
    slots = availability.free_slots(
        service=entry.service, date_from=day, date_to=day,
        practitioner_ids=[entry.practitioner_id] if entry.practitioner_id else None, now=now, enforce_notice=False,
    )
    return [s for s in slots if entry.matches(s.local_start)]


@staff_required
def day_list(request):
    day = _day(request.GET.get("date"))
    now = timezone.now()
    entries = [
        e for e in WaitlistEntry.objects.waiting(now)
        .filter(date_from__lte=day, date_to__gte=day)
        .select_related("patient", "service", "practitioner__user")
        .prefetch_related("offers__booking", "offers__practitioner__user")
        if not e.weekdays or day.weekday() in e.weekdays
    ]
    names = {p.pk: p.name for p in Practitioner.objects.select_related("user")}
    rows = []
    for entry in entries:
        live = [o for o in entry.offers.all() if o.state(now) == "holding"]
        slots = [] if live else _free_for(entry, day, now)
        rows.append({"entry": entry, "live": live,
                     "slots": [(f"{s.practitioner_id}|{s.start.isoformat()}", s, names.get(s.practitioner_id, ""))
                               for s in slots]})
    return render(request, "staff/waitlist_day.html", {
        "day": day, "rows": rows, "nav": "waitlist", "can_offer": is_reception(request.user),
        "prev_day": date.fromordinal(day.toordinal() - 1), "next_day": date.fromordinal(day.toordinal() + 1),
    })


@reception_required
@require_POST
def offer(request, pk):
    entry = get_object_or_404(WaitlistEntry, pk=pk)
    back = reverse("waitlist_staff:day") + f"?date={request.POST.get('date', '')}"
    try:
        pid, start_text = request.POST.get("slot", "").split("|", 1)
        practitioner = get_object_or_404(Practitioner, pk=int(pid))
        start = datetime.fromisoformat(start_text)
        if timezone.is_naive(start):
            raise ValueError
    except ValueError:
        messages.error(request, "Choose one of the free times listed.")
        return redirect(back)
    try:
        made = services.waitlist_offer_make(entry=entry, practitioner=practitioner, start=start, actor=request.user)
    except DomainError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"{entry.patient.display_name} has been offered "
                                  f"{london_clock(made.start, '%a %-d %b %H:%M')}, held until "
                                  f"{london_clock(made.booking.hold_expires_at)}.")
    return redirect(back)
