"""What the clinic asks of a patient around allauth: name and phone."""

from allauth.account.forms import SignupForm
from django import forms

from common.forms import DescribedErrorsMixin

from .models import User

PHONE_HELP = "So the clinic can reach you if something changes, e.g. 07700 900123."


def clean_phone(value: str) -> str:
    value = value.strip()
    digits = [ch for ch in value if ch.isdigit()]
    if value and (len(digits) < 10 or len(digits) > 15 or any(ch not in "0123456789 +-()" for ch in value)):
        raise forms.ValidationError("Enter a phone number with 10 to 15 digits, e.g. 07700 900123.")
    return value


class PatientSignupForm(DescribedErrorsMixin, SignupForm):
    """The website's signup (ACCOUNT_FORMS["signup"]): allauth's, plus name and phone.

    Not ACCOUNT_SIGNUP_FORM_CLASS: that would also make them required by the
    headless API's signup, which API clients do not send.
    """

    first_name = forms.CharField(label="First name", max_length=150,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label="Last name", max_length=150,
                                widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    phone = forms.CharField(label="Mobile phone", max_length=32, help_text=PHONE_HELP,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["first_name", "last_name", "email", "phone", "password1", "password2"])

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])

    def signup(self, request, user):
        user.first_name = self.cleaned_data["first_name"]
        user.last_name = self.cleaned_data["last_name"]
        user.phone = self.cleaned_data["phone"]
        user.save(update_fields=["first_name", "last_name", "phone"])


class ProfileForm(DescribedErrorsMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone"]
        labels = {"phone": "Mobile phone"}
        help_texts = {"phone": PHONE_HELP}
        widgets = {
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.fields:
            self.fields[name].required = True

    def clean_phone(self):
        return clean_phone(self.cleaned_data["phone"])
