"""Benchmark the owner's reports page on a year of a busy clinic (issue 18's target).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python scripts/bench_reports.py

Builds, in a SEPARATE database (PostgreSQL `bench_physiobook_reports` on the
server DATABASE_URL names, else a temporary SQLite file), 8 practitioners and
20,000 bookings over the past year (attended, no-shows, cancellations, online
and reception), a payment for each paid one, refunds, and 2,000 offer codes;
then prints, as medians:

  - the per-day summary's build on this cold year (the first report after deploy: every day
    stale), in process
  - the five reports for the whole year in process (time and queries), and the same after one
    day was marked stale (a booking changed: that day is recomputed first)
  - GET /reports/?date_from=...&date_to=... (a year) over HTTP against gunicorn
    on a free 127.0.0.1 port, logged in as a manager, interleaved with GET
    /healthz on the same server, and their ratio (target: <= 5x /healthz):
    first UNCACHED (a server with REPORTS_CACHE_SECONDS=0: every request
    computes the five reports and renders them), then CACHED (a server with
    the default cache: the first request builds it, the rest read it back)

    --profile prints a pyinstrument profile of one uncached build and render.

The year's rows are written with bulk_create, which sends no signals: the summary starts empty
(every day never computed), as on the first deploy.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (scripts/bench.py: the clinic, after sys.path)
from benchlib import (  # noqa: E402  (scripts/benchlib.py: database, gunicorn and timing)
    Gunicorn,
    bench_database_url,
    clean_up,
    collectstatic,
    median_ms,
    production_env,
    session_cookie,
    timed,
    timed_pair,
)

BENCH_DB = "bench_physiobook_reports"
BOOKINGS = 20_000
CODES = 2_000
TARGET_RATIO = 5.0
SECRET_KEY = secrets.token_urlsafe(64)


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


def profile(period) -> None:
    """One uncached build of the five reports and the page's render, under pyinstrument."""
    from pyinstrument import Profiler

    from reports.figures import Period
    from reports.html import sections_html
    from reports.sections import SECTIONS

    sections_html([build(period) for build in SECTIONS.values()], period)  # imports and URLs loaded
    period = Period(period.date_from, period.date_to)  # nothing memoised
    profiler = Profiler(interval=0.0001)
    with profiler:
        sections_html([build(period) for build in SECTIONS.values()], period)
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="pyinstrument profile of one uncached build and render")
    args = parser.parse_args()

    database_url, tmp = bench_database_url(BENCH_DB)
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
    from reports import summary
    from reports.figures import Period
    from reports.html import sections_html
    from reports.models import BookingDay, ComputedDay, FunnelDay, MethodDay, StaleDay
    from reports.sections import SECTIONS

    server = None
    try:
        print(f"Benchmark database: {connection.vendor} {connection.settings_dict['NAME']}")
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)  # the cache when REDIS_URL is unset
        started = clock.perf_counter()
        today = timezone.localtime(timezone.now(), LONDON).date()
        manager, first_day = build_year(today, LONDON, random.Random(18))
        print(f"Built 8 practitioners, {BOOKINGS:,} bookings from {first_day} to {today - timedelta(days=1)}, "
              f"payments, refunds, {CODES:,} offer codes in {clock.perf_counter() - started:.0f} s")
        first, last = today - timedelta(days=365), today
        summary_tables = [m._meta.db_table for m in (StaleDay, ComputedDay, BookingDay, MethodDay, FunnelDay)]
        with connection.cursor() as cursor:  # empty, as on the first deploy (no dead rows from an earlier run)
            for table in summary_tables:
                cursor.execute(f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}")
        started = clock.perf_counter()
        summary.summary_totals(Period(first, last))
        cold_ms = (clock.perf_counter() - started) * 1000
        with connection.cursor() as cursor:  # as the source tables were, and as autovacuum would soon
            for table in summary_tables:
                cursor.execute(f"ANALYZE {table}" if connection.vendor == "postgresql" else "ANALYZE")
        print(f"  summary build, a cold year ({(last - first).days + 1} days): "
              f"{cold_ms:8.1f} ms (once, the first report after deploy)")

        def page():  # what the view does: the five reports of one Period, written out
            period = Period(first, last)
            return sections_html([build(period) for build in SECTIONS.values()], period)

        with CaptureQueriesContext(connection) as ctx:
            page()
        in_process = timed(page, args.repeat)
        print(f"  five reports, a year, in process: {median_ms(in_process):8.1f} ms, "
              f"{len(ctx.captured_queries)} queries")
        yesterday = today - timedelta(days=1)

        def page_after_a_write():
            summary.mark_stale([yesterday])
            page()

        after_write = timed(page_after_a_write, args.repeat)
        print(f"  the same after a write (one day stale, recomputed first): {median_ms(after_write):8.1f} ms")
        period = Period(first, last)
        if args.profile:
            profile(period)
        cookie = session_cookie(manager)
        path = f"/reports/?date_from={period.date_from}&date_to={period.date_to}"
        for label, cache_seconds in (("uncached", 0), ("cached", 300)):
            cache.clear()  # the shared cache (REDIS_URL): no report left from an earlier run
            # Our SECRET_KEY, so our session cookie is valid there.
            env = {**production_env(SECRET_KEY), "REPORTS_CACHE_SECONDS": str(cache_seconds)}
            collectstatic({"DATABASE_URL": database_url, **env})
            server = Gunicorn(database_url, env=env)
            try:
                started = clock.perf_counter()
                status, body = server.get(path, cookie)  # the cached server builds its cache here
                first_ms = (clock.perf_counter() - started) * 1000
                assert status == 200 and b"Utilisation per practitioner" in body, (status, body[:300])
                running = server
                health, page = timed_pair(lambda: running.get("/healthz"),  # noqa: B023 (called at once)
                                          lambda: running.get(path, cookie), args.repeat)  # noqa: B023
            finally:
                server.stop()
                server = None
            ratio = statistics.median(page) / statistics.median(health)
            print(f"  [{label}, REPORTS_CACHE_SECONDS={cache_seconds}] first request {first_ms:.1f} ms; "
                  f"GET /healthz {median_ms(health):.2f} ms; GET /reports/ (a year, {len(body) / 1024:.0f} KB) "
                  f"{median_ms(page):.2f} ms = {ratio:.1f}x /healthz "
                  f"(target <= {TARGET_RATIO:.0f}x): {'OK' if ratio <= TARGET_RATIO else 'MISSED'}")
    finally:
        clean_up(server, tmp)


if __name__ == "__main__":
    main()
