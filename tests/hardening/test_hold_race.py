"""The live-unpaid-holds cap holds under a race: one patient, eight threads, eight practitioners."""

from datetime import time
from functools import partial

import pytest

from booking import services
from booking.exceptions import TooManyHolds
from booking.models import Booking
from tests.shared import EVERY_DAY, INTAKE, next_week_at
from tests.factories import PractitionerFactory, ServiceFactory, UserFactory
from tests.races import race, split

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


def test_racing_holds_by_one_patient_stop_at_the_cap(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    service = ServiceFactory()
    # A practitioner each: the practitioner locks do not serialise the threads, only the patient's row does.
    physios = [PractitionerFactory(services=[service], hours=EVERY_DAY) for _ in range(THREADS)]
    patient = UserFactory()
    start = next_week_at(time(10))
    held, refused = split(race(*(
        partial(services.booking_hold, patient=patient, service=service, start=start, practitioner=physio, intake=INTAKE)
        for physio in physios
    )), TooManyHolds)
    assert (len(held), len(refused)) == (settings.BOOKING_MAX_LIVE_HOLDS, THREADS - settings.BOOKING_MAX_LIVE_HOLDS)
    assert Booking.objects.filter(patient=patient, status=Booking.Status.HELD).count() == settings.BOOKING_MAX_LIVE_HOLDS
