"""The live-unpaid-holds cap holds under a race: one patient, eight threads, eight practitioners."""

import threading
from datetime import time

import pytest
from django.db import connection

from booking import services
from booking.exceptions import TooManyHolds
from booking.models import Booking
from tests.booking.test_races import EVERY_DAY, INTAKE, next_week_at
from tests.factories import PractitionerFactory, ServiceFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
THREADS = 8


def test_racing_holds_by_one_patient_stop_at_the_cap(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    service = ServiceFactory()
    # A practitioner each: the practitioner locks do not serialise the threads, only the patient's row does.
    physios = [PractitionerFactory(services=[service], hours=EVERY_DAY) for _ in range(THREADS)]
    patient = UserFactory()
    start = next_week_at(time(10))
    barrier = threading.Barrier(THREADS)
    results: list[str | None] = [None] * THREADS

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            services.booking_hold(patient=patient, service=service, start=start, practitioner=physios[i], intake=INTAKE)
            results[i] = "held"
        except TooManyHolds:
            results[i] = "too_many"
        except Exception as error:  # noqa: BLE001 - shown in the assertion below
            results[i] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == ["held"] * settings.BOOKING_MAX_LIVE_HOLDS + ["too_many"] * (THREADS - 2), results
    assert Booking.objects.filter(patient=patient, status=Booking.Status.HELD).count() == settings.BOOKING_MAX_LIVE_HOLDS
