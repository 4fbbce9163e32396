"""Every report figure on the seeded clinic of conftest.py, whose right answers are known by construction."""

from datetime import date, time

import pytest

from booking.models import Booking
from reports import figures
from reports.figures import Period
from tests.factories import BookingFactory, FollowUpFactory, PractitionerFactory
from tests.reports.conftest import PERIOD, at


def test_utilisation_is_booked_over_working_hours_less_time_off(seeded):
    rows = {r.practitioner: r for r in figures.utilisation(PERIOD)}
    alex, billie = rows[seeded.alex.name], rows[seeded.billie.name]
    assert (alex.booked_minutes, alex.working_minutes) == (150, 2220)
    assert alex.rate == pytest.approx(150 / 2220)
    assert (billie.booked_minutes, billie.working_minutes) == (60, 960)
    assert billie.rate == pytest.approx(0.0625)


def test_utilisation_counts_wall_clock_hours_across_the_spring_clock_change(db):
    # Sunday 29 March 2026 the clocks go forward; a Sunday 09:00-17:00 is still 8 real hours.
    service = FollowUpFactory()
    physio = PractitionerFactory(services=[service], hours=[(6, time(9), time(17))])
    BookingFactory(practitioner=physio, service=service, start=at(29, 9), status=Booking.Status.ATTENDED)
    [row] = [r for r in figures.utilisation(Period(date(2026, 3, 29), date(2026, 3, 29))) if r.practitioner == physio.name]
    assert (row.booked_minutes, row.working_minutes) == (30, 480)


def test_utilisation_follows_working_hours_that_change_during_the_period(db):
    # Mondays 09:00-17:00 until Sunday 8 March, then 09:00-13:00: Monday 2 March 480, Mondays 9, 16, 23 March 240 each.
    from booking.models import WorkingHours

    physio = PractitionerFactory(hours=[])
    WorkingHours.objects.create(practitioner=physio, weekday=0, start_time=time(9), end_time=time(17),
                                valid_until=date(2026, 3, 8))
    WorkingHours.objects.create(practitioner=physio, weekday=0, start_time=time(9), end_time=time(13),
                                valid_from=date(2026, 3, 9))
    [row] = [r for r in figures.utilisation(Period(date(2026, 3, 2), date(2026, 3, 29))) if r.practitioner == physio.name]
    assert row.working_minutes == 480 + 3 * 240


def test_bookings_by_source_counts_bookings_made_and_shows_waitlist_as_zero(seeded):
    assert [(r.label, r.count) for r in figures.bookings_by_source(PERIOD)] == [
        ("Online", 5), ("Phone or desk (reception)", 3), ("Waitlist", 0),
    ]


def test_no_show_and_late_cancel_rates(seeded):
    a = figures.attendance(PERIOD)
    assert (a.bookings, a.attended, a.no_shows, a.cancellations, a.late_cancellations) == (8, 4, 1, 2, 1)
    assert a.no_show_rate == pytest.approx(1 / 8)
    assert a.late_cancel_rate == pytest.approx(1 / 8)


def test_revenue_by_method_is_net_of_refunds_from_the_ledger(seeded):
    rows = {r.method: r for r in figures.revenue(PERIOD)}
    stripe, terminal, cash = rows["Stripe Checkout"], rows["Card terminal at the clinic"], rows["Cash at the clinic"]
    assert (stripe.taken_pence, stripe.refunded_pence, stripe.net_pence) == (19500, 11000, 8500)
    assert (terminal.taken_pence, terminal.refunded_pence, terminal.net_pence) == (6000, 0, 6000)
    assert (cash.taken_pence, cash.refunded_pence, cash.net_pence) == (7500, 0, 7500)
    assert "Local test payment (no card charged)" not in rows  # no test payments: no row
    total = figures.revenue_total(list(rows.values()))
    assert (total.taken_pence, total.refunded_pence, total.net_pence) == (33000, 11000, 22000)


def test_offer_funnel_follows_the_codes_issued_in_the_period(seeded):
    assert [(r.label, r.count) for r in figures.offer_funnel(PERIOD)] == [
        ("Codes claimed", 4), ("Used in a booking hold", 3), ("Paid", 2), ("Came back for a follow-up", 1),
    ]


def test_an_empty_period_has_no_rates_rather_than_a_division_by_zero(seeded):
    empty = Period(date(2025, 1, 6), date(2025, 1, 6))
    a = figures.attendance(empty)
    assert (a.bookings, a.no_show_rate, a.late_cancel_rate) == (0, None, None)
    assert all(r.count == 0 for r in figures.offer_funnel(empty))


def test_utilisation_over_a_year_counts_each_weekday_and_the_time_off(seeded):
    # 2026 has 261 weekdays (52 weeks and a Thursday), 52 Mondays and 52 Tuesdays; both clock changes fall on Sundays.
    rows = {r.practitioner: r for r in figures.utilisation(Period(date(2026, 1, 1), date(2026, 12, 31)))}
    assert rows[seeded.alex.name].working_minutes == 261 * 480 - 180
    assert rows[seeded.billie.name].working_minutes == 104 * 480


def test_utilisation_on_a_sunday_worker_across_both_clock_changes(db):
    # Sundays 09:00-17:00 all 2026 (52 Sundays), time off 10:00-12:00 on the autumn change day (25 October).
    from tests.factories import TimeOffFactory

    physio = PractitionerFactory(hours=[(6, time(9), time(17))])
    TimeOffFactory(practitioner=physio, start=at(25, 10, month=10), end=at(25, 12, month=10))
    [row] = [r for r in figures.utilisation(Period(date(2026, 1, 1), date(2026, 12, 31))) if r.practitioner == physio.name]
    assert row.working_minutes == 52 * 480 - 120
