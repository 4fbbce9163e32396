"""API v1 views: parse the request, call one service function, shape the answer.

Every rule (what can be booked, cancelled, moved, discounted) is in
booking.services, booking.availability, offers.services and payments.services;
refusals come back as BookingError subclasses, which config.api.exception_handler
turns into {"detail", "code", ...} with their status.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from booking import services as booking_services
from booking import slot_cache
from booking.exceptions import UnknownPractitioner, UnknownService
from booking.models import Booking, Practitioner, Service, UrgentAdvice
from payments import gateway
from payments import services as payment_services
from payments.models import Payment

from . import serializers as s


def _service(slug: str) -> Service:
    service = Service.objects.filter(slug=slug, active=True).first()
    if service is None:
        raise UnknownService(f"There is no service called {slug!r}.")
    return service


def _practitioner(pk: int | None) -> Practitioner | None:
    if pk is None:
        return None
    practitioner = Practitioner.objects.select_related("user").filter(pk=pk, active=True).first()
    if practitioner is None:
        raise UnknownPractitioner(f"There is no practitioner with id {pk}.")
    return practitioner


def _valid(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Schema helpers: every error response is the same {"detail", "code"} body. ---


def _error(description: str, *examples: tuple[str, str], serializer=s.ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(
        serializer,
        description=description,
        examples=[
            OpenApiExample(code, value={"detail": detail, "code": code}, response_only=True) for code, detail in examples
        ],
    )


E400 = _error(
    "Invalid input: `code` is `invalid` with per-field `errors`, or a reason code.",
    ("invalid", "Some fields are invalid."),
    serializer=s.FieldErrorSerializer,
)
E401 = _error("Not logged in (no session, or no valid X-Session-Token).", ("not_authenticated", "Authentication credentials were not provided."))
E403 = _error("Refused, e.g. a missing CSRF token with session authentication.", ("permission_denied", "CSRF Failed: CSRF token missing."))
E404 = _error("No such booking among yours.", ("not_found", "Not found."))
E429 = _error("Too many requests; see the Retry-After header.", ("throttled", "Request was throttled. Expected available in 3599 seconds."))
E_SLOT_TAKEN = OpenApiResponse(
    s.ConflictErrorSerializer,
    description="`slot_taken` (with `alternatives`, the nearest free slots), `not_cancellable`, "
    "`not_reschedulable` or `policy_window`.",
    examples=[
        OpenApiExample(
            "slot_taken",
            value={
                "detail": "Sorry, that time was just taken. Here are the nearest free times.",
                "code": "slot_taken",
                "alternatives": [
                    {"start": "2027-01-12T10:15:00+00:00", "end": "2027-01-12T11:00:00+00:00", "practitioner": 1}
                ],
            },
            response_only=True,
        ),
        OpenApiExample(
            "policy_window",
            value={"detail": "Bookings cannot be moved online less than 24 hours before they start. Please call the clinic.",
                   "code": "policy_window"},
            response_only=True,
        ),
    ],
)

OFFER_REFUSALS = "`unknown`, `expired`, `used`, `not_yours`, `not_first_session` or `wrong_service`"


# --- Catalogue ---------------------------------------------------------------------


class ServiceList(APIView):
    authentication_classes = []
    permission_classes = []

    @extend_schema(operation_id="services_list", responses={200: s.ServiceSerializer(many=True)}, tags=["catalogue"])
    def get(self, request):
        return Response(s.ServiceSerializer(Service.objects.filter(active=True), many=True).data)


class PractitionerList(APIView):
    authentication_classes = []
    permission_classes = []

    @extend_schema(
        operation_id="practitioners_list",
        parameters=[s.PractitionerQuerySerializer],
        responses={200: s.PractitionerSerializer(many=True), 400: _error("Unknown service.", ("unknown_service", "There is no service called 'x'."))},
        tags=["catalogue"],
    )
    def get(self, request):
        practitioners = Practitioner.objects.filter(active=True).select_related("user").prefetch_related("services")
        query = _valid(s.PractitionerQuerySerializer, request.query_params)
        if "service" in request.query_params:
            if not query.get("service"):
                # DRF drops a blank optional query value; `?service=` is still a bad slug.
                raise ValidationError({"service": ["This field may not be blank."]})
            practitioners = practitioners.offering(_service(query["service"]))
        return Response(s.PractitionerSerializer(practitioners, many=True).data)


class AvailabilityView(APIView):
    authentication_classes = []
    permission_classes = []

    @extend_schema(
        operation_id="availability",
        parameters=[s.AvailabilityQuerySerializer],
        responses={
            200: s.AvailabilitySerializer,
            400: _error(
                "Missing or bad parameters, a range over 62 days, date_to before date_from, or an unknown service or practitioner.",
                ("invalid", "Some fields are invalid."),
                ("unknown_service", "There is no service called 'x'."),
            ),
        },
        tags=["catalogue"],
    )
    def get(self, request):
        query = _valid(s.AvailabilityQuerySerializer, request.query_params)
        service = _service(query["service"])
        practitioner_ids = None
        if "practitioner" in query:
            if not Practitioner.objects.offering(service).filter(pk=query["practitioner"]).exists():
                raise UnknownPractitioner()
            practitioner_ids = [query["practitioner"]]
        slots = slot_cache.free_slot_dicts(
            service=service, date_from=query["date_from"], date_to=query["date_to"], practitioner_ids=practitioner_ids
        )
        return Response({"service": service.slug, "slots": slots})


# --- Bookings ------------------------------------------------------------------------


def _own_bookings(user):
    return (
        Booking.objects.filter(patient=user)
        .select_related("service", "practitioner__user", "offer_code")
        .prefetch_related(Prefetch("payments", queryset=Payment.objects.order_by("created_at", "pk")))
    )


def _own_booking(user, pk: int) -> Booking:
    from django.http import Http404

    # A larger id cannot exist (bigint) and would overflow the database driver.
    booking = _own_bookings(user).filter(pk=pk).first() if 0 < pk <= s.MAX_ID else None
    if booking is None:
        # Someone else's booking is "not found" too: never 403, no existence leak.
        raise Http404
    return booking


class BookingListCreate(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="bookings_list", responses={200: s.BookingSerializer(many=True), 401: E401}, tags=["bookings"])
    def get(self, request):
        bookings = _own_bookings(request.user).order_by("-start", "-pk")
        return Response(s.BookingSerializer(bookings, many=True).data)

    @extend_schema(
        operation_id="bookings_create",
        request=s.BookingCreateSerializer,
        responses={
            201: OpenApiResponse(
                s.BookingSerializer,
                description="Held until `hold_expires_at`; pay at `checkout_url`. If the payment provider could not be "
                "reached the booking is still held and `checkout_url` is null: retry by reading the booking later, or "
                "pay at the clinic.",
            ),
            400: _error(
                f"Invalid input (`invalid`, `invalid_start`, `invalid_intake`, `intake_required`, `unknown_service`, "
                f"`unknown_practitioner`, `service_not_bookable`) or a refused offer code ({OFFER_REFUSALS}).",
                ("invalid", "Some fields are invalid."),
                ("invalid_start", "Online bookings need at least 2 hours' notice. Please call us for sooner."),
                ("expired", "This offer code expired on 12 January 2027 at 10:00 (London time)."),
                serializer=s.FieldErrorSerializer,
            ),
            401: E401,
            403: E403,
            409: OpenApiResponse(s.ConflictErrorSerializer, description="`slot_taken` (with `alternatives`), or "
                                 "`too_many_holds` (this account already has the most unpaid holds allowed)."),
            422: OpenApiResponse(s.UrgentCareErrorSerializer, description="`urgent_care`: an intake answers a cauda equina "
                                 "sign yes; checked first, whatever else is invalid. Nothing was booked or charged; tell "
                                 "the patient to go to A&E now or call 999 (NHS 111 if unsure)."),
            429: E429,
        },
        tags=["bookings"],
    )
    def post(self, request):
        # Urgent signs first: 422 urgent_care whatever else in the request is missing or invalid.
        raw_intake = request.data.get("intake") if isinstance(request.data, dict) else None
        booking_services.intake_screen(data=raw_intake, source=UrgentAdvice.Source.API)
        data = _valid(s.BookingCreateSerializer, request.data)
        service = _service(data["service"])
        booking = booking_services.booking_hold(
            patient=request.user,
            service=service,
            start=data["start"],
            practitioner=_practitioner(data.get("practitioner")),
            offer_code=data.get("offer_code") or None,
            intake=data.get("intake"),
            source=Booking.Source.ONLINE,
            actor=request.user,
        )
        try:
            checkout_url = payment_services.payment_start(booking=booking, actor=request.user).checkout_url or None
        except gateway.GatewayError:
            # The hold stands and nothing else was written (payment_start's promise);
            # the patient can retry from the booking page before the hold lapses.
            checkout_url = None
        booking = _own_booking(request.user, booking.pk)
        return Response(s.BookingSerializer(booking, context={"checkout_url": checkout_url}).data,
                        status=status.HTTP_201_CREATED)


class BookingDetail(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="bookings_retrieve", responses={200: s.BookingSerializer, 401: E401, 404: E404}, tags=["bookings"])
    def get(self, request, pk: int):
        return Response(s.BookingSerializer(_own_booking(request.user, pk)).data)


class BookingCancel(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="bookings_cancel",
        request=s.BookingCancelSerializer,
        responses={
            200: s.CancelledBookingSerializer,
            400: E400,
            401: E401,
            403: E403,
            404: E404,
            409: _error("Not cancellable: already cancelled or expired, or already started.",
                        ("not_cancellable", "This booking is cancelled and cannot be cancelled.")),
        },
        tags=["bookings"],
    )
    def post(self, request, pk: int):
        booking = _own_booking(request.user, pk)
        data = _valid(s.BookingCancelSerializer, request.data)
        cancelled = payment_services.booking_cancel(booking=booking, actor=request.user, reason=data.get("reason", ""))
        result = _own_booking(request.user, pk)
        return Response(s.CancelledBookingSerializer(result, context={"refund_pence": cancelled.refund_pence}).data)


class BookingReschedule(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="bookings_reschedule",
        request=s.BookingRescheduleSerializer,
        responses={
            200: s.BookingSerializer,
            400: _error("Invalid input or a start that cannot be booked.", ("invalid_start", "That time has already passed."),
                        serializer=s.FieldErrorSerializer),
            401: E401,
            403: E403,
            404: E404,
            409: E_SLOT_TAKEN,
        },
        tags=["bookings"],
    )
    def post(self, request, pk: int):
        booking = _own_booking(request.user, pk)
        data = _valid(s.BookingRescheduleSerializer, request.data)
        booking_services.booking_reschedule(
            booking=booking,
            start=data["start"],
            practitioner=_practitioner(data.get("practitioner")),
            actor=request.user,
        )
        return Response(s.BookingSerializer(_own_booking(request.user, pk)).data)
