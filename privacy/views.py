"""Data-rights pages: the privacy notice, the patient's export and erasure, reception's export."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import User
from booking.intake import FLAG_LABELS
from booking.models import BookingEvent
from common.clock import london_date
from booking.staff.permissions import manager_required, reception_required
from booking.staff.services import patient_find
from booking.staff.views import intake_rows
from common import hostile
from payments.models import Payment

from . import services
from .exceptions import ErasureRefused
from .export import patient_export
from .forms import DeskErasureForm, DeskExportForm, ErasureForm, RetainedAccessForm
from .models import DataRequest, RetainedBooking, RetainedRecordAccess


def privacy_notice(request):
    return render(request, "privacy/notice.html")


def erased(request):
    return render(request, "privacy/erased.html")


def _json_download(user, data) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    stamp = london_date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="physiobook-data-{user.pk}-{stamp}.json"'
    return response


@login_required
def my_data(request):
    """The readable copy (print it, or save it as PDF from the browser)."""
    data = patient_export(user=request.user)
    services.data_request_log(user=request.user, kind=DataRequest.Kind.EXPORT, channel=DataRequest.Channel.ONLINE,
                              actor=request.user)
    return render(request, "privacy/export.html", {"data": data, "subject": request.user, "for_desk": False})


@login_required
def my_data_json(request):
    data = patient_export(user=request.user)
    services.data_request_log(user=request.user, kind=DataRequest.Kind.EXPORT, channel=DataRequest.Channel.ONLINE,
                              actor=request.user)
    return _json_download(request.user, data)


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    form = ErasureForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_erase(user=request.user, channel=DataRequest.Channel.ONLINE, actor=request.user)
        except ErasureRefused as exc:
            form.add_error(None, exc.message)
        else:
            logout(request)
            return redirect("privacy:erased")
    return render(request, "privacy/delete_account.html", {"form": form}, status=400 if form.errors else 200)


@reception_required
@require_http_methods(["GET", "POST"])
def desk_export(request):
    """A request made by phone or in person: reception produces the export, and it is logged."""
    form = DeskExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        patient = form.patient
        services.data_request_log(user=patient, kind=DataRequest.Kind.EXPORT, channel=form.cleaned_data["channel"],
                                  actor=request.user, note=form.cleaned_data["note"])
        data = patient_export(user=patient)
        if request.POST.get("format") == "json":
            return _json_download(patient, data)
        return render(request, "privacy/export.html", {"data": data, "subject": patient, "for_desk": True, "form": form})
    return render(request, "privacy/desk_export.html", {"form": form, "recent": _recent_requests()},
                  status=400 if form.errors else 200)


def _recent_requests():
    return DataRequest.objects.select_related("handled_by").order_by("-at")[:20]


@reception_required
@require_http_methods(["GET", "POST"])
def desk_erase(request):
    """An erasure asked for by phone or in person: find the patient, confirm who is calling, erase.

    The same service as the patient's own "Delete my account"; logged with who, when, how and why.
    """
    query = " ".join(hostile.search_words(request.GET.get("q", "")))
    results = list(patient_find(query=query)) if query and request.method == "GET" else []
    if request.method == "POST":
        form = DeskErasureForm(request.POST)
        if form.is_valid():
            patient = form.patient
            name = patient.display_name
            try:
                services.patient_erase(user=patient, channel=form.cleaned_data["channel"], actor=request.user,
                                       note=form.cleaned_data["note"])
            except ErasureRefused as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"{name}'s account is erased. Records the law makes us keep are held "
                                          "without their name or contact details until their retention dates.")
                return redirect("privacy:desk_erase")
        patient = _active_patient(form["patient"].value())
    else:
        chosen = request.GET.get("patient") or (str(results[0].pk) if len(results) == 1 else None)
        patient = _active_patient(chosen)
        form = DeskErasureForm(initial={"patient": patient.pk if patient else "", "channel": DataRequest.Channel.PHONE})
    return render(request, "privacy/desk_erase.html", {
        "form": form, "query": query, "results": results, "patient": patient, "recent": _recent_requests(),
    }, status=400 if form.errors else 200)


def _active_patient(value) -> User | None:
    pk = hostile.parse_id(str(value or ""))
    if pk is None:
        return None
    return User.objects.filter(pk=pk, is_active=True, is_staff=False, is_superuser=False).first()


@manager_required
def retained(request):
    """Every record kept after an erasure, with its retention end dates, and who opened which (managers)."""
    records = RetainedBooking.objects.select_related("booking__service", "booking__practitioner__user").order_by(
        "keep_until", "booking__start")
    return render(request, "privacy/retained.html", {
        "records": records, "opened": RetainedRecordAccess.objects.select_related("by")[:20],
    })


@manager_required
@require_http_methods(["GET", "POST"])
def retained_open(request, booking_id: int):
    """A kept record's clinical and payment content, to a manager who gives a reason; logged each time."""
    record = get_object_or_404(
        RetainedBooking.objects.select_related("booking__service", "booking__practitioner__user", "erasure"),
        booking_id=booking_id)
    form = RetainedAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        RetainedRecordAccess.objects.create(booking_id=record.booking_id, by=request.user,
                                            reason=form.cleaned_data["reason"])
        booking = record.booking
        return render(request, "privacy/retained_open.html", {
            "record": record, "booking": booking, "opened": True, "reason": form.cleaned_data["reason"],
            "intake_rows": intake_rows(booking.intake),
            "flags": [FLAG_LABELS.get(f, f) for f in booking.flags or []],
            "payments": Payment.objects.filter(booking=booking).prefetch_related("refunds").order_by("created_at"),
            "events": BookingEvent.objects.filter(booking=booking).order_by("at", "pk"),
        })
    return render(request, "privacy/retained_open.html", {"record": record, "booking": record.booking, "form": form},
                  status=400 if form.errors else 200)
