from django import forms

from common.forms import DescribedErrorsMixin

from .models import AFTERNOON, MORNING

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"),
            (6, "Sunday")]


class WaitlistJoinForm(DescribedErrorsMixin, forms.Form):
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = forms.DateField(label="Until (inclusive)", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    weekdays = forms.TypedMultipleChoiceField(
        label="Which days suit you? (none ticked: any day)", choices=WEEKDAYS, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    times_of_day = forms.MultipleChoiceField(
        label="What time of day? (none ticked: any time)", required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(MORNING, "Morning (before 12:00)"), (AFTERNOON, "Afternoon and evening")],
    )


class OfferReceptionForm(forms.Form):
    slot = forms.CharField(label="Time to offer")
