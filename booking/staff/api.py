"""GET /api/v1/staff/calendar/?date=D[&practitioner=ID]: the staff day calendar (api.md).

Reception sees every practitioner; a physiotherapist only themself (asking
for another is 403). A booking kept after its patient's erasure has no patient
id, "Record retained until <date>" as the name, no flags, and retained_until. Reads through booking.calendar, the same selector as
the day view, so the page and the API cannot disagree.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import is_reception, is_staff_member, practitioner_for
from booking.api.serializers import ErrorSerializer
from booking.calendar import calendar_days
from common import hostile


class IsStaffMember(permissions.BasePermission):
    message = "Staff only."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        return is_staff_member(request.user)


def _interval(start, end) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat()}


class StaffCalendarView(APIView):
    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="staff_calendar",
        summary="A day's calendar: every practitioner (reception) or your own (physiotherapist)",
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE, required=True, description="London date, YYYY-MM-DD."),
            OpenApiParameter("practitioner", OpenApiTypes.INT, required=False),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, 401: ErrorSerializer,
                   403: ErrorSerializer, 404: ErrorSerializer},
        tags=["staff"],
    )
    def get(self, request):
        day = hostile.parse_date(request.query_params.get("date", ""))
        if day is None:
            raise exceptions.ValidationError({"date": ["Give the date as YYYY-MM-DD, between 2000 and 2100."]})
        ids = None
        if not is_reception(request.user):
            ids = [practitioner_for(request.user).pk]
        wanted = request.query_params.get("practitioner")
        if wanted not in (None, ""):
            wanted_id = hostile.parse_id(wanted)
            if wanted_id is None:
                raise exceptions.ValidationError({"practitioner": ["Give a practitioner id."]})
            if ids is not None and wanted_id not in ids:
                raise exceptions.PermissionDenied("You can only see your own calendar.")
            ids = [wanted_id]
        pdays = calendar_days(date_from=day, date_to=day, practitioner_ids=ids)
        if wanted and not pdays:
            raise exceptions.NotFound("No such practitioner.")
        return Response({
            "date": day.isoformat(),
            "practitioners": [
                {
                    "id": p.practitioner_id,
                    "name": p.name,
                    "working": [_interval(s, e) for s, e in p.working],
                    "time_off": [
                        {**_interval(o.start, o.end), "id": o.id, "reason": o.reason, "note": o.note}
                        for o in p.time_off
                    ],
                    "bookings": [
                        {
                            **_interval(b.start, b.end),
                            "id": b.id,
                            "status": b.status,
                            # A record kept after an erasure: no patient, only until when (privacy.access).
                            "patient": {"id": None if b.retained_until else b.patient_id, "name": b.patient_name},
                            "retained_until": b.retained_until.isoformat() if b.retained_until else None,
                            "service": {"id": b.service_id, "name": b.service_name},
                            "flags": list(b.flags),
                            "arrived": b.arrived,
                            "source": b.source,
                        }
                        for b in p.bookings
                    ],
                }
                for p in pdays
            ],
        })
