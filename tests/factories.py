"""factory-boy factories for the whole suite. Times are aware; money is pence."""

from datetime import time, timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from booking.models import Booking, Practitioner, Service, TimeOff, WorkingHours
from offers.models import Offer, OfferCode

PASSWORD = "correct-horse-battery"  # every factory-made user's password


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"patient{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Ient{n}")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def email_verified(self, create, extracted, **kwargs):
        """allauth's verified, primary address (as after clicking the confirmation link);
        UserFactory(email_verified=False) for an account that has not confirmed it."""
        if create and extracted is not False:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(user=self, email=self.email, defaults={"verified": True, "primary": True})


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@clinic.example")
    is_staff = True


class ReceptionistFactory(StaffFactory):
    email = factory.Sequence(lambda n: f"reception{n}@clinic.example")

    @factory.post_generation
    def reception_group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get_or_create(name="Reception")[0])


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ["slug"]

    name = "Sciatica assessment"
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    duration = 45
    buffer_after = 15
    price_pence = 7500
    is_first_session = True
    bookable_online = True


class FollowUpFactory(ServiceFactory):
    name = "Follow-up treatment"
    duration = 30
    buffer_after = 0
    price_pence = 6000
    is_first_session = False


class PractitionerFactory(factory.django.DjangoModelFactory):
    """A practitioner who works Monday to Saturday 09:00-17:00 unless told otherwise (hours=[])."""

    class Meta:
        model = Practitioner
        skip_postgeneration_save = True

    user = factory.SubFactory(StaffFactory, first_name="Alex", last_name=factory.Sequence(lambda n: f"Physio{n}"))
    colour = "#2f6f8f"

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.add(*extracted)

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if not create:
            return
        rows = extracted if extracted is not None else [(day, time(9), time(17)) for day in range(6)]
        for weekday, start, end in rows:
            WorkingHours.objects.create(practitioner=self, weekday=weekday, start_time=start, end_time=end)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    practitioner = factory.SubFactory(PractitionerFactory)
    reason = TimeOff.Reason.HOLIDAY


class BookingFactory(factory.django.DjangoModelFactory):
    """A confirmed booking written directly (no rules checked): for arranging calendars in tests."""

    class Meta:
        model = Booking

    patient = factory.SubFactory(UserFactory)
    practitioner = factory.SubFactory(PractitionerFactory)
    service = factory.SubFactory(ServiceFactory)
    start = factory.LazyFunction(lambda: timezone.now().replace(second=0, microsecond=0) + timedelta(days=3))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=o.service.duration))
    blocks_until = factory.LazyAttribute(lambda o: o.end + timedelta(minutes=o.service.buffer_after))
    status = Booking.Status.CONFIRMED
    price_pence = factory.LazyAttribute(lambda o: o.service.price_pence)
    discount_pence = 0
    amount_due_pence = factory.LazyAttribute(lambda o: o.price_pence - o.discount_pence)


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer
        skip_postgeneration_save = True

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.add(*extracted)


class OfferCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OfferCode

    offer = factory.SubFactory(OfferFactory)
    code = factory.Sequence(lambda n: f"FIRST{n:010d}".replace("0", "A").replace("1", "B"))
    email = factory.Sequence(lambda n: f"claimant{n}@example.com")
    issued_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.issued_at + timedelta(hours=24))
