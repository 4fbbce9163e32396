"""includes/field.html: every kind of field laid out as before, with no lookup the template cannot resolve
(an unresolved lookup costs a dir() of the widget: ~0.3 ms a field, on every form page)."""

import pytest
from django import forms
from django.template.loader import render_to_string

from booking.templatetags.clinic import field_layout


class EveryKind(forms.Form):
    name = forms.CharField(help_text="As on your card.")
    notes = forms.CharField(widget=forms.Textarea)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    agree = forms.BooleanField()
    colour = forms.ChoiceField(choices=[("r", "Red"), ("g", "Green")])
    size = forms.ChoiceField(choices=[("s", "Small"), ("l", "Large")], widget=forms.RadioSelect)
    days = forms.MultipleChoiceField(choices=[("mon", "Monday"), ("tue", "Tuesday")],
                                     widget=forms.CheckboxSelectMultiple)
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")])


EXPECTED = {"name": "plain", "notes": "plain", "day": "plain", "agree": "check", "colour": "plain",
            "size": "radio", "days": "choices", "many": "plain"}


def test_each_widget_gets_its_layout():
    form = EveryKind()
    assert {name: field_layout(form[name]) for name in EXPECTED} == EXPECTED


@pytest.mark.parametrize("bound", [False, True])
def test_no_lookup_in_the_field_template_goes_unresolved(settings, bound):
    settings.TEMPLATES = [{**settings.TEMPLATES[0],
                           "OPTIONS": {**settings.TEMPLATES[0]["OPTIONS"], "string_if_invalid": "UNRESOLVED<%s>"}}]
    form = EveryKind({"name": ""} if bound else None)  # bound and empty: every required field has an error
    for name in EXPECTED:
        html = render_to_string("includes/field.html", {"field": form[name]})
        assert "UNRESOLVED" not in html, (name, html)
        assert f'for="id_{name}' in html


def test_the_layouts_markup():
    form = EveryKind({"name": ""})
    radio = render_to_string("includes/field.html", {"field": form["size"]})
    assert "<fieldset" in radio and "inline-choices" in radio and "<legend>Size</legend>" in radio
    days = render_to_string("includes/field.html", {"field": form["days"]})
    assert "<fieldset" in days and "inline-choices" not in days and 'aria-describedby="id_days_error"' in days
    agree = render_to_string("includes/field.html", {"field": form["agree"]})
    assert '<div class="check">' in agree and "<fieldset" not in agree
    many = render_to_string("includes/field.html", {"field": form["many"]})
    assert "<select" in many and 'multiple' in many and "<fieldset" not in many  # one element, with its label
    name = render_to_string("includes/field.html", {"field": form["name"]})
    assert 'id="id_name_helptext"' in name and 'id="id_name_error"' in name and "<fieldset" not in name
