"""Benchmark the owner's reports page on a year of a busy clinic (issue 18's target).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python scripts/bench_reports.py

Builds, in a SEPARATE database (PostgreSQL `bench_physiobook_reports` on the
server DATABASE_URL names, else a temporary SQLite file), 8 practitioners and
20,000 bookings over the past year (attended, no-shows, cancellations, online
and reception), a payment for each paid one, refunds, and 2,000 offer codes;
then prints, as medians:

  - the five reports for the whole year in process (time and queries)
  - GET /reports/?date_from=...&date_to=... (a year) over HTTP against gunicorn
    on a free 127.0.0.1 port, logged in as a manager, interleaved with GET
    /healthz on the same server, and their ratio (target: <= 5x /healthz):
    first UNCACHED (a server with REPORTS_CACHE_SECONDS=0: every request
    computes the five reports and renders them), then CACHED (a server with
    the default cache: the first request builds it, the rest read it back)

    --profile prints a pyinstrument profile of one uncached build and render.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench  # noqa: E402  (scripts/bench.py: database set-up and timing helpers, after sys.path)

bench.BENCH_DB = "bench_physiobook_reports"
BOOKINGS = 20_000
CODES = 2_000
TARGET_RATIO = 5.0
SECRET_KEY = secrets.token_urlsafe(64)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn as deployed (DEBUG=0), sharing our SECRET_KEY so our session cookie is valid there."""

    def __init__(self, port: int, database_url: str, cache_seconds: int):
        self.port = port
        # ALLOW_TEST_PAYMENTS: DEBUG=0 refuses to start without a Stripe key otherwise (no money moves here).
        env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "0", "SECRET_KEY": SECRET_KEY,
               "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0", "LOG_LEVEL": "ERROR",
               "PYTHONWARNINGS": "ignore", "PYTHONPATH": str(ROOT), "ALLOW_TEST_PAYMENTS": "1",
               "REPORTS_CACHE_SECONDS": str(cache_seconds)}
        # DEBUG=0 serves hashed static names from the manifest, as deployed.
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                       check=True)
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.process = subprocess.Popen(
            [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--log-level", "warning", "--chdir", str(ROOT)], env=env, start_new_session=True)
        deadline = clock.monotonic() + 30
        while clock.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}")
            try:
                if get(port, "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            clock.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not answer /healthz")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)


def get(port: int, path: str, cookie: str = "") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Host": "127.0.0.1"}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def build_year(today, tz, rng):
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.models import User
    from booking.models import Booking, BookingEvent
    from offers.models import Offer, OfferCode
    from payments.models import Payment, Refund

    for table in ("payments_refund", "payments_payment", "offers_offercode"):
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
    assessment, follow_up, patient, physios = bench.build_clinic()
    patients = [patient] + [
        User.objects.create_user(username=f"p{n}@bench.local", email=f"p{n}@bench.local", password=None) for n in range(200)
    ]
    slots = []
    day = today - timedelta(days=1)
    while len(slots) < BOOKINGS:
        for physio in physios:
            slots.extend((physio, start) for start in bench.hour_starts(day, tz))
        day -= timedelta(days=1)
    first_day = day + timedelta(days=1)
    S = Booking.Status
    rows = []
    for physio, start in slots[:BOOKINGS]:
        service = assessment if rng.random() < 0.3 else follow_up
        status = rng.choices([S.ATTENDED, S.NO_SHOW, S.CANCELLED], [85, 5, 10])[0]
        rows.append(Booking(
            patient=rng.choice(patients), practitioner=physio, service=service, start=start,
            end=start + timedelta(minutes=service.duration), blocks_until=start + timedelta(minutes=service.blocked_minutes),
            status=status, price_pence=service.price_pence, amount_due_pence=service.price_pence,
            source=rng.choices([Booking.Source.ONLINE, Booking.Source.RECEPTION], [70, 30])[0]))
    bookings = Booking.objects.bulk_create(rows, batch_size=5000)
    events, payments = [], []
    methods = [Payment.Method.STRIPE_CHECKOUT, Payment.Method.CARD_TERMINAL, Payment.Method.CASH]
    for b in bookings:
        if b.status == S.CANCELLED:
            events.append(BookingEvent(booking=b, action=BookingEvent.Action.CANCELLED, from_status="confirmed",
                                       to_status="cancelled", at=b.start - timedelta(hours=rng.choice([2, 12, 48, 96]))))
        payments.append(Payment(booking=b, method=rng.choices(methods, [75, 20, 5])[0], status=Payment.Status.SUCCEEDED,
                                amount_pence=b.amount_due_pence, idempotency_key=f"bench-{b.pk}",
                                paid_at=b.start - timedelta(days=rng.randint(0, 14))))
    BookingEvent.objects.bulk_create(events, batch_size=5000)
    payments = Payment.objects.bulk_create(payments, batch_size=5000)
    cancelled = {b.pk for b in bookings if b.status == S.CANCELLED}
    Refund.objects.bulk_create(
        [Refund(payment=p, amount_pence=p.amount_pence, status=Refund.Status.SUCCEEDED) for p in payments
         if p.booking_id in cancelled], batch_size=5000)
    offer = Offer.objects.create()
    offer.services.set([assessment])
    first_sessions = [b for b in bookings if b.service_id == assessment.pk and b.status == S.ATTENDED]
    codes = []
    for n in range(CODES):
        issued = datetime.combine(first_day + timedelta(days=rng.randint(0, 360)), time(12), tzinfo=tz)
        redeemed = first_sessions[n] if n % 2 == 0 and n < len(first_sessions) else None
        codes.append(OfferCode(offer=offer, code=f"FIRSTBENCH{n:06d}", email=f"c{n}@bench.local",
                               mailbox_hash=f"{n:064d}", issued_at=issued, expires_at=issued + timedelta(hours=24),
                               redeemed_by=redeemed))
    OfferCode.objects.bulk_create(codes, batch_size=2000)
    manager, _ = User.objects.get_or_create(username="owner@bench.local", defaults={"email": "owner@bench.local"})
    manager.groups.add(Group.objects.get_or_create(name="Manager")[0])
    for table in ("booking_booking", "booking_bookingevent", "payments_payment", "payments_refund", "offers_offercode"):
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}" if connection.vendor == "postgresql" else "ANALYZE")
    return manager, first_day


def session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def profile(period) -> None:
    """One uncached build of the five reports and the page's render, under pyinstrument."""
    from django.template.loader import render_to_string
    from pyinstrument import Profiler

    from reports.sections import SECTIONS

    profiler = Profiler(interval=0.0005)
    with profiler:
        sections = [build(period) for build in SECTIONS.values()]
        render_to_string("reports/_sections.html", {"sections": sections, "period": period})
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of one uncached build and render")
    args = parser.parse_args()

    database_url, tmp = bench.bench_database_url()
    os.environ.update(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, DJANGO_SETTINGS_MODULE="config.settings",
                      LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from booking.availability import LONDON
    from reports.figures import Period
    from reports.sections import SECTIONS

    server = None
    try:
        print(f"Benchmark database: {connection.vendor} {connection.settings_dict['NAME']}")
        call_command("migrate", verbosity=0)
        started = clock.perf_counter()
        today = timezone.localtime(timezone.now(), LONDON).date()
        manager, first_day = build_year(today, LONDON, random.Random(18))
        print(f"Built 8 practitioners, {BOOKINGS:,} bookings from {first_day} to {today - timedelta(days=1)}, "
              f"payments, refunds, {CODES:,} offer codes in {clock.perf_counter() - started:.0f} s")
        period = Period(today - timedelta(days=365), today)
        with CaptureQueriesContext(connection) as ctx:
            for build in SECTIONS.values():
                build(period)
        in_process = bench.timed(lambda: [build(period) for build in SECTIONS.values()], args.repeat)
        print(f"  five reports, a year, in process: {bench.median_ms(in_process):8.1f} ms, "
              f"{len(ctx.captured_queries)} queries")
        if args.profile:
            profile(period)
        cookie = session_cookie(manager)
        path = f"/reports/?date_from={period.date_from}&date_to={period.date_to}"
        for label, cache_seconds in (("uncached", 0), ("cached", 300)):
            cache.clear()  # the shared cache (REDIS_URL): no report left from an earlier run
            server = Server(free_port(), database_url, cache_seconds)
            try:
                started = clock.perf_counter()
                status, body = get(server.port, path, cookie)  # cached server: builds the cache
                first_ms = (clock.perf_counter() - started) * 1000
                assert status == 200 and b"Utilisation per practitioner" in body, (status, body[:300])
                port = server.port
                health, page = bench.timed_pair(lambda: get(port, "/healthz"),  # noqa: B023 (called at once)
                                                lambda: get(port, path, cookie), args.repeat)  # noqa: B023
            finally:
                server.stop()
                server = None
            ratio = statistics.median(page) / statistics.median(health)
            print(f"  [{label}, REPORTS_CACHE_SECONDS={cache_seconds}] first request {first_ms:.1f} ms; "
                  f"GET /healthz {bench.median_ms(health):.2f} ms; GET /reports/ (a year, {len(body) / 1024:.0f} KB) "
                  f"{bench.median_ms(page):.2f} ms = {ratio:.1f}x /healthz "
                  f"(target <= {TARGET_RATIO:.0f}x): {'OK' if ratio <= TARGET_RATIO else 'MISSED'}")
    finally:
        if server is not None:
            server.stop()
        connection.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
