"""Forms of the patient's pages. They shape input; the rules stay in services."""

from django import forms

from common.forms import DescribedErrorsMixin

from .intake import FLAG_SIGNS, PAIN_AREAS, SIDES, URGENT_SIGNS, Intake

YES_NO = [("no", "No"), ("yes", "Yes")]


def _yes_no(label: str) -> forms.ChoiceField:
    # An explicit answer for each safety question: an unticked box cannot tell
    # "no" from "did not read it". "No" comes first so Tab then Space answers it.
    return forms.ChoiceField(label=label, choices=YES_NO, widget=forms.RadioSelect,
                             error_messages={"required": "Answer yes or no."})


class IntakeForm(DescribedErrorsMixin, forms.Form):
    """The sciatica questionnaire (api.md's intake fields)."""

    pain_areas = forms.MultipleChoiceField(
        label="Where do you feel the pain?",
        choices=list(PAIN_AREAS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick every area that hurts.",
        error_messages={"required": "Tick at least one area."},
    )
    side = forms.ChoiceField(label="Which side?", choices=list(SIDES.items()), widget=forms.RadioSelect,
                             error_messages={"required": "Choose left, right or both."})
    duration_weeks = forms.IntegerField(
        label="How many weeks have you had this pain?", min_value=0, max_value=5200,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"required": "Enter the number of weeks (0 if under a week)."},
    )
    numbness = forms.BooleanField(label="Numbness in the leg or foot", required=False)
    tingling = forms.BooleanField(label="Tingling or pins and needles", required=False)
    weakness = forms.BooleanField(label="Weakness in the leg or foot", required=False)
    previous_injuries = forms.CharField(
        label="Previous back or leg injuries or operations (optional)", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    URGENT_FIELDS = tuple(URGENT_SIGNS)
    FLAG_FIELDS = tuple(FLAG_SIGNS)
    SYMPTOM_FIELDS = ("numbness", "tingling", "weakness")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in {**URGENT_SIGNS, **FLAG_SIGNS}.items():
            self.fields[name] = _yes_no(label)

    def urgent_fields(self):
        return [self[name] for name in self.URGENT_FIELDS]

    def flag_fields(self):
        return [self[name] for name in self.FLAG_FIELDS]

    def symptom_fields(self):
        return [self[name] for name in self.SYMPTOM_FIELDS]

    def intake(self) -> Intake:
        data = dict(self.cleaned_data)
        for name in (*URGENT_SIGNS, *FLAG_SIGNS):
            data[name] = data[name] == "yes"
        return Intake.from_dict(data)

    def raw_answers(self) -> dict:
        """The submitted answers in the intake's shape, unchecked (yes/no become booleans when they are)."""
        data = {}
        for name, field in self.fields.items():
            if isinstance(field, forms.MultipleChoiceField):
                data[name] = self.data.getlist(name) if hasattr(self.data, "getlist") else self.data.get(name, [])
            elif name in self.data:
                data[name] = self.data.get(name)
        for name in ("numbness", "tingling", "weakness"):
            data[name] = name in self.data
        for name in (*URGENT_SIGNS, *FLAG_SIGNS):
            if data.get(name) in ("yes", "no"):
                data[name] = data[name] == "yes"
        if isinstance(data.get("duration_weeks"), str) and data["duration_weeks"].strip().isdigit():
            data["duration_weeks"] = int(data["duration_weeks"])
        return data

    @classmethod
    def initial_from(cls, intake: dict | None, *, ask_urgent_again: bool = False) -> dict:
        """Pre-fill from a saved intake (coming back to the step, or a returning patient's last answers:
        then the urgent questions are left blank, to be answered for today)."""
        if not intake:
            return {}
        initial = {k: v for k, v in intake.items() if not (ask_urgent_again and k in URGENT_SIGNS)}
        for name in (*URGENT_SIGNS, *FLAG_SIGNS):
            if name in initial:
                initial[name] = "yes" if initial[name] else "no"
        return initial


class OfferCodeForm(DescribedErrorsMixin, forms.Form):
    offer_code = forms.CharField(
        label="Offer code", required=False, max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        help_text="Have a first-session code? Enter it and press Apply.",
    )


class CancelForm(DescribedErrorsMixin, forms.Form):
    reason = forms.CharField(label="Reason (optional)", required=False, max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))
