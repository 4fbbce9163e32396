"""The load test's scenario (run by scripts/loadtest/run.py; not meant to be run alone).

An offer-campaign burst: patients (signed in already, some holding an offer
code from the campaign email) read availability, claim codes, book (half of
them racing for the first few slots), pay in the local test-payment mode,
then move or cancel some bookings; receptionists refresh the day view and
book callers by phone; one monitor reads /healthz, the baseline every p95 is
compared with. Every request is appended to LOADTEST_EVENTS as one CSV row.
"""

import csv
import json
import os
import random
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from locust import HttpUser, between, constant, events, task

LONDON = ZoneInfo("Europe/London")
PLAN = json.loads(open(os.environ["LOADTEST_PLAN"]).read())
_events_file = open(os.environ["LOADTEST_EVENTS"], "a", newline="")
_events = csv.writer(_events_file)


@events.request.add_listener
def _record(request_type, name, response_time, response, exception, context, **_):
    status = getattr(response, "status_code", 0) or 0
    _events.writerow([f"{time.time():.3f}", f"{request_type} {name}", status, f"{response_time:.1f}",
                      type(exception).__name__ if exception and not status else ""])


@events.quitting.add_listener
def _flush(**_):
    _events_file.flush()


class SignedIn(HttpUser):
    abstract = True
    person: dict

    def on_start(self):
        self.person = self.pick()
        self.client.cookies.set("sessionid", self.person["session"])
        self.client.cookies.set("csrftoken", PLAN["csrf"])
        self.api_headers = {"X-CSRFToken": PLAN["csrf"], "Accept": "application/json"}

    def slots(self, service: str) -> list[dict]:
        with self.client.get("/api/v1/availability/", params={
            "service": service, "date_from": PLAN["date_from"], "date_to": PLAN["date_to"]},
                name="/api/v1/availability/", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
                return []
            return r.json().get("slots", [])


class Patient(SignedIn):
    wait_time = between(2, 6)
    _next = 0

    def pick(self):
        Patient._next += 1
        return PLAN["patients"][(Patient._next - 1) % len(PLAN["patients"])]

    def on_start(self):
        super().on_start()
        self.mine: list[int] = []

    def post(self, path, body, name, ok=(200, 201)):
        with self.client.post(path, json=body, headers=self.api_headers, name=name, catch_response=True) as r:
            if r.status_code not in ok and r.status_code < 500:
                r.success()  # a refusal the rules allow (slot taken, not cancellable): not a failure
            return r

    @task(10)
    def book_and_pay(self):
        service = PLAN["first_service"] if self.person.get("code") else random.choice(PLAN["services"])
        slots = self.slots(service)
        if not slots:
            return
        if random.random() < 0.1:
            self.post("/api/v1/offers/claim/", {"email": self.person["email"]}, "/api/v1/offers/claim/")
        # Half race for the first few slots, half spread over the week.
        slot = random.choice(slots[:3]) if random.random() < 0.5 else random.choice(slots)
        body = {"service": service, "start": slot["start"], "practitioner": slot["practitioner"]}
        if service == PLAN["first_service"]:
            body["intake"] = PLAN["intake"]
            if self.person.get("code"):
                body["offer_code"] = self.person["code"]
        r = self.post("/api/v1/bookings/", body, "/api/v1/bookings/ (create)")
        if r.status_code != 201:
            return
        booking = r.json()
        self.mine.append(booking["id"])
        if random.random() < 0.8 and booking.get("checkout_url"):
            self.pay(booking)

    def pay(self, booking):
        path = "/payments/test-checkout/" + booking["checkout_url"].rstrip("/").rsplit("/", 1)[1] + "/"
        self.client.get(path, name="/payments/test-checkout/{id}/ (page)")
        self.client.post(path, data={"action": "pay", "csrfmiddlewaretoken": PLAN["csrf"]},
                         name="/payments/test-checkout/{id}/ (pay, then success page)")

    @task(3)
    def move_one(self):
        if not self.mine:
            return
        pk = random.choice(self.mine)
        r = self.client.get(f"/api/v1/bookings/{pk}/", name="/api/v1/bookings/{id}/")
        if r.status_code != 200:
            return
        b = r.json()
        if b.get("status") not in ("held", "confirmed"):
            return
        slots = [s for s in self.slots(b["service"]) if s["start"] != b["start"]]
        if slots:
            slot = random.choice(slots[:5])
            self.post(f"/api/v1/bookings/{pk}/reschedule/", {"start": slot["start"]},
                      "/api/v1/bookings/{id}/reschedule/")

    @task(2)
    def cancel_one(self):
        if self.mine:
            pk = self.mine.pop(random.randrange(len(self.mine)))
            self.post(f"/api/v1/bookings/{pk}/cancel/", {"reason": "load test"}, "/api/v1/bookings/{id}/cancel/")

    @task(3)
    def my_bookings(self):
        self.client.get("/api/v1/bookings/", name="/api/v1/bookings/ (list)")


class Receptionist(SignedIn):
    fixed_count = int(os.environ.get("LOADTEST_RECEPTIONISTS", "3"))
    wait_time = between(3, 8)
    _next = 0

    def pick(self):
        Receptionist._next += 1
        return PLAN["receptionists"][(Receptionist._next - 1) % len(PLAN["receptionists"])]

    @task(4)
    def day_view(self):
        self.client.get(f"/staff/day/{PLAN['date_from']}/", name="/staff/day/{date}/")

    @task(3)
    def calendar_api(self):
        self.client.get("/api/v1/staff/calendar/", params={"date": PLAN["date_from"]}, name="/api/v1/staff/calendar/")

    @task(2)
    def book_by_phone(self):
        service = random.choice(PLAN["services"])
        slots = self.slots(service)
        if not slots:
            return
        slot = random.choice(slots[:6])
        local = datetime.fromisoformat(slot["start"]).astimezone(LONDON)
        day, clock = f"{local:%Y-%m-%d}", f"{local:%H:%M}"
        with self.client.post("/staff/book/", data={
            "csrfmiddlewaretoken": PLAN["csrf"], "service": PLAN["service_ids"][service],
            "practitioner": slot["practitioner"], "date": day, "time": clock,
            "patient_id": random.choice(PLAN["patients"])["id"], "payment": "card_terminal", "hold_minutes": 1440,
        }, name="/staff/book/ (by phone)", allow_redirects=False, catch_response=True) as r:
            if r.status_code in (200, 302):
                r.success()  # 302 booked; 200 the form again (the slot went meanwhile)


class Monitor(HttpUser):
    fixed_count = 1
    wait_time = constant(0.5)

    @task
    def healthz(self):
        self.client.get("/healthz", name="/healthz")
