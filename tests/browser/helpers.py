"""What several browser tests share: logging in, and the desk's seed (fixture `desk_day` in tests/browser/conftest.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from booking.availability import LONDON
from tests.factories import PASSWORD, FollowUpFactory, PractitionerFactory, ReceptionistFactory, StaffFactory

RECEPTION_EMAIL = "rita@clinic.example"
WEEK = [(d, time(8), time(19)) for d in range(7)]  # 08:00-19:00 every day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def desk_seed() -> dict:
    """Tomorrow at the desk: a follow-up, Amara Obi working WEEK, and Rita Desk at reception."""
    tomorrow = timezone.localtime(timezone.now(), LONDON).date() + timedelta(days=1)
    follow_up = FollowUpFactory()
    amara = PractitionerFactory(services=[follow_up], hours=WEEK,
                                user=StaffFactory(first_name="Amara", last_name="Obi", email="amara@clinic.example"))
    receptionist = ReceptionistFactory(first_name="Rita", last_name="Desk", email=RECEPTION_EMAIL)
    return {"tomorrow": tomorrow, "follow_up": follow_up, "amara": amara, "reception": receptionist}


def log_in(page, email: str) -> None:
    """Log in through the login page (the page's base_url is the live server)."""
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()


def login_at_desk(page, base: str, email: str = RECEPTION_EMAIL) -> None:
    """Log a member of staff in through the login page; staff land on the desk."""
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base}/staff/")
