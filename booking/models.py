"""The clinic's calendar: services, practitioners, hours, time off, bookings."""

from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.db import models
from django.db.models import Func, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from .intake import URGENT_CALL_FLAG


class Service(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    duration = models.PositiveSmallIntegerField(help_text="Minutes with the patient.")
    buffer_after = models.PositiveSmallIntegerField(default=0, help_text="Minutes kept free after it.")
    price_pence = models.PositiveIntegerField(help_text="Integer pence, GBP.")
    is_first_session = models.BooleanField(
        default=False, help_text="An initial assessment: the first-session offer applies and intake is required."
    )
    bookable_online = models.BooleanField(default=True)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def blocked_minutes(self) -> int:
        return self.duration + self.buffer_after


class PractitionerQuerySet(models.QuerySet):
    def offering(self, service):
        """Practitioners who offer the service: active, and the service is theirs. The one answer to
        "does this practitioner offer this service?" (Practitioner.offers asks it too)."""
        return self.filter(active=True, services=service)


class Practitioner(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="practitioner")
    services = models.ManyToManyField(Service, related_name="practitioners", blank=True)
    colour = models.CharField(max_length=7, default="#2f6f8f", help_text="Calendar colour, #rrggbb.")
    title = models.CharField(max_length=120, blank=True, help_text="e.g. Senior physiotherapist, MCSP")
    bio = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = PractitionerQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.user.get_full_name() or self.user.email

    def offers(self, service) -> bool:
        return Practitioner.objects.offering(service).filter(pk=self.pk).exists()


class WorkingHours(models.Model):
    """A weekly interval of work in London wall-clock time; several a day allowed."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    valid_from = models.DateField(null=True, blank=True)
    valid_until = models.DateField(null=True, blank=True, help_text="Last day these hours apply (inclusive).")

    class Meta:
        ordering = ["practitioner", "weekday", "start_time"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(condition=Q(end_time__gt=models.F("start_time")), name="hours_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.practitioner} {self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    def applies_on(self, day) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


class TimeOff(models.Model):
    class Reason(models.TextChoices):
        HOLIDAY = "holiday", "Holiday"
        TRAINING = "training", "Training"
        LUNCH = "lunch", "Lunch"
        ADMIN = "admin", "Admin"
        SICK = "sick", "Sick leave"
        OTHER = "other", "Other"

    practitioner = models.ForeignKey(Practitioner, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.OTHER)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        indexes = [models.Index(fields=["practitioner", "end"])]
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="time_off_end_after_start")]

    def __str__(self) -> str:
        return f"{self.practitioner}: {self.get_reason_display()} {self.start:%Y-%m-%d %H:%M}"


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint on PostgreSQL; nothing on SQLite.

    SQLite has no exclusion constraints: there booking_hold's IMMEDIATE
    transaction and overlap check decide instead.
    """

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using="default"):
        from django.db import connections

        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


def awaiting_payment_q(now) -> Q:
    """Booking.awaiting_payment in SQL, for a filter that needs it inside an OR."""
    return Q(status=Booking.Status.HELD, hold_expires_at__gt=now)


def hold_lapsed_q(now) -> Q:
    """Booking.hold_lapsed in SQL."""
    return Q(status=Booking.Status.HELD, hold_expires_at__lte=now)


class BookingQuerySet(models.QuerySet):
    def with_taken_pence(self):
        """Annotate taken_pence: the money taken for each booking (payments succeeded, then maybe refunded).

        The payment model is reached through the relation, not imported: payments sits above booking.
        """
        payment = Booking._meta.get_field("payments").related_model
        taken = (
            payment.objects.filter(booking=OuterRef("pk"), status__in=payment.PAID_STATUSES, auto_refunded=False)
            .order_by()
            .values("booking")
            .annotate(total=Sum("amount_pence"))
            .values("total")
        )
        return self.annotate(taken_pence=Coalesce(Subquery(taken), 0))

    def blocking(self, now=None):
        """Bookings that hold their time: confirmed, attended, or held with an unexpired hold."""
        return self.filter(Q(status__in=Booking.FIRM_STATUSES) | awaiting_payment_q(now or timezone.now()))

    def awaiting_payment(self, now=None):
        """Holds whose time has not run out (Booking.awaiting_payment, in SQL)."""
        return self.filter(awaiting_payment_q(now or timezone.now()))

    def holds_lapsed(self, now=None):
        """Still HELD but their time ran out: they read expired until the clean-up job marks them."""
        return self.filter(hold_lapsed_q(now or timezone.now()))

    def overlapping(self, start, end):
        """Bookings whose blocked time (including buffer) meets [start, end)."""
        return self.filter(start__lt=end, blocks_until__gt=start)


class Booking(models.Model):
    class Status(models.TextChoices):
        HELD = "held", "Held (awaiting payment)"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired (hold lapsed)"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "No-show"

    class Source(models.TextChoices):
        ONLINE = "online", "Online"
        RECEPTION = "reception", "Reception"
        # Held for a waiting patient by the clinic's offer (the waitlist app), not by the patient.
        WAITLIST = "waitlist", "Waitlist offer"

    # Statuses whose time is kept whatever the clock says; HELD blocks only until hold_expires_at.
    FIRM_STATUSES = (Status.CONFIRMED, Status.ATTENDED)
    # Statuses in the database exclusion constraint. A lapsed hold is still HELD
    # until someone marks it expired; booking_hold does that under the practitioner
    # lock before inserting, so a lapsed hold never blocks a new booking.
    CONSTRAINED_STATUSES = (Status.HELD, Status.CONFIRMED, Status.ATTENDED)

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings")
    practitioner = models.ForeignKey(Practitioner, on_delete=models.PROTECT, related_name="bookings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # end + the service's buffer at booking time. Stored because the exclusion
    # constraint needs the whole blocked range on the row itself.
    blocks_until = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    price_pence = models.PositiveIntegerField()
    discount_pence = models.PositiveIntegerField(default=0)
    amount_due_pence = models.PositiveIntegerField()
    offer_code = models.ForeignKey(
        "offers.OfferCode", null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    intake = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True, help_text="Clinical flags for the physiotherapist.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ONLINE)
    arrived_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["-start"]
        indexes = [
            # The availability read: active bookings whose blocked time ends after
            # the range start. Partial, so past and cancelled rows are never scanned.
            models.Index(
                fields=["blocks_until", "practitioner"],
                name="booking_active_until_idx",
                condition=Q(status__in=["held", "confirmed", "attended"]),
            ),
            models.Index(fields=["practitioner", "start"], name="booking_practitioner_start_idx"),
            models.Index(fields=["patient", "-start"], name="booking_patient_start_idx"),
            models.Index(fields=["status", "hold_expires_at"], name="booking_status_hold_idx"),
            # The owner's reports read bookings by start across every practitioner (reports.figures).
            models.Index(fields=["start"], name="booking_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="booking_end_after_start"),
            models.CheckConstraint(condition=Q(blocks_until__gte=models.F("end")), name="booking_blocks_after_end"),
            models.CheckConstraint(
                condition=Q(amount_due_pence=models.F("price_pence") - models.F("discount_pence")),
                name="booking_amount_due_is_price_less_discount",
            ),
            PostgresExclusionConstraint(
                name="booking_no_overlap_per_practitioner",
                expressions=[
                    ("practitioner", RangeOperators.EQUAL),
                    (TsTzRange("start", "blocks_until", models.Value("[)")), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=["held", "confirmed", "attended"]),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.service} with {self.practitioner} at {timezone.localtime(self.start):%Y-%m-%d %H:%M}"

    # A booking's state, asked here by every page, serializer, template and the calendar.

    @staticmethod
    def row_awaiting_payment(status: str, hold_expires_at, now) -> bool:
        """The rule on plain values (the calendar reads rows, not instances): held, and the hold not lapsed."""
        return status == Booking.Status.HELD and hold_expires_at is not None and hold_expires_at > now

    @staticmethod
    def row_shown_status(status: str, hold_expires_at, now) -> str:
        """A lapsed hold reads expired at once, before the clean-up job marks it; other statuses as they are."""
        if status == Booking.Status.HELD and not Booking.row_awaiting_payment(status, hold_expires_at, now):
            return Booking.Status.EXPIRED.value
        return str(status)

    def awaiting_payment(self, now=None) -> bool:
        """Held and the hold not lapsed: the time is kept while the patient pays."""
        return self.row_awaiting_payment(self.status, self.hold_expires_at, now or timezone.now())

    def hold_lapsed(self, now=None) -> bool:
        """Still HELD in the database, but its time ran out (the clean-up job has not marked it yet)."""
        return self.status == self.Status.HELD and not self.awaiting_payment(now)

    def shown_status(self, now=None) -> str:
        """The status to show anyone (row_shown_status)."""
        return self.row_shown_status(self.status, self.hold_expires_at, now or timezone.now())

    def is_blocking(self, now=None) -> bool:
        """Keeps its time: confirmed, attended, or awaiting payment."""
        return self.status in self.FIRM_STATUSES or self.awaiting_payment(now)

    # A confirmed booking owes its price until it is paid: reception's "pay at
    # the clinic" confirms with the amount still due.
    OWING_STATUSES = ("confirmed", "attended", "no_show")

    def balance_due(self, taken_pence: int) -> int:
        """What is still owed, given the money taken for it (refunds never make it owed again)."""
        if self.status not in self.OWING_STATUSES:
            return 0
        return max(self.amount_due_pence - taken_pence, 0)

    @property
    def intake_pending(self) -> bool:
        """A first session with no intake answers yet (booked by phone): the patient has an intake link."""
        return self.service.is_first_session and not self.intake and self.status in (
            self.Status.HELD, self.Status.CONFIRMED
        )

    @property
    def needs_urgent_call(self) -> bool:
        """Cauda equina signs answered through the intake link: reception calls the patient at once."""
        return URGENT_CALL_FLAG in (self.flags or [])

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


class BookingEvent(models.Model):
    """The event log: every change to a booking, who made it, when and why."""

    class Action(models.TextChoices):
        HELD = "held", "Held"
        CONFIRMED = "confirmed", "Confirmed"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"
        RESCHEDULED = "rescheduled", "Rescheduled"
        ARRIVED = "arrived", "Arrived"
        ATTENDED = "attended", "Attended"
        NO_SHOW = "no_show", "No-show"
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"
        REMINDER = "reminder", "Reminder sent"
        NOTE = "note", "Note"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor or 'system'} at {self.at:%Y-%m-%d %H:%M}"


class UrgentAdvice(models.Model):
    """A record that urgent-care advice was shown (cauda equina signs answered yes).

    For the clinical lead's audit of the screening: when, which signs, and where.
    Online and API screenings book nothing, so they name no booking and no patient;
    an answer through a phone booking's intake link names that booking (flagged).
    """

    class Source(models.TextChoices):
        ONLINE = "online", "Online booking form"
        API = "api", "API"
        INTAKE_LINK = "intake_link", "Intake link (phone booking)"

    shown_at = models.DateTimeField(default=timezone.now, db_index=True)
    signs = models.JSONField(default=list)
    source = models.CharField(max_length=16, choices=Source.choices)
    booking = models.ForeignKey(Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="urgent_advice")

    class Meta:
        ordering = ["-shown_at"]
        verbose_name_plural = "urgent advice shown"

    def __str__(self) -> str:
        return f"Urgent advice ({self.get_source_display()}) at {timezone.localtime(self.shown_at):%Y-%m-%d %H:%M}"
