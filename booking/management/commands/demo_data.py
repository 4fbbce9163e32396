"""A believable clinic to click around in: `python manage.py demo_data` (used by `make demo`).

Idempotent: people, services, hours and the offer are looked up by natural
keys and updated in place; bookings and the holiday are only created when the
demo has none yet. Bookings are relative to today, so a fresh demo always has
history behind it and free time ahead of it. Every booking goes through the
booking services (hold, confirm or pay at the clinic, mark attended or no-show),
so the event log, payments and offer rules look exactly as real ones would.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from common.clock import london_date
from accounts.models import User
from booking import availability, services
from booking.exceptions import BookingError
from booking.models import Booking, BookingEvent, Practitioner, Service, TimeOff, WorkingHours
from offers.models import Offer
from payments import services as payments

LONDON = availability.LONDON
DEMO_DOMAIN = "physiobook.local"
PATIENT_DOMAIN = "example.com"
SEED = 20270111

ADMIN = ("admin@physiobook.local", "admin-demo-2027", "Clinic", "Owner")
RECEPTION = ("reception@physiobook.local", "reception-demo-2027", "Rosie", "Bennett")
PATIENT = ("patient@physiobook.local", "patient-demo-2027", "Sam", "Taylor")
PHYSIO_PASSWORD = "physio-demo-2027"

SERVICES = [
    # slug, name, duration, buffer, pence, first session, description
    ("sciatica-assessment", "Sciatica assessment", 45, 15, 7500, True,
     "A full assessment of back and leg pain with a treatment plan. Wear loose clothing."),
    ("follow-up-treatment", "Follow-up treatment", 30, 0, 6000, False,
     "Treatment and exercise review for existing patients."),
    ("sports-massage", "Sports massage", 60, 0, 7000, False,
     "Deep tissue massage for recovery and tight muscles."),
]

MON, TUE, WED, THU, FRI, SAT = range(6)


def split_day(*days, start=time(9), lunch=(time(13), time(14)), end=time(18)):
    return [(day, start, lunch[0]) for day in days] + [(day, lunch[1], end) for day in days]


PHYSIOS = [
    # email, first, last, title, colour, services, weekly hours
    ("sarah.okafor", "Sarah", "Okafor", "Senior physiotherapist, MCSP", "#2f6f8f",
     ["sciatica-assessment", "follow-up-treatment"], split_day(MON, TUE, WED, THU, FRI)),
    ("james.whitfield", "James", "Whitfield", "Physiotherapist, MCSP", "#8f4a2f",
     ["sciatica-assessment", "follow-up-treatment"],
     split_day(MON, WED, THU, start=time(8), lunch=(time(12, 30), time(13, 30)), end=time(17))
     + [(SAT, time(9), time(13))]),
    ("priya.natarajan", "Priya", "Natarajan", "Sports physiotherapist, MCSP", "#5a7d2a",
     ["sciatica-assessment", "follow-up-treatment", "sports-massage"],
     split_day(TUE, THU, start=time(11), lunch=(time(14), time(15)), end=time(20)) + [(FRI, time(9), time(13))]),
    ("tom.gallagher", "Tom", "Gallagher", "Musculoskeletal physiotherapist", "#6b3f8f",
     ["sciatica-assessment", "follow-up-treatment", "sports-massage"],
     split_day(MON, TUE, WED, THU, lunch=(time(12, 30), time(13, 30)), end=time(17, 30))),
]
HOLIDAY_PHYSIO = "tom.gallagher"
# Bookings run from DAYS_BEHIND days before today to DAYS_AHEAD days after it (tests use fewer).
DAYS_BEHIND, DAYS_AHEAD = 21, 14

PATIENT_NAMES = [
    ("Olivia", "Hughes"), ("Amir", "Khan"), ("Grace", "O'Neill"), ("Daniel", "Evans"), ("Chloe", "Martin"),
    ("Kwame", "Mensah"), ("Hannah", "Wright"), ("Luca", "Rossi"), ("Fatima", "Ali"), ("George", "Clarke"),
    ("Mei", "Chen"), ("Oscar", "Price"), ("Isla", "Murphy"), ("Tomasz", "Nowak"), ("Ruby", "Walsh"),
]

INTAKES = [
    {"pain_areas": ["lower_back", "buttock", "thigh"], "side": "left", "duration_weeks": 3, "tingling": True},
    {"pain_areas": ["lower_back", "calf"], "side": "right", "duration_weeks": 10, "numbness": True},
    {"pain_areas": ["buttock", "thigh", "calf", "foot"], "side": "both", "duration_weeks": 2, "weakness": True,
     "previous_injuries": "Slipped disc in 2019."},
    {"pain_areas": ["lower_back"], "side": "both", "duration_weeks": 6, "cancer_history": True},
]


def ensure_user(email, password, first, last, *, staff=False, superuser=False) -> User:
    user, _ = User.objects.get_or_create(email=email, defaults={"username": email})
    user.username = email
    user.first_name, user.last_name = first, last
    user.is_staff = staff or superuser
    user.is_superuser = superuser
    user.set_password(password)
    user.save()
    # allauth logs in by a verified, primary EmailAddress row.
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


class Command(BaseCommand):
    help = "Create (or refresh) a demo clinic: 4 physiotherapists, 3 services, hours, bookings, logins."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the logins.")
        parser.add_argument(
            "--force", action="store_true",
            help="Run even with DEBUG=0. It resets a superuser to a password printed in the README: never in production.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            # The demo logins (a superuser among them) have published passwords.
            raise CommandError(
                "demo_data refuses to run with DEBUG=0: it creates a superuser and staff with passwords "
                "published in the README. Use --force only on a throwaway demo server."
            )
        # Demo bookings would otherwise print dozens of confirmation emails.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with transaction.atomic():
                summary = self.build()
        self.report(summary, quiet=options["quiet_logins"])

    # --- the clinic ---------------------------------------------------------

    def build(self) -> dict:
        ensure_user(*ADMIN, superuser=True)
        reception = ensure_user(*RECEPTION, staff=True)
        group, _ = Group.objects.get_or_create(name="Reception")
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label__in=["booking", "payments", "offers"],
                codename__regex=r"^(view|add|change)_",
            )
        )
        reception.groups.add(group)
        patient = ensure_user(*PATIENT)

        services_by_slug = {}
        for position, (slug, name, duration, buffer, pence, first, description) in enumerate(SERVICES):
            service, _ = Service.objects.update_or_create(
                slug=slug,
                defaults=dict(
                    name=name, duration=duration, buffer_after=buffer, price_pence=pence,
                    is_first_session=first, bookable_online=True, active=True, position=position,
                    description=description,
                ),
            )
            services_by_slug[slug] = service

        physios = {}
        for position, (handle, first, last, title, colour, slugs, hours) in enumerate(PHYSIOS):
            user = ensure_user(f"{handle}@{DEMO_DOMAIN}", PHYSIO_PASSWORD, first, last, staff=True)
            physio, _ = Practitioner.objects.update_or_create(
                user=user, defaults=dict(title=title, colour=colour, active=True, position=position)
            )
            physio.services.set([services_by_slug[slug] for slug in slugs])
            wanted = {(day, start, end) for day, start, end in hours}
            existing = {(row.weekday, row.start_time, row.end_time): row for row in physio.working_hours.all()}
            for key, row in existing.items():
                if key not in wanted:
                    row.delete()
            for day, start, end in sorted(wanted - set(existing)):
                WorkingHours.objects.create(practitioner=physio, weekday=day, start_time=start, end_time=end)
            physios[handle] = physio

        offer = Offer.objects.filter(name="20% off your first session").first() or Offer.objects.create(
            name="20% off your first session", percent_off=20, validity_hours=24, active=True
        )
        offer.percent_off, offer.validity_hours, offer.active = 20, 24, True
        offer.save()
        offer.services.set([services_by_slug["sciatica-assessment"]])

        patients = [patient] + [
            ensure_user(f"{first.lower()}.{last.lower().replace(chr(39), '')}@{PATIENT_DOMAIN}", "patient-demo-2027", first, last)
            for first, last in PATIENT_NAMES
        ]

        today = london_date()
        holiday_physio = physios[HOLIDAY_PHYSIO]
        if not TimeOff.objects.filter(practitioner=holiday_physio, reason=TimeOff.Reason.HOLIDAY).exists():
            next_monday = today + timedelta(days=7 - today.weekday())
            TimeOff.objects.create(
                practitioner=holiday_physio,
                reason=TimeOff.Reason.HOLIDAY,
                note="Family holiday",
                start=datetime.combine(next_monday, time(0), tzinfo=LONDON),
                end=datetime.combine(next_monday + timedelta(days=7), time(0), tzinfo=LONDON),
                created_by=reception,
            )

        created = 0
        if not Booking.objects.filter(patient__in=patients).exists():
            created = self.book(list(physios.values()), patients, services_by_slug, reception, today)
        return {"bookings_created": created, "bookings": Booking.objects.count()}

    # --- bookings ---------------------------------------------------------

    def book(self, physios, patients, services_by_slug, reception, today) -> int:
        """Three weeks back and two weeks ahead, a few appointments per practitioner-day."""
        rng = random.Random(SEED)
        now = timezone.now()
        created = 0
        for offset in range(-DAYS_BEHIND, DAYS_AHEAD + 1):
            day = today + timedelta(days=offset)
            for physio in physios:
                offered = list(physio.services.all())
                for _ in range(rng.choice([1, 2, 3, 3, 4])):
                    service = rng.choice(offered)
                    # Reception's view of that day as it was a week earlier (no notice rule).
                    booked_at = min(now, datetime.combine(day, time(8), tzinfo=LONDON) - timedelta(days=7))
                    slots = availability.free_slots(
                        service=service, date_from=day, date_to=day, practitioner_ids=[physio.pk],
                        now=booked_at, enforce_notice=False,
                    )
                    if offset >= 0:
                        # Leave the next two hours and today's past alone: the demo is "now".
                        slots = [s for s in slots if s.start > now + timedelta(hours=3)]
                    if not slots:
                        break
                    slot = rng.choice(slots)
                    if self.book_one(rng, slot, physio, service, rng.choice(patients), reception, booked_at, now):
                        created += 1
        return created

    def book_one(self, rng, slot, physio, service, patient, reception, booked_at, now) -> bool:
        intake = rng.choice(INTAKES) if service.is_first_session else None
        try:
            booking = services.booking_hold(
                patient=patient, service=service, start=slot.start, practitioner=physio, intake=intake,
                source=Booking.Source.RECEPTION, actor=reception, now=booked_at,
            )
        except BookingError:
            return False
        self._backdate(booking, booked_at)
        if slot.start > now:
            services.booking_confirm(booking=booking, actor=reception, reason="Booked by phone; pays at the clinic.")
            if rng.random() < 0.1:
                payments.booking_cancel(booking=booking, actor=reception, reason="Patient rang to cancel.",
                                        by_staff=True, refund_pence=0)
            return True
        if rng.random() < 0.1:
            services.booking_confirm(booking=booking, actor=reception, reason="Booked by phone; pays at the clinic.")
            services.booking_mark(booking=booking, action=BookingEvent.Action.NO_SHOW, actor=reception,
                                  reason="Did not arrive; no answer by phone.")
        else:
            payments.payment_record_at_clinic(booking=booking, method="card_terminal", actor=reception)
            services.booking_mark(booking=booking, action=BookingEvent.Action.ATTENDED, actor=reception)
        return True

    @staticmethod
    def _backdate(booking: Booking, booked_at) -> None:
        """The booking and its first event happened when reception took the call."""
        Booking.objects.filter(pk=booking.pk).update(created_at=booked_at)
        booking.events.filter(action=BookingEvent.Action.HELD).update(at=booked_at)

    # --- output -------------------------------------------------------------

    def report(self, summary: dict, *, quiet: bool) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS(
            f"Demo clinic ready: {Practitioner.objects.count()} physiotherapists, {Service.objects.count()} services, "
            f"{summary['bookings']} bookings ({summary['bookings_created']} new)."
        ))
        if quiet:
            return
        site = settings.SITE_URL if settings.SITE_URL else "http://127.0.0.1:8000"
        out.write(f"\nOpen {site}  (admin: {site}/admin/)\n")
        rows = [
            ("Admin (superuser)", ADMIN[0], ADMIN[1]),
            ("Reception", RECEPTION[0], RECEPTION[1]),
            ("Patient", PATIENT[0], PATIENT[1]),
        ] + [("Physiotherapist", f"{handle}@{DEMO_DOMAIN}", PHYSIO_PASSWORD) for handle, *_ in PHYSIOS]
        width = max(len(email) for _, email, _ in rows)
        for role, email, password in rows:
            out.write(f"  {role:<18} {email:<{width}}  password: {password}")
        out.write("\nPayments run in local test mode unless STRIPE_SECRET_KEY is set: no card is charged.")
