"""/api/v1/waitlist/ (../shared/api.md): thin over waitlist.services."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.api import serializers as s
from booking.api.views import E401, E403, _error, _practitioner, _service, _valid

from . import services
from .models import TIMES_OF_DAY, WaitlistEntry


class WaitlistCreateSerializer(serializers.Serializer):
    service = s.SlugField(max_length=50)
    date_from = s.ClinicDateField()
    date_to = s.ClinicDateField()
    practitioner = s.id_field(body=True, required=False, allow_null=True, help_text="Omit or null for any.")
    weekdays = serializers.ListField(child=s.StrictIntegerField(min_value=0, max_value=6), required=False,
                                     max_length=7, help_text="0 = Monday ... 6 = Sunday; omit or [] for any day.")
    times_of_day = serializers.ListField(child=serializers.ChoiceField(choices=TIMES_OF_DAY), required=False,
                                         max_length=2, help_text="Omit or [] for any time.")
    intake = s.IntakeField(required=False, allow_null=True, help_text="Required for a first-session service.")


class WaitlistEntrySerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    practitioner = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    weekdays = serializers.ListField(child=serializers.IntegerField())
    times_of_day = serializers.ListField(child=serializers.CharField())
    created_at = s.AwareDateTimeField(read_only=True)

    class Meta:
        model = WaitlistEntry
        fields = ["id", "service", "date_from", "date_to", "practitioner", "weekdays", "times_of_day", "created_at",
                  "status"]


E404 = _error("No such waitlist entry among yours.", ("not_found", "Not found."))


class WaitlistListCreate(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="waitlist_list", responses={200: WaitlistEntrySerializer(many=True), 401: E401},
                   tags=["waitlist"])
    def get(self, request):
        entries = WaitlistEntry.objects.filter(patient=request.user).select_related("service").order_by("-created_at")
        return Response(WaitlistEntrySerializer(entries, many=True).data)

    @extend_schema(
        operation_id="waitlist_create",
        request=WaitlistCreateSerializer,
        responses={
            201: WaitlistEntrySerializer,
            400: OpenApiResponse(s.FieldErrorSerializer, description="`invalid`, `invalid_window` (past, over the "
                                 "booking horizon, last before first), `unknown_service`, `unknown_practitioner`, "
                                 "`intake_required`, `invalid_intake`."),
            401: E401,
            403: E403,
            422: OpenApiResponse(s.UrgentCareErrorSerializer, description="`urgent_care`: nothing was saved."),
        },
        tags=["waitlist"],
    )
    def post(self, request):
        data = _valid(WaitlistCreateSerializer, request.data)
        entry = services.waitlist_join(
            patient=request.user, service=_service(data["service"]), practitioner=_practitioner(data.get("practitioner")),
            date_from=data["date_from"], date_to=data["date_to"], weekdays=data.get("weekdays") or [],
            times_of_day=data.get("times_of_day") or [], intake=data.get("intake"),
        )
        return Response(WaitlistEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class WaitlistDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="waitlist_destroy", responses={204: None, 401: E401, 403: E403, 404: E404},
                   tags=["waitlist"])
    def delete(self, request, pk: int):
        entry = get_object_or_404(WaitlistEntry, pk=pk, patient=request.user)
        services.waitlist_leave(entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)


