from datetime import timedelta

from django import forms

from common.clock import london_date
from common.forms import DescribedErrorsMixin

from .totals import Period

MAX_DAYS = 731  # two years: enough to compare one year with the last


class PeriodForm(DescribedErrorsMixin, forms.Form):
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    @classmethod
    def from_query(cls, query):
        """Bound to the query string, or to the last 30 days when none is given."""
        if "date_from" in query or "date_to" in query:
            return cls(query)
        today = london_date()
        return cls({"date_from": today - timedelta(days=29), "date_to": today})

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", "The end date is before the start date.")
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("date_to", f"Choose a period of at most {MAX_DAYS} days.")
        return cleaned

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["date_from"], self.cleaned_data["date_to"])
