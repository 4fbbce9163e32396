"""Records kept after an erasure are access-restricted (privacy.access): every staff view shows the slot and
"Record retained until <date>", never the patient or their care; managers open the content with a logged reason."""

from datetime import date, datetime, time

import pytest
from django.contrib.auth.models import Group, Permission

from booking.availability import LONDON
from booking.models import Booking, UrgentAdvice
from outcomes.models import OutcomeScore
from payments.models import Payment, Refund
from privacy.models import RetainedRecordAccess
from privacy.services import patient_erase
from tests.factories import BookingFactory, FollowUpFactory, PractitionerFactory, ReceptionistFactory, ServiceFactory, UserFactory

DAY = date(2026, 3, 10)  # a Tuesday, GMT
SECRET_ANSWER = "fell off a trampoline"
KEPT_UNTIL = "10 Mar 2034"  # 8 years after the last attended session


@pytest.fixture
def kept(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    service = ServiceFactory()
    physio = PractitionerFactory(services=[service])
    patient = UserFactory(email="gone@example.com", first_name="Gwendolyn", last_name="Gone", phone="07700 900777")
    booking = BookingFactory(patient=patient, practitioner=physio, service=service, status=Booking.Status.ATTENDED,
                             start=datetime.combine(DAY, time(10), tzinfo=LONDON),
                             intake={"pain_areas": ["thigh"], "previous_injuries": SECRET_ANSWER}, flags=["long_standing"])
    Payment.objects.create(booking=booking, method=Payment.Method.CARD_TERMINAL, amount_pence=7500,
                           status=Payment.Status.SUCCEEDED, idempotency_key="kept-1",
                           paid_at=datetime.combine(DAY, time(11), tzinfo=LONDON))
    living = BookingFactory(practitioner=physio, service=FollowUpFactory(), status=Booking.Status.ATTENDED,
                            patient=UserFactory(first_name="Lena", last_name="Living"),
                            start=datetime.combine(DAY, time(14), tzinfo=LONDON))
    patient_erase(user=patient, channel="online", actor=patient)
    return {"booking": booking, "physio": physio, "living": living}


@pytest.fixture
def manager(db):
    user = UserFactory(email="owner@clinic.example", first_name="Olu", last_name="Owner")
    user.groups.add(Group.objects.get_or_create(name="Manager")[0])
    return user


def _restricted(html: str) -> None:
    assert f"Record retained until {KEPT_UNTIL}" in html
    for leaked in ("Erased patient", SECRET_ANSWER, "Gwendolyn", "Pain for over", "£75.00"):
        assert leaked not in html, leaked


@pytest.mark.parametrize("path", [f"/staff/day/{DAY}/", "/staff/week/{physio}/" + f"{DAY}/",
                                  f"/staff/my-day/?date={DAY}&practitioner={{physio}}"])
def test_reception_calendars_show_the_slot_and_its_end_date_not_the_patient(client, kept, path):
    client.force_login(ReceptionistFactory())
    html = client.get(path.format(physio=kept["physio"].pk)).content.decode()
    _restricted(html)
    assert "Lena Living" in html  # other patients as before


def test_the_physio_s_own_day_lists_the_slot_without_intake_history_or_scores(client, kept):
    client.force_login(kept["physio"].user)
    html = client.get(f"/staff/my-day/?date={DAY}").content.decode()
    _restricted(html)
    assert "Access restricted" in html and "Visit history" in html  # the living patient's card still has it
    assert html.count("Visit history") == 1


@pytest.mark.parametrize("who", ["reception", "physio"])
def test_the_booking_page_is_restricted_and_offers_no_desk_action(client, kept, who):
    client.force_login(ReceptionistFactory() if who == "reception" else kept["physio"].user)
    pk = kept["booking"].pk
    html = client.get(f"/staff/bookings/{pk}/").content.decode()
    _restricted(html)
    assert "Access restricted" in html and "Clinical record kept until" in html and "10 March 2034" in html
    assert "Mark no-show" not in html and f"/staff/retained-records/{pk}/" not in html
    assert client.post(f"/staff/bookings/{pk}/mark/", {"action": "no_show"}).status_code == 404
    assert client.get(f"/staff/bookings/{pk}/cancel/").status_code in (403, 404)
    assert Booking.objects.get(pk=pk).status == Booking.Status.ATTENDED


def test_staff_api_gives_no_patient_for_a_kept_record(client, kept):
    client.force_login(ReceptionistFactory())
    data = client.get(f"/api/v1/staff/calendar/?date={DAY}").json()
    rows = {b["id"]: b for p in data["practitioners"] for b in p["bookings"]}
    kept_row, living_row = rows[kept["booking"].pk], rows[kept["living"].pk]
    assert kept_row["patient"] == {"id": None, "name": f"Record retained until {KEPT_UNTIL}"}
    assert kept_row["flags"] == [] and kept_row["retained_until"] == "2034-03-10"
    assert living_row["patient"]["id"] == kept["living"].patient_id and living_row["retained_until"] is None


def test_the_manager_sees_end_dates_and_opens_the_content_with_a_logged_reason(client, kept, manager):
    pk = kept["booking"].pk
    client.force_login(manager)
    listing = client.get("/staff/retained-records/").content.decode()
    assert f"#{pk}" in listing and "10 Mar 2034" in listing and "10 Mar 2032" in listing  # clinical, payments
    assert "/staff/retained-records/" in client.get("/reports/").content.decode()
    form = client.get(f"/staff/retained-records/{pk}/").content.decode()
    assert SECRET_ANSWER not in form and "reason" in form.lower()
    refused = client.post(f"/staff/retained-records/{pk}/", {"reason": " "})
    assert refused.status_code == 400 and not RetainedRecordAccess.objects.exists()
    opened = client.post(f"/staff/retained-records/{pk}/", {"reason": "Insurer claim ref 4411"}).content.decode()
    assert SECRET_ANSWER in opened and "£75.00" in opened and "Pain for over" in opened
    log = RetainedRecordAccess.objects.get()
    assert (log.booking_id, log.by, log.reason) == (pk, manager, "Insurer claim ref 4411")
    assert "Insurer claim ref 4411" in client.get("/staff/retained-records/").content.decode()


@pytest.mark.parametrize("who", ["reception", "physio", "patient"])
def test_only_managers_open_kept_records(client, kept, who):
    user = {"reception": ReceptionistFactory, "physio": lambda: kept["physio"].user, "patient": UserFactory}[who]()
    client.force_login(user)
    pk = kept["booking"].pk
    assert client.get("/staff/retained-records/").status_code == 403
    assert client.post(f"/staff/retained-records/{pk}/", {"reason": "curious today"}).status_code == 403
    assert not RetainedRecordAccess.objects.exists()


def test_the_desk_export_cannot_find_an_erased_patient(client, kept):
    client.force_login(ReceptionistFactory())
    response = client.post("/staff/data-requests/", {"email": "gone@example.com", "channel": "phone", "note": "x"})
    assert response.status_code == 400 and SECRET_ANSWER not in response.content.decode()


def test_the_desk_patient_search_never_finds_an_erased_patient(client, kept):
    client.force_login(ReceptionistFactory())
    html = client.get("/staff/book/", {"q": "Erased patient"}).content.decode()
    assert f"erased-{kept['booking'].patient_id}@" not in html
    assert "Lena Living" in client.get("/staff/book/", {"q": "Lena"}).content.decode()


@pytest.fixture
def admin_user_for(db, manager):
    """A receptionist with the admin's view rights on every model that shows a booking's content, or a superuser."""
    def make(who):
        if who == "superuser":
            return UserFactory(email="root@clinic.example", is_staff=True, is_superuser=True)
        user = ReceptionistFactory()
        user.user_permissions.add(*Permission.objects.filter(codename__in=[
            "view_booking", "view_payment", "view_refund", "view_outcomescore", "view_urgentadvice"]))
        return user
    return make


@pytest.mark.parametrize("who", ["reception", "superuser"])
def test_the_admin_shows_a_kept_booking_s_slot_and_end_date_not_its_intake_or_flags(client, kept, admin_user_for, who):
    """The admin follows privacy.access for everyone, superusers too: content opens only, logged, on the staff page."""
    client.force_login(admin_user_for(who))
    pk, living = kept["booking"].pk, kept["living"]
    Booking.objects.filter(pk=living.pk).update(intake={"previous_injuries": "living answer"}, flags=["long_standing"])
    listing = client.get("/admin/booking/booking/").content.decode()
    assert f"Record retained until {KEPT_UNTIL}" in listing
    assert "Erased patient" not in listing and f"erased-{kept['booking'].patient_id}@" not in listing
    assert listing.count("long_standing") == 1  # the living patient's flags only
    page = client.get(f"/admin/booking/booking/{pk}/change/").content.decode()
    assert f"Record retained until {KEPT_UNTIL}" in page and f"/staff/retained-records/{pk}/" in page
    for leaked in (SECRET_ANSWER, "long_standing", "thigh", "Erased patient", f"erased-{kept['booking'].patient_id}@"):
        assert leaked not in page, leaked
    assert "living answer" in client.get(f"/admin/booking/booking/{living.pk}/change/").content.decode()


@pytest.mark.parametrize("who", ["reception", "superuser"])
def test_the_admin_lists_no_payment_refund_score_or_urgent_advice_of_a_kept_record(client, kept, admin_user_for, who):
    booking, living = kept["booking"], kept["living"]
    kept_payment = Payment.objects.get(booking=booking)
    Refund.objects.create(payment=kept_payment, amount_pence=1234, status=Refund.Status.SUCCEEDED,
                          stripe_refund_id="re_kept")
    OutcomeScore.objects.create(booking=booking, leg_pain=7, activity_limit=6)
    UrgentAdvice.objects.create(source=UrgentAdvice.Source.INTAKE_LINK, signs=["kept_sign"], booking=booking)
    living_payment = Payment.objects.create(booking=living, method=Payment.Method.CASH, amount_pence=4321,
                                            status=Payment.Status.SUCCEEDED, idempotency_key="living-1")
    OutcomeScore.objects.create(booking=living, leg_pain=2, activity_limit=3)
    client.force_login(admin_user_for(who))
    living_refund = Refund.objects.create(payment=living_payment, amount_pence=21, status=Refund.Status.SUCCEEDED)
    urgent_living = UrgentAdvice.objects.create(source=UrgentAdvice.Source.ONLINE, signs=["screening_only"])
    pages = {  # model: (the kept record's row, a living row still listed)
        "payments/payment": (kept_payment.pk, living_payment.pk),
        "payments/refund": (kept_payment.refunds.get().pk, living_refund.pk),
        "outcomes/outcomescore": (booking.outcome_score.pk, living.outcome_score.pk),
        "booking/urgentadvice": (booking.urgent_advice.get().pk, urgent_living.pk),  # no booking: still listed
    }
    for model, (kept_pk, living_pk) in pages.items():
        listing = client.get(f"/admin/{model}/").content.decode()
        assert f"/admin/{model}/{kept_pk}/change/" not in listing, model
        assert f"/admin/{model}/{living_pk}/change/" in listing, model
        opened = client.get(f"/admin/{model}/{kept_pk}/change/")
        assert opened.status_code == 302 and opened["Location"] == "/admin/", model  # "doesn't exist"
        assert client.get(f"/admin/{model}/{living_pk}/change/").status_code == 200, model


def test_a_kept_payment_s_receipt_is_neither_shown_nor_sent(client, kept, mailoutbox):
    """The amount stays in the books (the day's takings); the receipt, a document about one patient's treatment,
    follows the kept-record rule: reception (and anyone else) gets 404, and a queued receipt email sends nothing."""
    from payments.notifications import send_payment_receipt
    from payments.receipts import takings_for_day

    payment = Payment.objects.get(booking=kept["booking"])
    client.force_login(ReceptionistFactory())
    assert client.get(f"/payments/receipts/{payment.pk}/").status_code == 404
    send_payment_receipt(payment.pk)
    assert mailoutbox == []
    assert takings_for_day(DAY).total_pence == 7500
