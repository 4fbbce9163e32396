"""The waitlist end to end on a phone: join from the time picker, a cancellation, the offer email,
the hold, the next patient only after it lapses, booking and paying through the offer link.

Screenshots: artifacts/screenshots/waitlist-*.png; every page is checked with axe-core.
"""

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from payments.services import booking_cancel
from booking import services as booking_services
from booking.availability import LONDON
from booking.models import Booking
from tests.a11y import assert_accessible, screenshot
from tests.conftest import PAGE_TIMEOUT_MS
from tests.browser.helpers import log_in
from tests.factories import FollowUpFactory, PractitionerFactory, UserFactory
from waitlist.models import WaitlistEntry, WaitlistOffer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def step(page, name):
    screenshot(page, f"waitlist-{name}")
    assert_accessible(page)


def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Europe/London",
                                  viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    return context.new_page()


def offer_link(email):
    bodies = [m.body for m in mail.outbox if m.to == [email] and "come free" in m.subject]
    assert bodies, f"no offer email to {email}"
    return re.search(r"http://\S+/waitlist/offers/\d+/", bodies[-1]).group(0)


def pay_through_offer(page, link):
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("A time is held for you")
    page.get_by_role("button", name=re.compile("Book and pay")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Test payment")
    page.get_by_role("button", name=re.compile("Pay £")).click()
    expect(page.get_by_text("Your booking is confirmed")).to_be_visible()


@pytest.fixture
def clinic(settings, live_server):
    settings.SITE_URL = live_server.url
    follow_up = FollowUpFactory(name="Follow-up session")
    physio = PractitionerFactory(services=[follow_up], user__first_name="Priya", user__last_name="Shah")
    today = timezone.localtime(timezone.now(), LONDON).date()
    wednesday = today + timedelta(days=7 + (2 - today.weekday()) % 7)  # a Wednesday 7-13 days ahead
    slot_x = datetime.combine(wednesday, time(10), tzinfo=LONDON)
    slot_y = datetime.combine(wednesday, time(14), tzinfo=LONDON)
    # Every other time that Wednesday is taken, so only cancellations free anything.
    owner = UserFactory(email="owner@example.com")
    bookings = {}
    start = datetime.combine(wednesday, time(9), tzinfo=LONDON)
    while start < datetime.combine(wednesday, time(17), tzinfo=LONDON):
        booking = booking_services.booking_hold(patient=owner, service=follow_up, start=start, practitioner=physio)
        booking_services.booking_confirm(booking=booking, reason="Paid at the desk.")
        bookings[start] = booking
        start += timedelta(minutes=follow_up.blocked_minutes)
    return {"service": follow_up, "physio": physio, "day": wednesday, "x": bookings[slot_x], "y": bookings[slot_y]}


def test_a_freed_slot_goes_to_the_waitlist_in_turn_and_is_booked_through_the_offer(browser, live_server, clinic):
    first = UserFactory(email="first@example.com", first_name="Fay")
    second = UserFactory(email="second@example.com", first_name="Sid")
    service, physio, day = clinic["service"], clinic["physio"], clinic["day"]

    # The first patient finds nothing that Wednesday and joins the waitlist from the time picker.
    page = phone(browser, live_server)
    log_in(page, first.email)
    page.goto(f"/book/{service.slug}/{physio.pk}/{day:%Y-%m-%d}/")
    expect(page.get_by_text("No free times left on this day")).to_be_visible()
    step(page, "01-no-times")
    page.get_by_role("link", name=re.compile("None of these suit me")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join the waitlist")
    page.get_by_label("From").fill(f"{day:%Y-%m-%d}")
    page.get_by_label("Until (inclusive)").fill(f"{day:%Y-%m-%d}")
    page.get_by_label("Wednesday").check()
    step(page, "02-join")
    page.get_by_role("button", name="Join the waitlist").click()
    expect(page.get_by_text("You are on the waitlist")).to_be_visible()
    step(page, "03-joined")

    # The second patient joins after her, for the same day.
    other = phone(browser, live_server)
    log_in(other, second.email)
    other.goto(f"/waitlist/join/{service.slug}/any/?day={day:%Y-%m-%d}")
    other.get_by_label("Until (inclusive)").fill(f"{day:%Y-%m-%d}")
    other.get_by_role("button", name="Join the waitlist").click()
    expect(other.get_by_text("You are on the waitlist")).to_be_visible()
    assert WaitlistEntry.objects.count() == 2

    # 10:00 is cancelled: the first in line is offered it and it is held for her; the second hears nothing.
    mail.outbox.clear()
    booking_cancel(booking=clinic["x"], reason="Cannot come.")
    link = offer_link(first.email)
    assert not [m for m in mail.outbox if m.to == [second.email]]
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("A time is held for you")
    expect(page.locator(".summary")).to_contain_text("10:00")
    step(page, "04-offer")

    # She lets the hold lapse: only then is the second patient offered 10:00.
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=True):
        call_command("expire_holds")
        second_link = offer_link(second.email)
        page.goto(link)
        expect(page.get_by_role("heading", level=1)).to_have_text("This offer has lapsed")
        step(page, "05-lapsed")
        # The second follows her link within her hold and books.
        pay_through_offer(other, second_link)
        step(other, "06-second-booked")
        # The first comes back too late: the time is gone, she is still waiting.
        page.get_by_role("button", name="Try to book this time").click()
        expect(page.get_by_text("that time has been taken")).to_be_visible()
        step(page, "07-gone")

    x = WaitlistOffer.objects.get(entry__patient=second).booking
    assert x.status == Booking.Status.CONFIRMED and x.start == clinic["x"].start
    assert Booking.objects.blocking().filter(start=clinic["x"].start).count() == 1

    # 14:00 is cancelled later: the first patient (still waiting) is offered it and books within the hold.
    mail.outbox.clear()
    booking_cancel(booking=clinic["y"], reason="Moved away.")
    pay_through_offer(page, offer_link(first.email))
    step(page, "08-first-booked")
    y = Booking.objects.get(patient=first, status=Booking.Status.CONFIRMED)
    assert y.start == clinic["y"].start
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {WaitlistEntry.Status.BOOKED}
    page.goto("/waitlist/")
    expect(page.get_by_text("Booked")).to_be_visible()
    step(page, "09-my-waitlist")
