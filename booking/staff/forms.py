"""Reception's forms. They parse and check shapes; the rules live in the services."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.conf import settings

from booking.availability import LONDON, london_datetime
from booking.models import Practitioner, Service, TimeOff, WorkingHours
from accounts.models import User
from common import hostile
from common.clock import london_date, reading_repeats

from . import services as desk


def _clock_choices(first_hour: int = 6, last_hour: int = 22, *, blank: bool = False, include_end: bool = False):
    step = settings.BOOKING_SLOT_MINUTES
    choices = [("", "—")] if blank else []
    minute = first_hour * 60
    last = last_hour * 60 + (0 if include_end else -step)
    while minute <= last:
        label = f"{minute // 60:02d}:{minute % 60:02d}"
        choices.append((label, label))
        minute += step
    return choices


def _parse_clock(value: str) -> time:
    hours, minutes = value[:5].split(":")
    return time(int(hours), int(minutes))


def _offset_text(moment: datetime) -> str:
    total = int(moment.utcoffset().total_seconds()) // 60
    return f"{'+' if total >= 0 else '-'}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


def _is_repeated(day, clock: time) -> bool:
    """A wall-clock reading the fall-back night has twice (01:00-01:59 on the last Sunday of October)."""
    first = london_datetime(day, clock)
    return first is not None and reading_repeats(first)


def clock_value(local: datetime) -> str:
    """The desk's time picker value for a London instant: "HH:MM", with the offset
    ("01:30+01:00", "01:30+00:00") when the reading happens twice that night."""
    if _is_repeated(local.date(), local.time().replace(tzinfo=None)):
        return f"{local:%H:%M}{_offset_text(local)}"
    return f"{local:%H:%M}"


def _fall_back_choices(day, last_hour: int = 22):
    """The clock readings of a fall-back day from midnight, in the order they happen: both readings of
    01:00-01:45, told apart by their offset (BST first, then GMT)."""
    step = timedelta(minutes=settings.BOOKING_SLOT_MINUTES)
    moment = datetime.combine(day, time(0), tzinfo=LONDON)
    choices = []
    while moment.date() == day and moment.hour < last_hour:
        if _is_repeated(day, moment.time().replace(tzinfo=None)):
            zone = moment.tzname()
            choices.append((clock_value(moment), f"{moment:%H:%M} {zone} (UTC{_offset_text(moment)}, "
                                                 f"{'before' if zone == 'BST' else 'after'} the clocks go back)"))
        else:
            choices.append((f"{moment:%H:%M}", f"{moment:%H:%M}"))
        moment = (moment.astimezone(UTC) + step).astimezone(LONDON)  # real minutes: 01:xx comes twice
    return choices


class FallBackTimeMixin:
    """On the fall-back day the time picker starts at midnight and offers both readings of 01:xx."""

    def _fall_back_day(self):
        value = self.data.get(self.add_prefix("date")) if self.is_bound else self.initial.get("date")
        try:
            day = value if hasattr(value, "weekday") else datetime.strptime(str(value or ""), "%Y-%m-%d").date()
        except ValueError:
            return None
        return day if any(_is_repeated(day, time(1, m)) for m in (0, 30)) else None

    def use_fall_back_choices(self):
        day = self._fall_back_day()
        if day is not None:
            self.fields["time"].choices = _fall_back_choices(day)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CalendarDateField(forms.DateField):
    """A date the calendar can hold (common.hostile): year 1 or 9999 would overflow its arithmetic."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DateInput())
        super().__init__(**kwargs)

    def clean(self, value):
        day = super().clean(value)
        if day is not None and not hostile.in_calendar(day):
            raise forms.ValidationError(
                f"Give a date between {hostile.EARLIEST:%-d %B %Y} and {hostile.LATEST:%-d %B %Y}.", code="out_of_range"
            )
        return day


class PractitionerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def local_start(day, clock: time, form: forms.Form, field: str = "time", value: str = "") -> datetime | None:
    start = london_datetime(day, clock)
    if start is None:
        form.add_error(field, "That time does not exist on this day (the clocks go forward).")
    elif len(value) > 5:  # "01:30+00:00": the reading with that offset (the second, after the clocks go back)
        start = next((moment for moment in (start, start.replace(fold=1)) if _offset_text(moment) == value[5:]), None)
        if start is None:
            form.add_error(field, "That time does not happen with that offset on this day.")
    return start


class BookForm(FallBackTimeMixin, forms.Form):
    practitioner = PractitionerChoiceField(queryset=Practitioner.objects.none())
    service = forms.ModelChoiceField(queryset=Service.objects.filter(active=True))
    date = CalendarDateField()
    time = forms.ChoiceField(choices=_clock_choices())
    patient_id = forms.IntegerField(required=False, min_value=1, max_value=hostile.MAX_ID)
    new_first_name = forms.CharField(label="First name", max_length=150, required=False)
    new_last_name = forms.CharField(label="Last name", max_length=150, required=False)
    new_phone = forms.CharField(label="Phone", max_length=32, required=False)
    new_email = forms.EmailField(label="Email", required=False)
    payment = forms.ChoiceField(
        label="Payment",
        widget=forms.RadioSelect,
        choices=[
            (desk.PAY_AT_CLINIC, "Pay at the clinic (take payment when they come)"),
            (desk.PAY_BY_LINK, "Send payment link by email"),
        ],
        initial=desk.PAY_AT_CLINIC,
    )
    hold_minutes = forms.TypedChoiceField(
        label="Hold the slot for (payment link)",
        coerce=int,
        # Stripe Checkout sessions live from 30 minutes to 24 hours; the hold lasts as long as the link.
        choices=[(30, "30 minutes"), (60, "1 hour"), (240, "4 hours"), (720, "12 hours"), (1440, "24 hours")],
        initial=1440,
    )

    def __init__(self, *args, practitioners, patient_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners
        self.patient_choices = list(patient_choices)
        self.use_fall_back_choices()

    def clean(self):
        data = super().clean()
        if data.get("patient_id"):
            data["patient"] = User.objects.filter(pk=data["patient_id"], is_staff=False).first()
            if data["patient"] is None:
                self.add_error(None, "Choose a patient from the search results.")
        else:
            data["patient"] = None
            if not data.get("new_first_name"):
                self.add_error("new_first_name", "Find a patient above, or give the new patient's name.")
            if not data.get("new_phone") and not data.get("new_email"):
                self.add_error("new_phone", "Give a phone number or an email address.")
        if data.get("payment") == desk.PAY_BY_LINK and data.get("patient") is not None:
            if not data["patient"].can_be_emailed:
                self.add_error("payment", "This patient has no email address: take payment at the clinic.")
        if data.get("payment") == desk.PAY_BY_LINK and data.get("patient") is None and not data.get("new_email"):
            self.add_error("new_email", "A payment link needs an email address.")
        if data.get("date") and data.get("time"):
            data["start"] = local_start(data["date"], _parse_clock(data["time"]), self, value=data["time"])
        service, practitioner = data.get("service"), data.get("practitioner")
        if service and practitioner and not practitioner.offers(service):
            self.add_error("service", f"{practitioner.name} does not offer {service.name}.")
        return data


class MoveForm(FallBackTimeMixin, forms.Form):
    practitioner = PractitionerChoiceField(queryset=Practitioner.objects.none())
    date = CalendarDateField()
    time = forms.ChoiceField(choices=_clock_choices())
    reason = forms.CharField(max_length=500, required=False, help_text="Optional; kept in the booking's history.")

    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners
        self.use_fall_back_choices()

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time"):
            data["start"] = local_start(data["date"], _parse_clock(data["time"]), self, value=data["time"])
        return data


class CancelForm(forms.Form):
    REFUND_FULL, REFUND_NONE, REFUND_AMOUNT = "full", "none", "amount"
    refund = forms.ChoiceField(
        widget=forms.RadioSelect,
        choices=[(REFUND_FULL, "Full refund"), (REFUND_NONE, "No refund"), (REFUND_AMOUNT, "Refund this amount")],
        initial=REFUND_FULL,
    )
    amount = forms.CharField(label="Amount (£)", required=False, max_length=12)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)

    def __init__(self, *args, paid_pence: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.paid_pence = paid_pence

    def clean(self):
        data = super().clean()
        choice = data.get("refund")
        if choice == self.REFUND_FULL:
            data["refund_pence"] = self.paid_pence
        elif choice == self.REFUND_NONE:
            data["refund_pence"] = 0
        elif choice == self.REFUND_AMOUNT:
            # Bounded (common.hostile): NaN, sNaN, 1e999999, negatives and a third decimal are refused.
            pounds = hostile.parse_pounds(data.get("amount") or "")
            if pounds is None:
                self.add_error("amount", "Give an amount in pounds and pence, e.g. 30 or 37.50.")
                return data
            # Decimal takes NaN, sNaN, Infinity and 1e999999: none is an amount (and sNaN raises
            # on comparison). Bounded before any arithmetic.
            if not pounds.is_finite() or abs(pounds) > 100_000:
                self.add_error("amount", "Give an amount in pounds, e.g. 30 or 37.50.")
                return data
            pence = pounds * 100
            if pence > self.paid_pence:
                self.add_error("amount", f"At most £{self.paid_pence / 100:.2f} was paid.")
            else:
                data["refund_pence"] = int(pence)
        return data


class TimeOffForm(forms.Form):
    practitioner = PractitionerChoiceField(queryset=Practitioner.objects.none())
    date = CalendarDateField(label="From date")
    start_time = forms.ChoiceField(label="From", choices=_clock_choices(0, 24, include_end=False))
    end_date = CalendarDateField(label="To date", required=False,
                               help_text="Leave empty for the same day.")
    end_time = forms.ChoiceField(label="To", choices=_clock_choices(0, 24, include_end=True)[1:])
    reason = forms.ChoiceField(choices=TimeOff.Reason.choices)
    note = forms.CharField(max_length=200, required=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, practitioners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["practitioner"].queryset = practitioners

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("start_time") and data.get("end_time"):
            end_day = data.get("end_date") or data["date"]
            data["start"] = local_start(data["date"], _parse_clock(data["start_time"]), self, "start_time")
            if data["end_time"] == "24:00":
                data["end"] = datetime.combine(end_day + timedelta(days=1), time(0), tzinfo=LONDON)
            else:
                data["end"] = local_start(end_day, _parse_clock(data["end_time"]), self, "end_time")
            if data["start"] and data["end"] and data["end"] <= data["start"]:
                self.add_error("end_time", "The end must be after the start.")
        return data


WEEKDAYS = WorkingHours.Weekday.choices
INTERVALS = (1, 2)


class WorkingHoursForm(forms.Form):
    """Two intervals per weekday (e.g. morning and afternoon around lunch); empty = not working."""

    effective_from = CalendarDateField(label="New hours apply from")
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for weekday, label in WEEKDAYS:
            for n in INTERVALS:
                for part in ("start", "end"):
                    self.fields[f"d{weekday}_{n}_{part}"] = forms.ChoiceField(
                        label=f"{label} {'start' if part == 'start' else 'end'}{' (2nd)' if n == 2 else ''}",
                        choices=_clock_choices(6, 22, blank=True, include_end=True),
                        required=False,
                    )

    @staticmethod
    def initial_from(rows) -> dict:
        initial = {}
        by_day: dict[int, list] = {}
        for row in rows:
            by_day.setdefault(row.weekday, []).append(row)
        for weekday, day_rows in by_day.items():
            for n, row in zip(INTERVALS, sorted(day_rows, key=lambda r: r.start_time)):
                initial[f"d{weekday}_{n}_start"] = f"{row.start_time:%H:%M}"
                initial[f"d{weekday}_{n}_end"] = f"{row.end_time:%H:%M}"
        return initial

    def days(self):
        """(label, [(start field, end field), ...]) per weekday, for the template."""
        return [
            (label, [(self[f"d{weekday}_{n}_start"], self[f"d{weekday}_{n}_end"]) for n in INTERVALS])
            for weekday, label in WEEKDAYS
        ]

    def clean(self):
        data = super().clean()
        rows = []
        for weekday, label in WEEKDAYS:
            for n in INTERVALS:
                start, end = data.get(f"d{weekday}_{n}_start"), data.get(f"d{weekday}_{n}_end")
                if not start and not end:
                    continue
                if not start or not end:
                    self.add_error(f"d{weekday}_{n}_start", f"{label}: give both a start and an end.")
                    continue
                start_t, end_t = _parse_clock(start), _parse_clock(end)
                if end_t <= start_t:
                    self.add_error(f"d{weekday}_{n}_end", f"{label}: the end must be after the start.")
                    continue
                rows.append(desk.HoursRow(weekday, start_t, end_t))
        data["rows"] = rows
        return data


def today_london():
    return london_date()


class TakePaymentForm(forms.Form):
    method = forms.ChoiceField(
        label="Taken by", widget=forms.RadioSelect,
        choices=[("card_terminal", "Card terminal"), ("cash", "Cash")], initial="card_terminal",
    )
