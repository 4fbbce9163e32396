from django import forms

from accounts.models import User
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


class DeskExportForm(DescribedErrorsMixin, forms.Form):
    """Reception produces a patient's export for a request made by phone or in person."""

    email = forms.EmailField(label="Patient's email address")
    channel = forms.ChoiceField(
        label="Request made",
        choices=[(DataRequest.Channel.PHONE, "By phone"), (DataRequest.Channel.IN_PERSON, "In person")],
    )
    note = forms.CharField(
        label="How you checked who they are", max_length=200,
        help_text="e.g. date of birth and last appointment confirmed.",
    )

    def clean_email(self):
        email = self.cleaned_data["email"]
        patient = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if patient is None:
            raise forms.ValidationError("No patient has that email address.")
        self.patient = patient
        return email
