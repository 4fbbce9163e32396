from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A clinic user: patient, receptionist or physiotherapist.

    Email is the login (django-allauth); username is kept only because
    Django's admin and createsuperuser expect it, and allauth fills it in.
    """

    email = models.EmailField("email address", unique=True)
    phone = models.CharField(max_length=32, blank=True)

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_reception(self) -> bool:
        return self.is_superuser or self.groups.filter(name="Reception").exists()
