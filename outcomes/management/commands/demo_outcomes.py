"""Demo data for outcome tracking: a patient with five scored visits with Sarah Okafor (run after demo_data).

Four weekly visits in the past (an assessment, then follow-ups, attended and paid at the clinic) and a fifth
today (or the next day Sarah works), each with the two 0-10 scores, falling as the patient gets better.
Idempotent: a second run changes nothing.
"""

from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from common.clock import london_date
from accounts.models import User
from booking import availability
from booking import services as booking_services
from booking.models import Booking, BookingEvent, Practitioner, Service
from outcomes.models import OutcomeScore
from outcomes.services import outcome_record
from payments import services as payments

LONDON = availability.LONDON
EMAIL = "eleanor.frost@example.com"
SCORES = [(8, 7), (7, 7), (5, 5), (4, 3), (3, 2)]  # (leg pain, stops activities), visit by visit
INTAKE = {"pain_areas": ["buttock", "thigh", "calf"], "side": "right", "duration_weeks": 6, "tingling": True}


class Command(BaseCommand):
    help = "Add a demo patient with five scored visits (outcome tracking). Run after demo_data."

    def handle(self, *args, **options):
        physio = Practitioner.objects.filter(user__email="sarah.okafor@physiobook.local").first()
        if physio is None:
            raise CommandError("Run `manage.py demo_data` first.")
        patient, created = User.objects.get_or_create(
            email=EMAIL, defaults={"username": EMAIL, "first_name": "Eleanor", "last_name": "Frost",
                                   "phone": "07412 345678"})
        if created:
            patient.set_password("patient-demo-2027")
            patient.save()
        if OutcomeScore.objects.filter(booking__patient=patient).count() >= len(SCORES):
            self.stdout.write("Outcome demo already there: Eleanor Frost has five scored visits.")
            return
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), transaction.atomic():
            self.build(patient, physio)
        self.stdout.write(self.style.SUCCESS(
            f"Outcome demo ready: Eleanor Frost ({EMAIL}) has five scored visits with {physio.name}."))

    def build(self, patient, physio):
        assessment = Service.objects.get(slug="sciatica-assessment")
        follow_up = Service.objects.get(slug="follow-up-treatment")
        reception = User.objects.filter(email="reception@physiobook.local").first()
        now = timezone.now()
        today = london_date(now)
        for number, (pain, limit) in enumerate(SCORES):
            service = assessment if number == 0 else follow_up
            slot, booked_at = self.free_slot(physio, service, today + timedelta(days=7 * (number - 4)), now)
            booking = booking_services.booking_hold(
                patient=patient, service=service, start=slot.start, practitioner=physio,
                intake=INTAKE if number == 0 else None, source=Booking.Source.RECEPTION, actor=reception,
                now=booked_at,
            )
            outcome_record(booking=booking, leg_pain=pain, activity_limit=limit, actor=patient, now=booked_at)
            if slot.start > now:
                booking_services.booking_confirm(booking=booking, actor=reception, reason="Booked by phone.")
                continue
            payments.payment_record_at_clinic(booking=booking, method="card_terminal", actor=reception)
            booking_services.booking_mark(booking=booking, action=BookingEvent.Action.ATTENDED, actor=reception)

    def free_slot(self, physio, service, near, now):
        """The first free slot with the physio on `near` or the days after (today: from an hour on)."""
        for day in (near + timedelta(days=i) for i in range(14)):
            booked_at = min(now, datetime.combine(day, time(7), tzinfo=LONDON) - timedelta(days=1))
            slots = availability.free_slots(service=service, date_from=day, date_to=day, practitioner_ids=[physio.pk],
                                            now=booked_at, enforce_notice=False)
            slots = [s for s in slots if s.start > now + timedelta(hours=1) or s.end < now]
            if slots:
                return slots[0], booked_at
        raise CommandError(f"{physio.name} has no free time near {near}.")


