"""Twenty patients' tabs at once: one code, twenty different slots. The database decides.

Real threads, each with its own database connection (tests/races.py). The same body runs on
PostgreSQL (row lock on the code + unique reserved_by) and on SQLite
(IMMEDIATE transactions), as the booking race tests do.
"""

from datetime import time, timedelta
from functools import partial

import pytest
import time_machine

from booking import services as booking_services
from booking.exceptions import OfferUsed
from booking.models import Booking
from offers.models import OfferCode
from offers.services import offer_code_claim
from tests.factories import OfferFactory, PractitionerFactory, ServiceFactory, UserFactory
from tests.races import race, split

from .conftest import INTAKE, MONDAY_8AM

THREADS = 20
TUESDAY = MONDAY_8AM.date() + timedelta(days=1)


@pytest.mark.booking
@pytest.mark.django_db(transaction=True)
def test_twenty_holds_racing_with_one_code_reserve_it_once(each_database):
    service = ServiceFactory(price_pence=7500, is_first_session=True)
    OfferFactory(services=[service])
    # 4 practitioners x 5 one-hour slots: 20 slots that never overlap, so only the code is contended.
    physios = [PractitionerFactory(services=[service], hours=[(1, time(9), time(17))]) for _ in range(4)]
    patient = UserFactory(email="racer@example.com")
    with time_machine.travel(MONDAY_8AM, tick=False):
        code = offer_code_claim(email=patient.email).code
        tuesday_9am = MONDAY_8AM + timedelta(days=1, hours=1)
        slots = [(physios[n % 4], tuesday_9am + timedelta(hours=n // 4)) for n in range(THREADS)]

        results = race(*(
            partial(booking_services.booking_hold, patient=patient, service=service, start=start,
                    practitioner=practitioner, offer_code=code.display_code.lower(), intake=INTAKE)
            for practitioner, start in slots
        ))

    won, refused = split(results, OfferUsed)
    assert len(won) == 1 and len(refused) == THREADS - 1
    # Exactly one booking carries the discount; the refused attempts wrote nothing at all.
    assert Booking.objects.count() == 1
    booking = Booking.objects.get()
    assert booking.pk == won[0].pk and booking.discount_pence == 1500 and booking.offer_code_id == code.pk
    assert Booking.objects.filter(offer_code=code).count() == 1
    code.refresh_from_db()
    assert code.reserved_by_id == booking.pk
    assert OfferCode.objects.filter(reserved_by__isnull=False).count() == 1


@pytest.mark.booking
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_for_one_address_get_one_code(each_database):
    OfferFactory(services=[ServiceFactory()])
    spellings = ["Racer@Example.com", "racer@example.com ", " RACER@EXAMPLE.COM", "racer@Example.Com"] * 2
    claims, _ = split(race(*(partial(offer_code_claim, email=spelling) for spelling in spellings)))
    codes = [claim.code.pk for claim in claims]
    assert len(set(codes)) == 1
    assert OfferCode.objects.count() == 1
