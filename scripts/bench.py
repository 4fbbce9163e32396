"""Benchmark the availability engine and booking creation (issue 3's targets).

    python scripts/bench.py            # or: make bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/physiobook python scripts/bench.py

Builds a clinic of 8 practitioners with 2,000 bookings over the next 60 days in
a SEPARATE database (PostgreSQL `bench_physiobook` on the server DATABASE_URL
names, else a temporary SQLite file), then measures, as medians:

  - 30 days of any-practitioner availability, in process (time and queries)
  - the same over HTTP (GET /api/v1/availability/) against gunicorn on
    127.0.0.1:BENCH_PORT (default 8101), beside GET /healthz on the same server
  - one booking creation (booking_hold) in process

then adds 100,000 past bookings and measures it all again. Targets (issue 3):
<= 3 queries, <= 60 ms in process, HTTP <= 5x /healthz, creation <= 3x
/healthz, and nothing more than 1.2x worse with 100,000 past bookings.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402  (scripts/benchlib.py, after sys.path)
    Gunicorn,
    bench_database_url,
    clean_up,
    median_ms,
    production_env,
    timed,
    timed_pair,
)

BENCH_DB = "bench_physiobook"
PRACTITIONERS = 8
FUTURE_BOOKINGS = 2_000
PAST_BOOKINGS = 100_000
HORIZON_DAYS = 60
WINDOW_DAYS = 30

TARGET_QUERIES = 3
TARGET_IN_PROCESS_MS = 60.0
TARGET_HTTP_RATIO = 5.0
TARGET_CREATE_RATIO = 3.0
TARGET_GROWTH = 1.2
JSON = "application/json"


# --- the clinic -----------------------------------------------------------------


def build_clinic():
    from django.db import connection

    from accounts.models import User
    from booking.models import Booking, BookingEvent, Practitioner, Service, TimeOff, WorkingHours

    # Start from empty so every run measures the same thing.
    BookingEvent.objects.all().delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE booking_booking CASCADE")
    else:
        Booking.objects.all().delete()
    TimeOff.objects.all().delete()
    WorkingHours.objects.all().delete()
    Practitioner.objects.all().delete()
    User.objects.filter(email__endswith="@bench.local").delete()
    Service.objects.all().delete()

    assessment = Service.objects.create(
        name="Sciatica assessment", slug="sciatica-assessment", duration=45, buffer_after=15, price_pence=7500,
        is_first_session=True,
    )
    follow_up = Service.objects.create(
        name="Follow-up treatment", slug="follow-up-treatment", duration=30, buffer_after=0, price_pence=6000,
    )
    patient = User.objects.create_user(username="patient@bench.local", email="patient@bench.local", password=None)
    physios = []
    for n in range(PRACTITIONERS):
        user = User.objects.create_user(
            username=f"physio{n}@bench.local", email=f"physio{n}@bench.local", first_name="Physio", last_name=str(n),
            is_staff=True,
        )
        physio = Practitioner.objects.create(user=user, position=n)
        physio.services.set([assessment, follow_up])
        rows = []
        for weekday in range(6):
            rows.append(WorkingHours(practitioner=physio, weekday=weekday, start_time=time(9), end_time=time(13)))
            rows.append(WorkingHours(practitioner=physio, weekday=weekday, start_time=time(14), end_time=time(18)))
        WorkingHours.objects.bulk_create(rows)
        physios.append(physio)
    return assessment, follow_up, patient, physios


def hour_starts(day, tz) -> list[datetime]:
    """The eight working hours of a Monday-to-Saturday day, as aware London times."""
    if day.weekday() == 6:
        return []
    return [datetime.combine(day, time(hour), tzinfo=tz) for hour in (9, 10, 11, 12, 14, 15, 16, 17)]


def booking_rows(service, patient, physios, starts_by_physio, status):
    from booking.models import Booking

    rows = []
    for physio, starts in starts_by_physio:
        for start in starts:
            rows.append(
                Booking(
                    patient=patient, practitioner=physio, service=service, start=start,
                    end=start + timedelta(minutes=service.duration),
                    blocks_until=start + timedelta(minutes=service.blocked_minutes),
                    status=status, price_pence=service.price_pence, amount_due_pence=service.price_pence,
                )
            )
    return rows


def add_future_bookings(service, patient, physios, today, tz, rng):
    from booking.models import Booking

    candidates = [
        (physio, start)
        for offset in range(1, HORIZON_DAYS + 1)
        for physio in physios
        for start in hour_starts(today + timedelta(days=offset), tz)
    ]
    chosen = rng.sample(candidates, FUTURE_BOOKINGS)
    rows = booking_rows(service, patient, physios, [(p, [s]) for p, s in chosen], Booking.Status.CONFIRMED)
    Booking.objects.bulk_create(rows, batch_size=2000)


def add_past_bookings(service, patient, physios, today, tz):
    from booking.models import Booking

    per_physio = PAST_BOOKINGS // len(physios)
    starts: list[datetime] = []
    day = today - timedelta(days=1)
    while len(starts) < per_physio:
        starts.extend(hour_starts(day, tz))
        day -= timedelta(days=1)
    starts = starts[:per_physio]
    for physio in physios:
        rows = booking_rows(service, patient, physios, [(physio, starts)], Booking.Status.ATTENDED)
        Booking.objects.bulk_create(rows, batch_size=5000)
    if_postgres_analyse()


def if_postgres_analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE booking_booking" if connection.vendor == "postgresql" else "ANALYZE")


# --- one round of measurements -------------------------------------------------


def measure(label, *, assessment, follow_up, patient, physios, today, tz, server, repeat, http_repeat, rng):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from booking import availability, services
    from booking.models import Booking

    date_from, date_to = today, today + timedelta(days=WINDOW_DAYS - 1)

    def thirty_days():
        return availability.free_slots(service=assessment, date_from=date_from, date_to=date_to)

    with CaptureQueriesContext(connection) as captured:
        slots = thirty_days()
    queries = len(captured.captured_queries)
    in_process_cpu: list[float] = []
    in_process = median_ms(timed(thirty_days, repeat, cpu=in_process_cpu))

    # Booking creation: free follow-up slots (30 minutes, no intake needed) on
    # the hour, so no two picks overlap; each is used once, then deleted.
    free = availability.free_slots(service=follow_up, date_from=today + timedelta(days=2), date_to=date_to)
    free = [slot for slot in free if slot.local_start.minute == 0]
    picks = iter(rng.sample(free, min(len(free), repeat + 10)))
    created: list[int] = []
    create_queries: list[int] = []

    def create_one():
        slot = next(picks)
        physio = next(p for p in physios if p.pk == slot.practitioner_id)
        with CaptureQueriesContext(connection) as q:
            booking = services.booking_hold(patient=patient, service=follow_up, start=slot.start, practitioner=physio)
        create_queries.append(len(q.captured_queries))
        created.append(booking.pk)

    create_cpu: list[float] = []
    healthz_samples: list[float] = []
    if server is not None:
        # /healthz requests interleaved with the creations: the same load for both.
        ref, samples = timed_pair(lambda: server.get("/healthz", accept=JSON), create_one, repeat, cpu=create_cpu)
        healthz_samples += ref
    else:
        samples = timed(create_one, repeat, cpu=create_cpu)
    creation = median_ms(samples)
    with transaction.atomic():
        Booking.objects.filter(pk__in=created).delete()

    result = {
        "label": label,
        "bookings": Booking.objects.count(),
        "slots": len(slots),
        "queries": queries,
        "in_process_ms": in_process,
        "in_process_cpu_ms": median_ms(in_process_cpu),
        "create_ms": creation,
        "create_cpu_ms": median_ms(create_cpu),
        "load": os.getloadavg()[0],
        "create_queries": int(statistics.median(create_queries)),
        "healthz_ms": None,
        "http_ms": None,
        "http_note": "",
    }
    if server is not None:
        query = urlencode({"service": assessment.slug, "date_from": date_from.isoformat(), "date_to": date_to.isoformat()})
        path = f"/api/v1/availability/?{query}"
        status, body = server.get(path, accept=JSON)
        if status == 200:
            ref, samples = timed_pair(
                lambda: server.get("/healthz", accept=JSON), lambda: server.get(path, accept=JSON), http_repeat
            )
            healthz_samples += ref
            result["http_ms"] = median_ms(samples)
            result["http_bytes"] = len(body)
        elif status == 404:
            result["http_note"] = "GET /api/v1/availability/ answers 404 on this branch (the API is not merged): HTTP row skipped"
        else:
            result["http_note"] = f"GET /api/v1/availability/ answered {status}: {body[:200]!r}"
        healthz_samples += timed(lambda: server.get("/healthz", accept=JSON), http_repeat)
        result["healthz_ms"] = median_ms(healthz_samples)
    return result


# --- report ----------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok  " if ok else "MISS"


def print_round(r: dict) -> None:
    print(f"\n== {r['label']}: {r['bookings']:,} bookings in the database, {r['slots']:,} slots in 30 days "
          f"(load average {r['load']:.1f} on {os.cpu_count()} CPUs) ==")
    print(f"  availability, 30 days, any of {PRACTITIONERS} practitioners (in process)")
    print(f"    queries        {r['queries']:>8}        target <= {TARGET_QUERIES}      "
          f"{verdict(r['queries'] <= TARGET_QUERIES)}")
    print(f"    median         {r['in_process_ms']:>8.1f} ms     target <= {TARGET_IN_PROCESS_MS:.0f} ms   "
          f"{verdict(r['in_process_ms'] <= TARGET_IN_PROCESS_MS)}  "
          f"({1205 / r['in_process_ms']:.0f}x faster than django-appointment's 1,205 ms)")
    print(f"    CPU (this process) {r['in_process_cpu_ms']:>5.1f} ms")
    if r["healthz_ms"] is not None:
        print(f"  GET /healthz     {r['healthz_ms']:>8.2f} ms     (median, same gunicorn, interleaved with the rows below)")
    if r["http_ms"] is not None:
        ratio = r["http_ms"] / r["healthz_ms"]
        print(f"  availability over HTTP {r['http_ms']:>8.1f} ms = {ratio:.1f}x /healthz   target <= {TARGET_HTTP_RATIO:.0f}x   "
              f"{verdict(ratio <= TARGET_HTTP_RATIO)}   ({r['http_bytes']:,} bytes of JSON)")
    elif r["http_note"]:
        print(f"  availability over HTTP: {r['http_note']}")
    line = (f"  booking creation (booking_hold, in process) {r['create_ms']:.1f} ms "
            f"(CPU {r['create_cpu_ms']:.1f} ms), {r['create_queries']} queries")
    if r["healthz_ms"]:
        ratio = r["create_ms"] / r["healthz_ms"]
        line += f" = {ratio:.1f}x /healthz   target <= {TARGET_CREATE_RATIO:.0f}x   {verdict(ratio <= TARGET_CREATE_RATIO)}"
    print(line)


def print_growth(small: dict, large: dict) -> None:
    print(f"\n== growth from {small['bookings']:,} to {large['bookings']:,} bookings (target <= {TARGET_GROWTH}x) ==")
    for key, name in [("queries", "queries"), ("in_process_ms", "availability in process"),
                      ("http_ms", "availability over HTTP"), ("create_ms", "booking creation")]:
        if small.get(key) and large.get(key):
            ratio = large[key] / small[key]
            print(f"  {name:<26} {ratio:>5.2f}x   {verdict(ratio <= TARGET_GROWTH)}")


# --- main --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per in-process figure (median reported)")
    parser.add_argument("--http-repeat", type=int, default=30, help="timed requests per HTTP figure")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8101)))
    parser.add_argument("--no-http", action="store_true", help="skip gunicorn and the HTTP rows")
    args = parser.parse_args()

    database_url, tmp = bench_database_url(BENCH_DB)
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # One bench patient makes every timed hold, and none is paid: lift the live-holds cap
    # (the check still runs, so the queries are the same as a patient's).
    os.environ.setdefault("BOOKING_MAX_LIVE_HOLDS", "1000000")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from booking.availability import LONDON

    server = None
    try:
        print(f"Benchmark database: {connection.vendor} {connection.settings_dict['NAME']}")
        call_command("migrate", verbosity=0)
        rng = random.Random(3)
        assessment, follow_up, patient, physios = build_clinic()
        today = timezone.localtime(timezone.now(), LONDON).date()
        add_future_bookings(assessment, patient, physios, today, LONDON, rng)
        if_postgres_analyse()
        if not args.no_http:
            server = Gunicorn(database_url, env=production_env(), port=args.port)
        common = dict(assessment=assessment, follow_up=follow_up, patient=patient, physios=physios, today=today,
                      tz=LONDON, server=server, repeat=args.repeat, http_repeat=args.http_repeat)
        small = measure(f"{FUTURE_BOOKINGS:,} bookings over {HORIZON_DAYS} days", rng=random.Random(5), **common)
        print_round(small)
        started = clock.perf_counter()
        add_past_bookings(assessment, patient, physios, today, LONDON)
        print(f"\n(added {PAST_BOOKINGS:,} past bookings in {clock.perf_counter() - started:.0f} s)")
        large = measure(f"plus {PAST_BOOKINGS:,} past bookings", rng=random.Random(5), **common)
        print_round(large)
        print_growth(small, large)
    finally:
        clean_up(server, tmp)


if __name__ == "__main__":
    main()
