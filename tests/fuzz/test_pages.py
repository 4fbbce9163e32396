"""The page fuzzer: no input, on any page, as anyone, answers 500 or half-writes anything.

1. Every URL pattern of the site (walked from Django's resolver, admin and
   allauth included) with hostile values in each of its path parameters, and
   each parameterless page with hostile query strings, as anonymous, patient,
   physiotherapist and reception.
2. Every form on every page those four can open (the booking flow, "My
   bookings", the offer page, allauth's account pages, every desk form): each
   field in turn set to each hostile value, the other fields as the page
   filled them in.

Each request runs inside a transaction that is rolled back, so every one starts
from the same clinic; a refusal (4xx, or a form shown again with 200) must not
have changed the database (compared with a fingerprint of every table the
pages write). Figures (requests, seconds) are printed at the end: run with -s.
"""

from __future__ import annotations

import re
import time as clock
from datetime import time, timedelta
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from booking.models import Booking
from tests.factories import (
    BookingFactory,
    FollowUpFactory,
    OfferCodeFactory,
    OfferFactory,
    PractitionerFactory,
    ReceptionistFactory,
    ServiceFactory,
    StaffFactory,
    TimeOffFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db]

HOSTILE = [
    "",
    "²",  # a unicode digit: isdigit() is true, int() fails
    "99999999999999999999",  # 20 digits: past a bigint
    "NaN",
    "1e999999",
    "9999-12-31",
    "0001-01-01",
    "2027-01-12T10:00:00+20:00",  # an offset PostgreSQL refuses
    "24:00",
    "a\x00b",
    "x" * 5000,
    " ".join(["word"] * 1500),
    "ß😀\u202e<script>",
]
CHOICE_HOSTILE = ["", "²", "99999999999999999999", "24:00", "x" * 5000]
# Path segments: the same classes, URL-encoded (a NUL and a slash included).
PATH_VALUES = ["²", "99999999999999999999", "9999-12-31", "0001-01-01", "%00", "x" * 300]

TABLES = [
    ("booking_booking", "id, status, start, practitioner_id, patient_id, amount_due_pence, offer_code_id"),
    ("booking_bookingevent", "id"),
    ("booking_timeoff", "id, start, \"end\", practitioner_id"),
    ("booking_workinghours", "id, weekday, start_time, end_time, valid_from, valid_until"),
    ("offers_offercode", "id, email, reserved_by_id, redeemed_by_id"),
    ("payments_payment", "id, status, amount_pence"),
    ("payments_refund", "id, amount_pence"),
    ("accounts_user", "id, email, password, is_staff"),
    ("account_emailaddress", "id, email, verified"),
]


def fingerprint() -> tuple:
    """Every row of every table the pages write, in one query (PostgreSQL: a digest per table)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            parts = [f"(SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM (SELECT {columns} "
                     f"FROM {table}) t)" for table, columns in TABLES]
            cursor.execute("SELECT " + ", ".join(parts))
            return tuple(cursor.fetchone())
        rows = []
        for table, columns in TABLES:
            cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id")
            rows.append(tuple(cursor.fetchall()))
        return tuple(rows)


class Forms(HTMLParser):
    """Every <form> of a page: method, action and its fields with the values the page put in them."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(), "action": a.get("action") or "",
                               "fields": {}, "choices": set()})
            return
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                self.forms[-1]["choices"].add(name)
                if "checked" in a or name not in fields:
                    fields[name] = a.get("value", "on") if ("checked" in a or kind == "radio") else fields.get(name, "")
            elif kind not in ("submit", "button", "image", "file", "reset"):
                fields[name] = a.get("value", "")
        elif tag == "button" and name and a.get("value"):
            fields.setdefault(name, a["value"])
        elif tag == "textarea" and name:
            fields[name] = ""
        elif tag == "select" and name:
            self.forms[-1]["choices"].add(name)
            self._select = name
            fields.setdefault(name, "")
        elif tag == "option" and self._select:
            if "selected" in a or not fields.get(self._select):
                fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def page_forms(html: str) -> list[dict]:
    parser = Forms()
    parser.feed(html)
    return parser.forms


# --- the clinic every request starts from ------------------------------------------------


@pytest.fixture
def clinic(settings):
    # Throttles and allauth's limits would soon answer 429 to everything and hide the rest.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    settings.ACCOUNT_RATE_LIMITS = False
    service, follow_up = ServiceFactory(), FollowUpFactory()
    week = [(d, time(8), time(20)) for d in range(7)]
    physio_user = StaffFactory(first_name="Alex", last_name="Ray")
    physio = PractitionerFactory(services=[service, follow_up], hours=week, user=physio_user)
    reception = ReceptionistFactory()
    patient = UserFactory(first_name="Paula", last_name="Jones", phone="07700 900123")
    soon = timezone.localtime(timezone.now()).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(days=4)
    booking = BookingFactory(patient=patient, practitioner=physio, service=follow_up, start=soon)
    held = BookingFactory(patient=patient, practitioner=physio, service=follow_up, start=soon + timedelta(hours=3),
                          status=Booking.Status.HELD, hold_expires_at=timezone.now() + timedelta(minutes=30))
    time_off = TimeOffFactory(practitioner=physio, start=soon + timedelta(days=1), end=soon + timedelta(days=1, hours=1))
    offer = OfferFactory()
    offer.services.set([service])
    OfferCodeFactory(offer=offer, email=patient.email)
    day = timezone.localtime(soon).date()
    return {
        "roles": {"anonymous": None, "patient": patient, "physio": physio_user, "reception": reception},
        "urls": [
            "/", "/book/", f"/book/{service.slug}/", f"/book/{service.slug}/any/",
            f"/book/{service.slug}/any/{day.isoformat()}/", f"/book/{follow_up.slug}/{physio.pk}/{day.isoformat()}/",
            "/offer/", "/my-bookings/", f"/my-bookings/{booking.pk}/", f"/my-bookings/{booking.pk}/cancel/",
            f"/my-bookings/{booking.pk}/reschedule/", f"/my-bookings/{held.pk}/",
            "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/email/",
            "/accounts/password/change/", "/accounts/profile/",
            "/staff/", f"/staff/day/{day.isoformat()}/", f"/staff/week/{physio.pk}/", "/staff/my-day/",
            "/staff/book/", f"/staff/book/?practitioner={physio.pk}&start={soon.isoformat()}",
            f"/staff/bookings/{booking.pk}/", f"/staff/bookings/{booking.pk}/move/",
            f"/staff/bookings/{booking.pk}/cancel/", f"/staff/bookings/{held.pk}/",
            "/staff/time-off/new/", f"/staff/time-off/{time_off.pk}/delete/",
            f"/staff/practitioners/{physio.pk}/hours/",
        ],
    }


class Fuzzer:
    def __init__(self, user):
        self.user = user
        self.client = Client()
        self.requests = 0
        self.failures: list[str] = []
        self.login()

    def login(self):
        if self.user is not None:
            self.client.force_login(self.user, backend="accounts.backends.ModelBackend")

    def send(self, method: str, url: str, data=None, *, check_unchanged: bool = True):
        """One request in a rolled-back transaction; a 500 or a write on refusal is recorded."""
        before = fingerprint() if check_unchanged else None
        with transaction.atomic():
            try:
                response = self.client.generic(method.upper(), url, urlencode(data or {}, doseq=True),
                                               content_type="application/x-www-form-urlencoded")
            except Exception as exc:  # the test client re-raises a view's exception: that is the 500
                response = None
                self.failures.append(f"{self.who} {method.upper()} {url[:150]} {str(data)[:200]}: {exc!r}"[:600])
            if response is not None:
                self.requests += 1
                if response.status_code >= 500:
                    self.failures.append(f"{self.who} {method.upper()} {url[:150]} {str(data)[:200]}: {response.status_code}")
                elif before is not None and (response.status_code >= 400 or (method == "post" and response.status_code == 200)):
                    if fingerprint() != before:
                        self.failures.append(f"{self.who} {method.upper()} {url[:150]} {str(data)[:200]}: "
                                             f"{response.status_code} yet the database changed")
            transaction.set_rollback(True)
        return response

    @property
    def who(self) -> str:
        return getattr(self.user, "email", "anonymous")

    def get_forms(self, url: str) -> list[dict]:
        with transaction.atomic():
            response = self.client.get(url)
            transaction.set_rollback(True)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            return []
        forms = []
        for form in page_forms(response.content.decode()):
            action = form["action"] or url
            if "logout" in action or urlsplit(action).netloc:
                continue
            form["action"] = action
            forms.append(form)
        return forms

    def fuzz_form(self, form: dict) -> None:
        base = dict(form["fields"])
        for name in base:
            if name == "csrfmiddlewaretoken":
                continue
            # A choice (select, radio, checkbox) refuses anything not offered in one place: fewer values do.
            for value in CHOICE_HOSTILE if name in form["choices"] else HOSTILE:
                self.send(form["method"], form["action"] if form["method"] == "post" else
                          f"{form['action'].split('?')[0]}?{urlencode({**base, name: value})}",
                          {**base, name: value} if form["method"] == "post" else None)
        # A field the form does not have, and every field hostile at once.
        self.send(form["method"], form["action"], {**base, "extra": "\x00"} if form["method"] == "post" else None)
        if form["method"] == "post":
            self.send("post", form["action"], {name: HOSTILE[1] for name in base})
        self.login()


def _pattern_paths(resolver=None, prefix: str = ""):
    """(route text with <name> placeholders, parameter names) of every URL pattern."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        text = _route_text(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _pattern_paths(entry, prefix + text)
        elif isinstance(entry, URLPattern):
            yield prefix + text


_CONVERTER = re.compile(r"<(?:[^>:]+:)?([^>]+)>")
_NAMED_GROUP = re.compile(r"\(\?P<([^>]+)>")


def _route_text(pattern) -> str:
    if hasattr(pattern, "_route"):
        return pattern._route
    regex = pattern._regex.lstrip("^").rstrip("$").replace("\\Z", "")
    # (?P<name>...) -> <name>, balancing nested parentheses.
    out, i = "", 0
    while i < len(regex):
        match = _NAMED_GROUP.match(regex, i)
        if match:
            depth, j = 1, match.end()
            while j < len(regex) and depth:
                depth += {"(": 1, ")": -1}.get(regex[j], 0) if regex[j - 1] != "\\" else 0
                j += 1
            out += f"<{match.group(1)}>"
            i = j
        else:
            out += regex[i]
            i += 1
    out = re.sub(r"\(\?:[^)]*\)\??", "", out)
    return out.replace("\\", "").replace("?", "").replace("/*", "/").replace("^", "")


def all_routes() -> list[str]:
    return sorted(set(_pattern_paths()))


def test_every_route_with_hostile_path_values_never_answers_500(clinic):
    routes = all_routes()
    assert len(routes) > 80, routes  # the walk found the site, admin and allauth
    started, total, failures = clock.perf_counter(), 0, []
    for user in clinic["roles"].values():
        fuzzer = Fuzzer(user)
        for route in routes:
            params = _CONVERTER.findall(route)
            if not params:
                path = "/" + route
                fuzzer.send("get", path, check_unchanged=False)
                fuzzer.send("get", path + "?" + urlencode({"date": "9999-12-31", "from": "0001-01-01", "practitioner": "²",
                                                           "day": "²", "q": "a\x00", "page": "99999999999999999999"}))
                fuzzer.send("post", path, {"x": "²"})
                continue
            for n, value in enumerate(PATH_VALUES):
                segment = value if "%" in value else quote(value, safe="")
                path = "/" + _CONVERTER.sub(lambda m, segment=segment: segment, route)
                fuzzer.send("get", path, check_unchanged=False)
                if n < 2:
                    fuzzer.send("post", path, {"reason": "²"})
        total += fuzzer.requests
        failures += fuzzer.failures
    elapsed = clock.perf_counter() - started
    print(f"\nroute fuzzer: {len(routes)} routes, {total} requests in {elapsed:.1f} s")
    assert not failures, "\n".join(failures[:60])


def test_every_form_field_with_hostile_values_never_answers_500_or_writes_on_refusal(clinic):
    started, total, forms_seen, failures = clock.perf_counter(), 0, 0, []
    seen = set()  # a form two roles both see (the log-in form, the booking flow) is fuzzed once
    for user in clinic["roles"].values():
        fuzzer = Fuzzer(user)
        for url in clinic["urls"]:
            for form in fuzzer.get_forms(url):
                key = (form["method"], form["action"].split("?")[0], tuple(sorted(form["fields"])))
                if key in seen:
                    continue
                seen.add(key)
                forms_seen += 1
                fuzzer.fuzz_form(form)
        total += fuzzer.requests
        failures += fuzzer.failures
    elapsed = clock.perf_counter() - started
    print(f"\nform fuzzer: {forms_seen} forms, {total} requests in {elapsed:.1f} s")
    assert forms_seen >= 20
    assert not failures, "\n".join(failures[:60])
