"""Data-rights pages: the privacy notice, the patient's export and erasure, reception's export."""

from __future__ import annotations

import json

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from common.clock import london_date
from booking.staff.permissions import reception_required

from . import services
from .exceptions import ErasureRefused
from .export import patient_export
from .forms import DeskExportForm, ErasureForm
from .models import DataRequest


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
    recent = DataRequest.objects.select_related("handled_by").order_by("-at")[:20]
    return render(request, "privacy/desk_export.html", {"form": form, "recent": recent},
                  status=400 if form.errors else 200)
