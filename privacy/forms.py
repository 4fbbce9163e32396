from django import forms

from accounts.models import User
from common import hostile
from common.forms import DescribedErrorsMixin

from .models import DataRequest


class ErasureForm(DescribedErrorsMixin, forms.Form):
    password = forms.CharField(
        label="Your password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirm = forms.BooleanField(label="I understand that my account and personal details will be deleted.")

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That password is not right.")
        return password


DESK_CHANNELS = [(DataRequest.Channel.PHONE, "By phone"), (DataRequest.Channel.IN_PERSON, "In person")]


class DeskExportForm(DescribedErrorsMixin, forms.Form):
    """Reception produces a patient's export for a request made by phone or in person."""

    email = forms.EmailField(label="Patient's email address")
    channel = forms.ChoiceField(label="Request made", choices=DESK_CHANNELS)
    note = forms.CharField(
        label="How you checked who they are", max_length=200,
        help_text="e.g. \"DOB and last appointment confirmed\". Kept after an erasure: write how you checked, not the details themselves (no name, date of birth, email or phone).",
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        patient = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if patient is None:
            raise forms.ValidationError("No patient has that email address.")
        self.patient = patient
        return email


class DeskErasureForm(DescribedErrorsMixin, forms.Form):
    """Reception erases a patient's account for a request made by phone or in person (step 2: the patient is found)."""

    patient = forms.CharField(widget=forms.HiddenInput, error_messages={"required": "Find the patient first."})
    channel = forms.ChoiceField(label="Request made", choices=DESK_CHANNELS, widget=forms.RadioSelect)
    identity_confirmed = forms.BooleanField(
        label="I have confirmed the caller is this patient (e.g. date of birth and last appointment).",
        error_messages={"required": "Confirm you checked who the caller is."},
    )
    note = forms.CharField(
        label="Reason and how you checked who they are", max_length=200,
        help_text="Logged with your name and kept after the erasure, e.g. \"Asked to delete account by phone; DOB and last visit confirmed.\" Write how you checked, not the details themselves (no name, date of birth, email or phone).",
    )

    def clean_patient(self):
        pk = hostile.parse_id(self.cleaned_data["patient"])
        patient = User.objects.filter(pk=pk, is_active=True).first() if pk else None
        if patient is None:
            raise forms.ValidationError("That patient is no longer on file.")
        self.patient = patient
        return patient.pk


class RetainedAccessForm(DescribedErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Why you need to open this record", max_length=200,
        help_text="Logged with your name and the time, e.g. \"Insurer's claim ref 1234\" or \"Court order\".",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if len(reason) < 5:
            raise forms.ValidationError("Give the reason in a few words.")
        return reason
