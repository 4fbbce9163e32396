from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A clinic user: patient, receptionist or physiotherapist.

    Email is the login (django-allauth); username is kept only because
    Django's admin and createsuperuser expect it, and allauth fills it in.
    """

    # A patient booked by phone may have no email address; the column is unique
    # and required, so they get one in the reserved .invalid domain (RFC 2606)
    # that nothing is ever sent to.
    NO_EMAIL_DOMAIN = "no-email.invalid"

    email = models.EmailField("email address", unique=True)
    phone = models.CharField(max_length=32, blank=True)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    @property
    def can_be_emailed(self) -> bool:
        return bool(self.email) and not self.email.endswith("@" + self.NO_EMAIL_DOMAIN)
