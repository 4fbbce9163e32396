from django import forms

from .models import ACTIVITY_ENDS, ACTIVITY_QUESTION, LEG_PAIN_ENDS, LEG_PAIN_QUESTION

SCALE = [(n, str(n)) for n in range(11)]


def _scale(label, ends):
    return forms.TypedChoiceField(label=label, choices=SCALE, coerce=int, widget=forms.RadioSelect,
                                  help_text=f"{ends[0]}, {ends[1]}.", error_messages={"required": "Choose 0 to 10."})


class ScoresForm(forms.Form):
    leg_pain = _scale(LEG_PAIN_QUESTION, LEG_PAIN_ENDS)
    activity_limit = _scale(ACTIVITY_QUESTION, ACTIVITY_ENDS)
