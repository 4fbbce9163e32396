"""Local test-payment mode on the demo database: pay, cancel (refund), partly refund, abandon.

Then `manage.py payments_audit` must find no discrepancy:
    DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python manage.py shell < scripts/demo_local_payments.py
    DATABASE_URL=sqlite:////tmp/demo.sqlite3 .venv/bin/python manage.py payments_audit
"""
from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from booking import availability, services as bs
from booking.models import Practitioner, Service
from payments import local_gateway, services

svc = Service.objects.filter(bookable_online=True, active=True).first()
patients = list(User.objects.filter(is_staff=False).order_by("pk")[:4])
day = timezone.localdate() + timedelta(days=8)
slots = availability.free_slots(service=svc, date_from=day, date_to=day + timedelta(days=5))
intake = {"pain_areas": ["buttock"], "side": "left", "duration_weeks": 3}
for i, patient in enumerate(patients):
    slot = slots[i * 7]
    booking = bs.booking_hold(patient=patient, service=svc, start=slot.start,
                              practitioner=Practitioner.objects.get(pk=slot.practitioner_id), intake=intake)
    payment = services.payment_start(booking=booking)
    if i == 3:  # abandoned: cancelled while held
        services.booking_cancel(booking=booking, actor=patient, reason="demo: changed my mind")
        continue
    local_gateway.checkout_session_pay(payment.checkout_session_id)
    if i == 1:
        services.booking_cancel(booking=booking, actor=patient, reason="demo: better")
    if i == 2:
        services.booking_refund(booking=booking, amount_pence=1500, reason="demo: goodwill",
                                actor=User.objects.filter(is_superuser=True).first())
print("local payments made")
