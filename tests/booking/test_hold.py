from datetime import datetime, timedelta

import pytest
import time_machine

from payments.services import booking_cancel
from booking import availability, services
from booking.exceptions import InvalidSlot, SlotTaken, UrgentCareNeeded
from booking.models import Booking
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.booking]

LONDON = availability.LONDON
INTAKE = {"pain_areas": ["buttock", "thigh"], "side": "left", "duration_weeks": 3}


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
def test_hold_reserves_slot_and_blocks_it_with_buffer(clinic):
    service, physio = clinic
    start = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)
    booking = services.booking_hold(patient=UserFactory(), service=service, start=start, practitioner=physio, intake=INTAKE)
    assert booking.status == Booking.Status.HELD
    assert booking.hold_expires_at == datetime(2027, 1, 11, 8, 30, tzinfo=LONDON)
    free = {s.start for s in availability.free_slots(service=service, date_from=start.date(), date_to=start.date())}
    # 45 min + 15 buffer: 10:00 to 11:00 blocked for starts whose own hour overlaps it.
    assert datetime(2027, 1, 12, 9, 0, tzinfo=LONDON) in free
    assert datetime(2027, 1, 12, 9, 15, tzinfo=LONDON) not in free
    assert datetime(2027, 1, 12, 10, 45, tzinfo=LONDON) not in free
    assert datetime(2027, 1, 12, 11, 0, tzinfo=LONDON) in free
    with pytest.raises(SlotTaken) as taken:
        services.booking_hold(patient=UserFactory(), service=service, start=start + timedelta(minutes=30), practitioner=physio, intake=INTAKE)
    assert taken.value.alternatives
    assert Booking.objects.blocking().count() == 1


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
def test_hold_lapses_and_frees_slot(clinic):
    service, physio = clinic
    start = datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)
    first = services.booking_hold(patient=UserFactory(), service=service, start=start, intake=INTAKE)
    with time_machine.travel(datetime(2027, 1, 11, 8, 31, tzinfo=LONDON), tick=False):
        assert start in {s.start for s in availability.free_slots(service=service, date_from=start.date(), date_to=start.date())}
        second = services.booking_hold(patient=UserFactory(), service=service, start=start, intake=INTAKE)
    first.refresh_from_db()
    assert first.status == Booking.Status.EXPIRED
    assert second.status == Booking.Status.HELD


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
def test_red_flags_stop_booking(clinic):
    service, physio = clinic
    with pytest.raises(UrgentCareNeeded):
        services.booking_hold(patient=UserFactory(), service=service, start=datetime(2027, 1, 12, 10, 0, tzinfo=LONDON),
                              intake={**INTAKE, "saddle_numbness": True})
    assert not Booking.objects.exists()


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
def test_minimum_notice(clinic):
    service, physio = clinic
    with pytest.raises(InvalidSlot):
        services.booking_hold(patient=UserFactory(), service=service, start=datetime(2027, 1, 11, 9, 45, tzinfo=LONDON), intake=INTAKE)


@time_machine.travel(datetime(2027, 1, 11, 8, 0, tzinfo=LONDON), tick=False)
def test_a_lapsed_hold_can_be_neither_cancelled_nor_moved(clinic):
    from booking.exceptions import NotCancellable, NotReschedulable

    service, physio = clinic
    booking = services.booking_hold(patient=UserFactory(), service=service,
                                    start=datetime(2027, 1, 12, 10, 0, tzinfo=LONDON), intake=INTAKE)
    services.check_cancellable(booking=booking, now=datetime(2027, 1, 11, 8, 29, tzinfo=LONDON))
    services.check_movable(booking=booking, now=datetime(2027, 1, 11, 8, 29, tzinfo=LONDON))
    with time_machine.travel(datetime(2027, 1, 11, 8, 30, tzinfo=LONDON), tick=False):
        with pytest.raises(NotCancellable, match="expired"):
            booking_cancel(booking=booking, actor=booking.patient)
        with pytest.raises(NotReschedulable):
            services.booking_reschedule(booking=booking, start=datetime(2027, 1, 12, 14, 0, tzinfo=LONDON),
                                        actor=booking.patient)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.HELD and booking.start == datetime(2027, 1, 12, 10, 0, tzinfo=LONDON)
