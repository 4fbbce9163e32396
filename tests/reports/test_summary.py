"""The per-day summary gives exactly the direct aggregates (reports/direct.py), before and after
every kind of write: each test builds the summary, makes one write through the service that
makes it in the clinic, then reads the reports again and compares them with the direct ones."""

from datetime import date, time, timedelta

import pytest
import time_machine

from booking import services as booking_services
from booking.models import Booking, BookingEvent
from offers.models import OfferCode
from payments import services as payment_services
from payments.models import Payment, Refund
from reports import direct, figures, summary
from reports.figures import Period
from reports.models import BookingDay, ComputedDay, StaleDay
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    OfferFactory,
    PractitionerFactory,
    ReceptionistFactory,
    TimeOffFactory,
    UserFactory,
)
from tests.reports.conftest import PERIOD, at
from tests.shared import INTAKE

pytestmark = pytest.mark.booking  # SQLite and PostgreSQL

REPORTS = [figures.utilisation, figures.bookings_by_source, figures.attendance, figures.revenue, figures.offer_funnel]


def reports(period: Period = PERIOD) -> dict:
    """Every report of the period from the summary (recomputing what is stale), checked against the
    direct aggregates; returned so a test can see what changed."""
    fresh = Period(period.date_from, period.date_to)
    from_summary = {report.__name__: report(fresh) for report in REPORTS}
    reference = Period(period.date_from, period.date_to)
    assert from_summary == {report.__name__: report(reference, direct) for report in REPORTS}
    return from_summary


def test_the_summary_gives_the_known_figures_and_the_direct_ones(seeded):
    got = reports()
    assert [(r.label, r.count) for r in got["offer_funnel"]] == [
        ("Codes claimed", 4), ("Used in a booking hold", 3), ("Paid", 2), ("Came back for a follow-up", 1)]
    assert got["attendance"].late_cancellations == 1
    # Other periods: a sub-period of what was built, a longer one (half of it built), the month.
    for period in (Period(date(2026, 3, 3), date(2026, 3, 5)), Period(date(2026, 2, 23), date(2026, 3, 22)),
                   Period(date(2026, 3, 1), date(2026, 3, 31))):
        reports(period)
    assert ComputedDay.objects.count() == 37  # 23 Feb to 31 Mar, each built once
    assert not StaleDay.objects.filter(day__gte=date(2026, 2, 23), day__lte=date(2026, 3, 31)).exists()


def test_a_day_with_the_clocks_changing_is_one_london_day(db):
    # Sunday 29 March 2026 is 23 hours long: bookings at 00:30 and 23:30 London both count on it.
    service = FollowUpFactory()
    physio = PractitionerFactory(services=[service], hours=[(6, time(0), time(23, 59))])
    for hour in (0, 23):
        BookingFactory(practitioner=physio, service=service, start=at(29, hour, 30), status=Booking.Status.ATTENDED)
    got = reports(Period(date(2026, 3, 29), date(2026, 3, 29)))
    assert got["attendance"].attended == 2
    assert reports(Period(date(2026, 3, 28), date(2026, 3, 28)))["attendance"].bookings == 0
    assert reports(Period(date(2026, 3, 30), date(2026, 3, 30)))["attendance"].bookings == 0


# --- Each kind of write --------------------------------------------------------------------------


def _hold(seeded, start, *, patient=None):
    return booking_services.booking_hold(patient=patient or UserFactory(), service=seeded.bookings["b2"].service,
                                         start=start, practitioner=seeded.alex)


def test_hold_then_payment_at_the_desk(seeded):
    before = reports()
    with time_machine.travel(at(3, 8), tick=False):
        booking = _hold(seeded, at(4, 14))
        held = reports()
        payment_services.payment_record_at_clinic(booking=booking, method=Payment.Method.CASH,
                                                  actor=ReceptionistFactory())
    after = reports()
    assert held["bookings_by_source"] == before["bookings_by_source"]  # an unpaid hold is not a booking made
    assert after["bookings_by_source"][0].count == before["bookings_by_source"][0].count + 1
    cash = {r.method: r for r in after["revenue"]}["Cash at the clinic"]
    assert cash.taken_pence == 7500 + booking.amount_due_pence


def test_late_cancellation_by_the_patient(seeded):
    with time_machine.travel(at(3, 8), tick=False):
        booking = _hold(seeded, at(4, 14))
        payment_services.payment_record_at_clinic(booking=booking, method=Payment.Method.CASH,
                                                  actor=ReceptionistFactory())
    before = reports()
    with time_machine.travel(at(4, 13), tick=False):
        payment_services.booking_cancel(booking=booking, actor=booking.patient)
    after = reports()
    assert after["attendance"].late_cancellations == before["attendance"].late_cancellations + 1
    assert after["attendance"].cancellations == before["attendance"].cancellations + 1


def test_a_move_to_another_day_changes_both_days(seeded):
    thursday, friday = Period(date(2026, 3, 5), date(2026, 3, 5)), Period(date(2026, 3, 6), date(2026, 3, 6))
    assert reports(thursday)["attendance"].bookings == 2 and reports(friday)["attendance"].bookings == 1
    with time_machine.travel(at(3, 8), tick=False):
        booking_services.booking_reschedule(booking=seeded.bookings["b4"], start=at(6, 15), by_staff=True)
    assert reports(thursday)["attendance"].bookings == 1 and reports(friday)["attendance"].bookings == 2
    reports()


@pytest.mark.parametrize("action, figure", [(BookingEvent.Action.NO_SHOW, "no_shows"),
                                            (BookingEvent.Action.ATTENDED, "attended")])
def test_marking_no_show_or_attended(seeded, action, figure):
    before = reports()
    with time_machine.travel(at(5, 10, 50), tick=False):
        booking_services.booking_mark(booking=seeded.bookings["b4"], action=action, actor=ReceptionistFactory())
    after = reports()
    assert getattr(after["attendance"], figure) == getattr(before["attendance"], figure) + 1


def test_a_payment_taken_at_the_desk_and_a_refund_recorded_from_stripe(seeded):
    with time_machine.travel(at(3, 8), tick=False):
        booking = BookingFactory(practitioner=seeded.alex, service=seeded.bookings["b2"].service, start=at(4, 15),
                                 status=Booking.Status.CONFIRMED)
        before = reports()
        payment_services.payment_take_at_desk(booking=booking, method=Payment.Method.CARD_TERMINAL,
                                              actor=ReceptionistFactory())
        taken = reports()
    terminal = {r.method: r for r in taken["revenue"]}["Card terminal at the clinic"]
    assert terminal.taken_pence == {r.method: r for r in before["revenue"]}["Card terminal at the clinic"].taken_pence + booking.amount_due_pence
    # A webhook records Stripe's refund (a row, then its status), and moves the payment's status.
    stripe_payment = Payment.objects.get(booking=seeded.bookings["b1"])
    with time_machine.travel(at(6, 9), tick=False):
        refund = Refund.objects.create(payment=stripe_payment, amount_pence=500, status=Refund.Status.PENDING)
        stripe_payment.status = Payment.Status.PARTIALLY_REFUNDED
        stripe_payment.save(update_fields=["status"])
    pending = reports()
    refund.status = Refund.Status.FAILED
    refund.save(update_fields=["status"])
    failed = reports()
    stripe = "Stripe Checkout"
    assert {r.method: r for r in pending["revenue"]}[stripe].refunded_pence == 11000 + 500
    assert {r.method: r for r in failed["revenue"]}[stripe].refunded_pence == 11000


def test_a_payment_taken_later_moves_to_its_new_day(seeded):
    payment = Payment.objects.get(booking=seeded.bookings["b2"])  # taken Monday 2 March
    monday, tuesday = Period(date(2026, 3, 2), date(2026, 3, 2)), Period(date(2026, 3, 3), date(2026, 3, 3))
    reports(monday), reports(tuesday)
    payment.paid_at = at(3, 9)
    payment.save()
    assert sum(r.taken_pence for r in reports(tuesday)["revenue"]) == 6000 + 6000 + 6000
    reports(monday)


def test_an_offer_code_claimed_used_and_the_patients_follow_up_cancelled(seeded):
    with time_machine.travel(at(4, 9), tick=False):
        OfferFactory(services=[seeded.bookings["b1"].service])
        from offers.services import offer_code_claim

        before = reports()
        offer_code_claim(email="new.patient@example.com")
        claimed = reports()
    assert claimed["offer_funnel"][0].count == before["offer_funnel"][0].count + 1
    # Code c3 (issued 2 March) came back through b12 on 20 March, outside the period: cancelling that
    # follow-up changes the funnel of the code's day.
    with time_machine.travel(at(10, 9), tick=False):
        payment_services.booking_cancel(booking=seeded.bookings["b12"], actor=ReceptionistFactory(), by_staff=True,
                                        reason="The patient phoned.")
    assert reports()["offer_funnel"][3].count == claimed["offer_funnel"][3].count - 1


def test_a_code_used_in_a_hold_and_paid(seeded):
    code = OfferCode.objects.get(issued_at=at(2, 8))  # claimed only so far
    before = reports()
    with time_machine.travel(at(2, 9), tick=False):  # while the code is valid (24 hours)
        booking = booking_services.booking_hold(patient=UserFactory(email=code.email),
                                                service=seeded.bookings["b1"].service, start=at(4, 14),
                                                practitioner=seeded.alex, offer_code=code.code, intake=INTAKE)
        held = reports()
        payment_services.payment_record_at_clinic(booking=booking, method=Payment.Method.CASH,
                                                  actor=ReceptionistFactory())
    paid = reports()
    assert held["offer_funnel"][1].count == before["offer_funnel"][1].count + 1
    assert paid["offer_funnel"][2].count == held["offer_funnel"][2].count + 1


def test_erasure(seeded):
    from privacy.services import patient_erase

    reports()
    patient = seeded.bookings["b9"].patient
    with time_machine.travel(at(20, 12), tick=False):
        patient_erase(user=patient, channel="online", actor=patient)
    reports()


def test_working_hours_and_time_off_are_read_directly(seeded):
    before = reports()
    TimeOffFactory(practitioner=seeded.billie, start=at(3, 9), end=at(3, 17))
    after = reports()
    billie = {r.practitioner: r for r in after["utilisation"]}[seeded.billie.name]
    assert billie.working_minutes == {r.practitioner: r for r in before["utilisation"]}[seeded.billie.name].working_minutes - 480


def test_time_off_and_hours_read_in_the_one_statement_are_exact(seeded):
    # Sub-second time off, an inactive practitioner with a booking, one without: as the ORM reads them.
    from booking.models import WorkingHours

    TimeOffFactory(practitioner=seeded.alex, start=at(5, 9) + timedelta(microseconds=250_000),
                   end=at(5, 9, 30) + timedelta(microseconds=5))
    WorkingHours.objects.create(practitioner=seeded.billie, weekday=2, start_time=time(9, 15, 30),
                                end_time=time(12), valid_from=date(2026, 3, 4), valid_until=date(2026, 3, 4))
    idle = PractitionerFactory(hours=[(0, time(9), time(17))])
    idle.active = False
    idle.save()
    seeded.billie.active = False
    seeded.billie.save()
    got = reports()
    assert [r.practitioner for r in got["utilisation"]] == [seeded.alex.name, seeded.billie.name]
    assert got["utilisation"][1].working_minutes == 960 + 164  # 09:15:30-12:00 is 164.5 minutes


def test_a_new_cancellation_window_recomputes_every_day(seeded, settings):
    assert reports()["attendance"].late_cancellations == 1
    settings.BOOKING_FREE_CANCEL_HOURS = 72  # b6, cancelled three days (72 h) before: still free
    assert reports()["attendance"].late_cancellations == 1
    settings.BOOKING_FREE_CANCEL_HOURS = 73
    assert reports()["attendance"].late_cancellations == 2


# --- Staleness itself ----------------------------------------------------------------------------


def test_a_write_during_a_recompute_leaves_its_marker_for_the_next_read(seeded):
    reports()
    BookingFactory(practitioner=seeded.billie, service=seeded.bookings["b9"].service, start=at(2, 14),
                   status=Booking.Status.ATTENDED)
    days, markers = summary.stale_days(PERIOD)
    assert days == {date(2026, 3, 2)}
    # A booking lands after the report read the markers, before it recomputes (another connection's
    # commit): the report's rows miss it, but its marker stays.
    late = BookingFactory(practitioner=seeded.billie, service=seeded.bookings["b9"].service, start=at(2, 15),
                          status=Booking.Status.ATTENDED)
    summary.recompute(days, markers)
    assert StaleDay.objects.filter(day=date(2026, 3, 2)).exists()
    assert reports()["attendance"].attended == 4 + 2
    assert not StaleDay.objects.filter(day=date(2026, 3, 2)).exists()
    assert late.pk


def test_only_stale_days_are_recomputed(seeded, django_assert_num_queries):
    reports()
    BookingDay.objects.filter(day=date(2026, 3, 3), practitioner=seeded.billie).update(attended=99)  # not stale: kept as it is
    BookingFactory(practitioner=seeded.billie, service=seeded.bookings["b9"].service, start=at(2, 14),
                   status=Booking.Status.ATTENDED)
    assert summary.stale_days(PERIOD)[0] == {date(2026, 3, 2)}
    assert figures.attendance(Period(PERIOD.date_from, PERIOD.date_to)).attended == 4 + 1 - 1 + 99
    # One query when nothing is stale: the markers, the days computed and the sums in one statement.
    with django_assert_num_queries(1):
        figures.attendance(Period(PERIOD.date_from, PERIOD.date_to))


def test_every_booking_source_and_status_has_its_place():
    from reports import definitions

    assert set(definitions.SOURCE_FIELDS) == set(Booking.Source.values)
    held_or_expired = set(Booking.Status.values) - set(definitions.STATUS_FIELDS)
    assert held_or_expired == {Booking.Status.HELD, Booking.Status.EXPIRED}
    assert {f.name for f in BookingDay._meta.fields} >= {*definitions.SOURCE_FIELDS.values(),
                                                         *definitions.STATUS_FIELDS.values()}


def test_figures_survive_a_week_of_bookings_far_apart(seeded):
    # Two stale days a year apart: recomputed as two spans, not the year between them.
    reports(Period(date(2025, 3, 1), date(2026, 3, 31)))
    for start in (at(3, 15) - timedelta(days=365), at(3, 15)):
        BookingFactory(practitioner=seeded.billie, service=seeded.bookings["b9"].service, start=start,
                       status=Booking.Status.ATTENDED)
    assert summary.stale_days(Period(date(2025, 3, 1), date(2026, 3, 31)))[0] == {date(2025, 3, 3), date(2026, 3, 3)}
    reports(Period(date(2025, 3, 1), date(2026, 3, 31)))
