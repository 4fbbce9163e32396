"""Outcome scores: recorded before a visit, shown to the physiotherapist over visits, averaged for the clinic."""

from datetime import datetime, timedelta

import pytest
import time_machine

from payments.services import booking_cancel
from booking import services as booking_services
from booking.availability import LONDON
from booking.models import BookingEvent
from outcomes import chart
from outcomes.models import OutcomeScore
from outcomes.services import InvalidScore, ScoresClosed, clinic_average_change, outcome_record, patient_visits
from tests.factories import FollowUpFactory, PractitionerFactory, StaffFactory, UserFactory

pytestmark = [pytest.mark.django_db]

NOW = datetime(2027, 1, 11, 8, 0, tzinfo=LONDON)


@pytest.fixture
def clinic():
    service = FollowUpFactory(name="Follow-up session")
    physio = PractitionerFactory(services=[service], user=StaffFactory(first_name="Sarah", last_name="Okafor"))
    return service, physio


def visits(patient, service, physio, scores, first=NOW + timedelta(days=1, hours=2)):
    """Weekly visits, each scored the day before and attended."""
    made = []
    for i, (pain, limit) in enumerate(scores):
        start = first + timedelta(days=7 * i)
        booked_at = start - timedelta(days=1)
        booking = booking_services.booking_hold(patient=patient, service=service, start=start, practitioner=physio,
                                                now=booked_at)
        booking_services.booking_confirm(booking=booking, now=booked_at)
        outcome_record(booking=booking, leg_pain=pain, activity_limit=limit, now=booked_at)
        made.append(booking)
    return made


def test_scores_come_back_in_visit_order(clinic):
    service, physio = clinic
    patient = UserFactory()
    visits(patient, service, physio, [(8, 7), (6, 6), (3, 2)])
    assert [(v.number, v.leg_pain, v.activity_limit) for v in patient_visits(patient_id=patient.pk)] == [
        (1, 8, 7), (2, 6, 6), (3, 3, 2)]


@pytest.mark.parametrize("bad", [-1, 11, 2.5, "5", True, None])
def test_a_score_outside_0_to_10_is_refused(clinic, bad):
    service, physio = clinic
    booking = booking_services.booking_hold(patient=UserFactory(), service=service,
                                            start=NOW + timedelta(days=2, hours=2), practitioner=physio, now=NOW)
    with pytest.raises(InvalidScore):
        outcome_record(booking=booking, leg_pain=bad, activity_limit=3, now=NOW)
    assert not OutcomeScore.objects.exists()


def test_a_past_or_cancelled_visit_takes_no_scores(clinic):
    service, physio = clinic
    [booking] = visits(UserFactory(), service, physio, [(5, 5)])
    with pytest.raises(ScoresClosed):
        outcome_record(booking=booking, leg_pain=1, activity_limit=1, now=booking.end)
    booking_cancel(booking=booking, reason="x", by_staff=True, now=NOW)
    with pytest.raises(ScoresClosed):
        outcome_record(booking=booking, leg_pain=1, activity_limit=1, now=NOW)


def test_the_clinic_sees_the_average_change_after_n_visits(clinic):
    service, physio = clinic
    visits(UserFactory(), service, physio, [(8, 8), (6, 5), (4, 4)])
    visits(UserFactory(), service, physio, [(6, 4), (6, 5), (5, 1)], first=NOW + timedelta(days=2, hours=2))
    visits(UserFactory(), service, physio, [(9, 9)], first=NOW + timedelta(days=3, hours=2))
    after_3 = clinic_average_change(visits=3)
    assert (after_3.patients, after_3.leg_pain, after_3.activity_limit) == (2, -2.5, -3.5)
    after_2 = clinic_average_change(visits=2)
    assert (after_2.patients, after_2.leg_pain, after_2.activity_limit) == (2, -1.0, -1.0)
    assert clinic_average_change(visits=4).patients == 0


def test_the_chart_puts_higher_scores_higher_and_one_point_per_visit(clinic):
    service, physio = clinic
    patient = UserFactory()
    visits(patient, service, physio, [(10, 0), (5, 5), (0, 10)])
    drawn = chart.build(patient_visits(patient_id=patient.pk))
    pain = drawn.series[0]
    assert [v for *_, v in pain.dots] == [10, 5, 0]
    ys = [y for _, y, _ in pain.dots]
    assert ys[0] < ys[1] < ys[2]  # SVG y grows downwards: 10 is at the top
    assert chart.build([]) is None


def test_the_patient_answers_the_two_scales_from_their_booking(client, clinic):
    service, physio = clinic
    patient = UserFactory()
    with time_machine.travel(NOW, tick=False):
        booking = booking_services.booking_hold(patient=patient, service=service,
                                                start=NOW + timedelta(days=1, hours=2), practitioner=physio)
        booking_services.booking_confirm(booking=booking)
        client.force_login(patient)
        page = client.get(f"/my-bookings/{booking.pk}/").content.decode()
        assert "Answer two questions" in page
        form = client.get(f"/outcomes/bookings/{booking.pk}/").content.decode()
        assert "How bad is the pain in your leg right now?" in form and "stop you doing your normal activities" in form
        assert "style=" not in form and "<script>" not in form
        assert client.post(f"/outcomes/bookings/{booking.pk}/", {"leg_pain": "11", "activity_limit": "3"}).status_code == 200
        client.post(f"/outcomes/bookings/{booking.pk}/", {"leg_pain": "6", "activity_limit": "4"})
        score = OutcomeScore.objects.get()
        assert (score.leg_pain, score.activity_limit, score.booking) == (6, 4, booking)
        assert "leg pain 6 out of 10" in client.get(f"/my-bookings/{booking.pk}/").content.decode()


def test_another_patients_booking_is_a_404(client, clinic):
    service, physio = clinic
    [booking] = visits(UserFactory(), service, physio, [(5, 5)])
    client.force_login(UserFactory())
    assert client.get(f"/outcomes/bookings/{booking.pk}/").status_code == 404
    assert client.post(f"/outcomes/bookings/{booking.pk}/", {"leg_pain": "1", "activity_limit": "1"}).status_code == 404


def test_the_physios_booking_page_and_my_day_show_the_chart_and_table(client, clinic, django_assert_max_num_queries):
    service, physio = clinic
    patient = UserFactory(first_name="Eleanor")
    made = visits(patient, service, physio, [(8, 7), (7, 7), (5, 5), (4, 3), (3, 2)])
    last = made[-1]
    with time_machine.travel(last.start - timedelta(hours=1), tick=False):
        client.force_login(physio.user)
        with django_assert_max_num_queries(30):
            booking_page = client.get(f"/staff/bookings/{last.pk}/").content.decode()
        with django_assert_max_num_queries(30):
            my_day = client.get(f"/staff/my-day/?date={timezone_day(last.start)}").content.decode()
    for html in (booking_page, my_day):
        assert "<svg" in html and 'role="img"' in html and "<table class=\"outcomes-table\">" in html
        assert html.count('<circle class="dot pain"') == 5
        assert "leg pain down 5 since the first" in html


def timezone_day(instant):
    return instant.astimezone(LONDON).date().isoformat()


def test_the_clinic_outcomes_page_is_for_staff(client, clinic):
    service, physio = clinic
    visits(UserFactory(), service, physio, [(8, 8), (6, 5)])
    client.force_login(UserFactory())
    assert client.get("/staff/outcomes/").status_code == 403
    client.force_login(physio.user)
    page = client.get("/staff/outcomes/?visits=2").content.decode()
    assert "-2.0" in page and "-3.0" in page


def test_marking_attended_keeps_the_score(clinic):
    service, physio = clinic
    [booking] = visits(UserFactory(), service, physio, [(5, 4)])
    booking_services.booking_mark(booking=booking, action=BookingEvent.Action.ATTENDED, actor=None,
                                  now=booking.end)
    assert patient_visits(patient_id=booking.patient_id)[0].leg_pain == 5


def test_the_reminder_email_links_to_the_two_questions(clinic, mailoutbox, settings):
    service, physio = clinic
    patient = UserFactory()
    start = NOW + timedelta(days=1, hours=2)
    booking = booking_services.booking_hold(patient=patient, service=service, start=start, practitioner=physio, now=NOW)
    booking_services.booking_confirm(booking=booking, now=NOW)
    mailoutbox.clear()
    booking_services.bookings_remind(now=NOW + timedelta(hours=1))
    [reminder] = mailoutbox
    assert f"{settings.SITE_URL}/outcomes/bookings/{booking.pk}/" in reminder.body
