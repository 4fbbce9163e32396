from django import forms


class ClaimForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email", "placeholder": "you@example.com"}),
    )


class IssueCodeForm(ClaimForm):
    """Admin: reception issues a code by hand for a caller."""

    email = forms.EmailField(label="Caller's email address", max_length=254)
