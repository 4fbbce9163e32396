"""The owner's reports and the patient's data-rights pages in a real browser: screenshots and axe.

Screenshots go to artifacts/screenshots/reports-*.png and privacy-*.png.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from tests.a11y import assert_accessible, screenshot
from tests.factories import PASSWORD, UserFactory
from tests.reports.conftest import seed_clinic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT = "/reports/?date_from=2026-03-02&date_to=2026-03-08"


def login(page, email, next_url):
    page.goto(next_url)
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_url.split('?')[0]}**")


def test_reports_page_on_a_laptop_and_a_phone(laptop_page, phone_page):
    seed_clinic()
    owner = UserFactory(email="owner@clinic.example", first_name="Olu", last_name="Owner")
    owner.groups.add(Group.objects.get_or_create(name="Manager")[0])

    login(laptop_page, owner.email, REPORT)
    assert laptop_page.locator("svg.bar-chart").count() == 5
    assert laptop_page.get_by_role("row", name="Stripe Checkout").inner_text().split("\t")[-1].strip() == "£85.00"
    screenshot(laptop_page, "reports-laptop")
    assert_accessible(laptop_page)
    # The period form works by keyboard: change the end date and submit with Enter.
    laptop_page.fill("input[name=date_to]", "2026-03-03")
    laptop_page.press("input[name=date_to]", "Enter")
    laptop_page.wait_for_url("**date_to=2026-03-03**")
    assert "2 Mar 2026 to 3 Mar 2026" in laptop_page.content()

    login(phone_page, owner.email, REPORT)
    screenshot(phone_page, "reports-phone")
    assert_accessible(phone_page)
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"


def test_patient_data_pages_on_a_phone(phone_page):
    patient = UserFactory(email="pat@example.com", first_name="Pat", last_name="Ient", phone="07700 900123")
    login(phone_page, patient.email, "/accounts/profile/")
    screenshot(phone_page, "privacy-profile-phone")
    phone_page.get_by_role("link", name="See my data").click()
    assert "Everything" in phone_page.locator("h1").inner_text()
    screenshot(phone_page, "privacy-export-phone")
    assert_accessible(phone_page)
    phone_page.goto("/accounts/profile/delete/")
    screenshot(phone_page, "privacy-delete-phone")
    assert_accessible(phone_page)
    phone_page.fill("input[name=password]", PASSWORD)
    phone_page.check("input[name=confirm]")
    phone_page.get_by_role("button", name="Delete my account").click()
    phone_page.wait_for_url("**/privacy/account-deleted/")
    phone_page.get_by_role("link", name="Privacy and your data").click()
    phone_page.wait_for_url("**/privacy/")
    screenshot(phone_page, "privacy-notice-phone")
    assert_accessible(phone_page)


def test_reception_erases_a_phone_caller_by_keyboard_on_a_phone(phone_page):
    from tests.factories import ReceptionistFactory

    desk = ReceptionistFactory(first_name="Rita", last_name="Reception")
    caller = UserFactory(email="cara@example.com", first_name="Cara", last_name="Caller", phone="07700 900555")
    login(phone_page, desk.email, "/staff/data-requests/erase/")
    phone_page.fill("input[name=q]", "Cara")
    phone_page.press("input[name=q]", "Enter")
    phone_page.wait_for_url("**q=Cara**")
    assert "Erase Cara Caller" in phone_page.locator("h2#erase-title").inner_text()
    screenshot(phone_page, "privacy-desk-erase-phone")
    assert_accessible(phone_page)
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    # Keyboard only: the channel radio, the identity checkbox, the reason, then Enter.
    phone_page.get_by_label("By phone").check()
    phone_page.get_by_label("I have confirmed the caller is this patient").focus()
    phone_page.keyboard.press("Space")
    phone_page.fill("input[name=note]", "Asked by phone; DOB and last visit confirmed")
    phone_page.press("input[name=note]", "Enter")
    phone_page.wait_for_url("**/staff/data-requests/erase/")
    assert "Cara Caller's account is erased" in phone_page.content().replace("&#x27;", "'")
    screenshot(phone_page, "privacy-desk-erased-phone")
    assert_accessible(phone_page)
    caller.refresh_from_db()
    assert not caller.is_active


def test_a_kept_record_on_the_calendar_and_the_manager_s_retention_list(laptop_page, browser, live_server, request):
    from datetime import datetime, time

    from booking.availability import LONDON
    from booking.models import Booking
    from privacy.services import patient_erase
    from tests.factories import BookingFactory, PractitionerFactory, ReceptionistFactory, ServiceFactory

    physio = PractitionerFactory(services=[ServiceFactory()])
    gone = UserFactory(email="gone@example.com", first_name="Gwen", last_name="Gone")
    kept = BookingFactory(patient=gone, practitioner=physio, status=Booking.Status.ATTENDED,
                          start=datetime.combine(datetime(2026, 3, 10).date(), time(10), tzinfo=LONDON),
                          intake={"previous_injuries": "trampoline"})
    patient_erase(user=gone, channel="online", actor=gone)
    desk = ReceptionistFactory()
    login(laptop_page, desk.email, "/staff/day/2026-03-10/")
    block = laptop_page.locator(f"a.bk[data-booking='{kept.pk}']")
    assert "Record retained until 10 Mar 2034" in block.inner_text()
    screenshot(laptop_page, "privacy-retained-day-laptop")
    block.click()
    laptop_page.wait_for_url(f"**/staff/bookings/{kept.pk}/")
    assert "Access restricted" in laptop_page.content() and "trampoline" not in laptop_page.content()
    screenshot(laptop_page, "privacy-retained-booking-laptop")
    assert_accessible(laptop_page)

    owner = UserFactory(email="owner@clinic.example", first_name="Olu", last_name="Owner")
    owner.groups.add(Group.objects.get_or_create(name="Manager")[0])
    laptop_page.context.clear_cookies()
    login(laptop_page, owner.email, "/staff/retained-records/")
    assert "10 Mar 2034" in laptop_page.locator(f"tr[data-booking='{kept.pk}']").inner_text()
    screenshot(laptop_page, "privacy-retained-list-laptop")
    assert_accessible(laptop_page)
    laptop_page.get_by_role("link", name=f"Open booking #{kept.pk}").click()
    laptop_page.fill("input[name=reason]", "Insurer claim ref 4411")
    laptop_page.press("input[name=reason]", "Enter")
    laptop_page.wait_for_selector("text=Opened by you")
    assert "trampoline" in laptop_page.content()
    screenshot(laptop_page, "privacy-retained-open-laptop")
    assert_accessible(laptop_page)
