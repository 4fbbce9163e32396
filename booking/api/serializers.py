"""Shapes of the API's requests and responses (../shared/api.md).

Input serializers only check types and ranges (so no input can reach the
database or date arithmetic in a shape it cannot take); every business rule
is applied by the service functions the views call.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import dateparse, timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from booking.availability import LONDON
from booking.intake import PAIN_AREAS, SCALES, SIDES
from booking.models import Booking, Practitioner, Service
from common import hostile
from payments.models import Payment

# Dates and times the clinic could ever mean, and the largest id (common.hostile's policy).
EARLIEST, LATEST, MAX_ID = hostile.EARLIEST, hostile.LATEST, hostile.MAX_ID
MAX_AVAILABILITY_DAYS = 62


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in London time with its offset, as availability's slots are."""
    return timezone.localtime(value, LONDON).isoformat() if value else None


# --- Fields -----------------------------------------------------------------


class ClinicDateField(serializers.DateField):
    """YYYY-MM-DD between 2000 and 2100."""

    default_error_messages = {"out_of_range": "Give a date between 2000-01-01 and 2100-12-31."}

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", input_formats=["%Y-%m-%d"], **kwargs)

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not EARLIEST <= day <= LATEST:
            self.fail("out_of_range")
        return day


@extend_schema_field({"type": "string", "format": "date-time", "example": "2027-01-12T10:00:00+00:00"})
class AwareDateTimeField(serializers.Field):
    """An ISO 8601 instant that must carry its UTC offset (api.md): a naive time is ambiguous."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 date and time, e.g. 2027-01-12T10:00:00+00:00.",
        "naive": "Give the time with its UTC offset, e.g. 2027-01-12T10:00:00+00:00 or ...Z.",
        "out_of_range": "Give a time between the years 2000 and 2100, with a UTC offset within ±14:00.",
    }

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            parsed = dateparse.parse_datetime(value.strip())
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            self.fail("invalid")
        if timezone.is_naive(parsed):
            self.fail("naive")
        if hostile.bounded_datetime(parsed) is None:
            self.fail("out_of_range")
        return parsed

    def to_representation(self, value):
        return iso(value)


class StrictStringMixin:
    """Text must be a JSON string: DRF would otherwise turn 0 into "0", accepting what the schema forbids."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TextField(StrictStringMixin, serializers.CharField):
    pass


class SlugField(StrictStringMixin, serializers.SlugField):
    pass


class EmailField(StrictStringMixin, serializers.EmailField):
    pass


class StrictIntegerField(serializers.IntegerField):
    """In a JSON body an id is a JSON integer, not "5" or 5.0 (query strings use the plain field)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def id_field(*, body: bool = False, **kwargs) -> serializers.IntegerField:
    field = StrictIntegerField if body else serializers.IntegerField
    return field(min_value=1, max_value=MAX_ID, **kwargs)


# --- Errors ------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="A sentence for a person.")
    code = serializers.CharField(help_text="A stable machine-readable reason, e.g. not_found, invalid, throttled.")


class FieldErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(
        required=False,
        child=serializers.JSONField(),
        help_text="Per-field messages (code invalid or invalid_intake).",
    )


class SlotSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="ISO 8601 with offset, London time.")
    end = serializers.CharField(help_text="ISO 8601 with offset, London time.")
    practitioner = serializers.IntegerField()


class ConflictErrorSerializer(ErrorSerializer):
    alternatives = SlotSerializer(
        many=True, required=False, help_text="With code slot_taken only: the nearest free slots, in start order."
    )


class UrgentCareErrorSerializer(ErrorSerializer):
    signs = serializers.ListField(child=serializers.CharField(), help_text="The red-flag answers that stopped the booking.")


# --- Catalogue ----------------------------------------------------------------


class ServiceSerializer(serializers.ModelSerializer):
    duration_minutes = serializers.IntegerField(source="duration")

    class Meta:
        model = Service
        fields = ["slug", "name", "duration_minutes", "price_pence", "is_first_session", "bookable_online"]


class PractitionerSerializer(serializers.ModelSerializer):
    name = serializers.CharField()
    services = serializers.SerializerMethodField(help_text="Slugs of the active services this practitioner offers.")

    class Meta:
        model = Practitioner
        fields = ["id", "name", "title", "services"]

    def get_services(self, practitioner) -> list[str]:
        return [s.slug for s in practitioner.services.all() if s.active]


class PractitionerQuerySerializer(serializers.Serializer):
    service = SlugField(max_length=50, required=False, help_text="Only practitioners who offer this service.")


class AvailabilityQuerySerializer(serializers.Serializer):
    service = SlugField(max_length=50, help_text="Service slug.")
    date_from = ClinicDateField(help_text="First London day, YYYY-MM-DD (2000-01-01 to 2100-12-31).")
    date_to = ClinicDateField(
        help_text=f"Last London day, inclusive; not before date_from, at most {MAX_AVAILABILITY_DAYS} days in all."
    )
    practitioner = id_field(required=False, help_text="A practitioner id; omit for any.")

    def validate(self, attrs):
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": "date_to is before date_from."})
        if (attrs["date_to"] - attrs["date_from"]).days + 1 > MAX_AVAILABILITY_DAYS:
            raise serializers.ValidationError({"date_to": f"Ask for at most {MAX_AVAILABILITY_DAYS} days at a time."})
        return attrs


class AvailabilitySerializer(serializers.Serializer):
    service = serializers.CharField()
    slots = SlotSerializer(many=True)


# --- Offers --------------------------------------------------------------------


class OfferClaimSerializer(serializers.Serializer):
    email = EmailField(max_length=254)


class OfferClaimedSerializer(serializers.Serializer):
    """The same answer for every valid address: the code itself goes only by email."""

    detail = serializers.CharField()
    percent_off = serializers.IntegerField()
    validity_hours = serializers.IntegerField()


class OfferCodeSerializer(serializers.Serializer):
    code = serializers.CharField(source="display_code", help_text="As shown to people, e.g. FIRST-7KQ9-M2XD-4R.")
    percent_off = serializers.IntegerField(source="offer.percent_off")
    issued_at = AwareDateTimeField()
    expires_at = AwareDateTimeField()
    state = serializers.SerializerMethodField(help_text="available, reserved, redeemed or expired.")

    def get_state(self, code) -> str:
        return code.state_at()


class OfferValidateSerializer(serializers.Serializer):
    code = TextField(max_length=64)
    service = SlugField(max_length=50)


@extend_schema_field({"type": "boolean", "enum": [True]})
class TrueField(serializers.BooleanField):
    pass


@extend_schema_field({"type": "boolean", "enum": [False]})
class FalseField(serializers.BooleanField):
    pass


class OfferValidResultSerializer(serializers.Serializer):
    valid = TrueField()
    percent_off = serializers.IntegerField()
    discount_pence = serializers.IntegerField()
    amount_due_pence = serializers.IntegerField()
    expires_at = serializers.CharField(help_text="ISO 8601 with offset.")


class OfferRefusedResultSerializer(serializers.Serializer):
    valid = FalseField()
    code = serializers.ChoiceField(
        choices=["unknown", "expired", "used", "not_yours", "not_first_session", "wrong_service"]
    )
    detail = serializers.CharField()
    expired_at = serializers.CharField(required=False, help_text="With code expired: when it expired (ISO 8601).")


# --- Bookings ------------------------------------------------------------------


class IntakeSerializer(serializers.Serializer):
    """Documents the intake's shape; booking.intake.Intake.from_dict is what checks it."""

    pain_areas = serializers.ListField(child=serializers.ChoiceField(choices=list(PAIN_AREAS)), min_length=1)
    side = serializers.ChoiceField(choices=list(SIDES))
    duration_weeks = serializers.IntegerField(min_value=0, max_value=5200)
    numbness = serializers.BooleanField(required=False)
    tingling = serializers.BooleanField(required=False)
    weakness = serializers.BooleanField(required=False)
    previous_injuries = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    bladder_or_bowel_changes = serializers.BooleanField(required=False)
    saddle_numbness = serializers.BooleanField(required=False)
    worsening_weakness_both_legs = serializers.BooleanField(required=False)
    cancer_history = serializers.BooleanField(required=False)
    unexplained_weight_loss = serializers.BooleanField(required=False)
    fever = serializers.BooleanField(required=False)
    recent_trauma = serializers.BooleanField(required=False)
    leg_pain = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10,
        help_text=f"Optional, with activity_limit: {SCALES['leg_pain'][0]} ({', '.join(SCALES['leg_pain'][1])}). "
                  "Recorded as the visit's outcome score, not kept in the intake.")
    activity_limit = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10,
        help_text=f"Optional, with leg_pain: {SCALES['activity_limit'][0]} ({', '.join(SCALES['activity_limit'][1])}).")


@extend_schema_field(IntakeSerializer)
class IntakeField(serializers.DictField):
    """Any JSON object; the intake's rules live in booking.intake (InvalidIntake names bad answers)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict", input_type=type(data).__name__)
        return data


class BookingCreateSerializer(serializers.Serializer):
    service = SlugField(max_length=50)
    start = AwareDateTimeField(help_text="A start from /availability/, with its offset.")
    practitioner = id_field(body=True, required=False, allow_null=True, help_text="Omit or null for any practitioner.")
    offer_code = TextField(required=False, allow_blank=True, allow_null=True, max_length=64)
    intake = IntakeField(required=False, allow_null=True, help_text="Required for a first-session service.")


class BookingCancelSerializer(serializers.Serializer):
    reason = TextField(required=False, allow_blank=True, max_length=2000)


class BookingRescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    practitioner = id_field(body=True, required=False, allow_null=True, help_text="Omit to keep the same practitioner.")


class PractitionerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class BookingSerializer(serializers.ModelSerializer):
    """api.md's booking. Expects service, practitioner__user, offer_code and payments loaded."""

    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    practitioner = PractitionerRefSerializer(read_only=True)
    start = AwareDateTimeField(read_only=True)
    end = AwareDateTimeField(read_only=True)
    status = serializers.SerializerMethodField(
        help_text="held, confirmed, cancelled, expired, attended or no_show. A hold whose time ran out reads "
        "expired at once, before the clean-up job marks it."
    )
    offer_code = serializers.SerializerMethodField()
    hold_expires_at = AwareDateTimeField(read_only=True, allow_null=True)
    checkout_url = serializers.SerializerMethodField(
        help_text="Where to pay while the booking is held; null once paid, or if the payment provider was unreachable."
    )
    created_at = AwareDateTimeField(read_only=True)
    currency = serializers.SerializerMethodField()

    class Meta:
        model = Booking
        fields = [
            "id", "service", "practitioner", "start", "end", "status", "price_pence", "discount_pence",
            "amount_due_pence", "currency", "offer_code", "hold_expires_at", "checkout_url", "created_at",
        ]

    @extend_schema_field(serializers.ChoiceField(choices=Booking.Status.values))
    def get_status(self, booking) -> str:
        return booking.shown_status()

    def get_offer_code(self, booking) -> str | None:
        return booking.offer_code.display_code if booking.offer_code_id else None

    def get_currency(self, booking) -> str:
        return "gbp"

    def get_checkout_url(self, booking) -> str | None:
        if self.get_status(booking) != Booking.Status.HELD:
            return None
        if "checkout_url" in self.context:  # the URL payment_start just made (BookingListCreate.post)
            return self.context["checkout_url"]
        pending = [p for p in booking.payments.all() if p.status == Payment.Status.PENDING and p.checkout_url]
        return pending[-1].checkout_url if pending else None


class CancelledBookingSerializer(BookingSerializer):
    refund_pence = serializers.SerializerMethodField(help_text="What will be refunded to the card (0 inside the policy window).")

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "refund_pence"]

    def get_refund_pence(self, booking) -> int:
        return self.context["refund_pence"]  # from the cancellation's result (BookingCancel.post)
