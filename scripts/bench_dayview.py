"""Median render time of the staff day view beside /healthz, same server, same run.

Seeds a clinic day (8 practitioners, 60 bookings by default) into its own
database, starts gunicorn on a free 127.0.0.1 port, logs a receptionist in
through a session cookie, counts the day view's queries once in process, then
asks /healthz, the day view from its cache, and the day view just after a
calendar write (the version bumped, so rendered from the database) in turn N
times each and prints the ratio of each median to /healthz's (target: <= 5x
/healthz with 240 bookings, cached or not; <= 7 queries).

    .venv/bin/python scripts/bench_dayview.py [--bookings 240] [--requests 100]
        [--offset-days 1] [--production] [--database-url postgres://postgres@127.0.0.1:5432/reception_bench]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import (  # noqa: E402  (scripts/benchlib.py: database, gunicorn and timing)
    Gunicorn,
    collectstatic,
    postgres_database,
    production_env,
    session_cookie,
)


def seed(bookings: int, offset_days: int):
    import django

    django.setup()
    from django.core.management import call_command
    from datetime import timedelta

    from django.utils import timezone

    from booking.availability import LONDON
    from tests.factories import ReceptionistFactory
    from tests.staff.seed import add_lunches, fill_day, make_clinic, make_patients

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    day = timezone.localtime(timezone.now(), LONDON).date() + timedelta(days=offset_days)
    _, follow_up, practitioners = make_clinic(8, all_week=True)
    fill_day(day, practitioners, follow_up, make_patients(20), bookings)
    add_lunches(day, practitioners)
    receptionist = ReceptionistFactory(email="bench-reception@clinic.example", password=None)
    return day, session_cookie(receptionist)


def count_queries(day) -> int:
    """The day view's queries, rendered once in process by the same receptionist, not from the cache."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email="bench-reception@clinic.example"))
    from booking.slot_cache import calendar_changed

    client.get(f"/staff/day/{day.isoformat()}/", HTTP_HOST="127.0.0.1")  # warm: caches, first-use imports
    calendar_changed()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/staff/day/{day.isoformat()}/", HTTP_HOST="127.0.0.1")
    assert response.status_code == 200
    return len(captured)


def ms(get) -> float:
    """Milliseconds one call of get() takes."""
    started = time.perf_counter()
    get()
    return (time.perf_counter() - started) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=60)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--offset-days", type=int, default=1,
                        help="0 = today; 1 (default) = tomorrow, every free 15-minute cell is a booking link (heavier)")
    parser.add_argument("--production", action="store_true",
                        help="DEBUG=0 as deployed (collectstatic into staticfiles/, a throwaway SECRET_KEY, no SSL redirect)")
    parser.add_argument("--port", type=int, default=0, help="0 (default) = any free port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/reception_bench")
    args = parser.parse_args()

    server_env = {"DEBUG": os.environ.get("DEBUG", "1")}
    if args.production:
        server_env = production_env()
        os.environ.update(server_env)
        collectstatic({"DATABASE_URL": args.database_url})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    if args.database_url.startswith("postgres"):
        postgres_database(args.database_url, fresh=True)
    day, cookie = seed(args.bookings, args.offset_days)
    queries = count_queries(day)

    with Gunicorn(args.database_url, env=server_env, port=args.port, workers=args.workers) as server:
        day_path = f"/staff/day/{day.isoformat()}/"
        status, body = server.get(day_path, cookie)
        size = len(body)
        assert status == 200 and size > 10_000, (status, size)
        for _ in range(10):  # warm every worker
            server.get("/healthz")
            server.get(day_path, cookie)
        from booking.slot_cache import calendar_changed

        health, dayview, uncached = [], [], []
        for _ in range(args.requests):
            health.append(ms(lambda: server.get("/healthz")))
            dayview.append(ms(lambda: server.get(day_path, cookie)))
            calendar_changed()  # as any calendar write does: the next view renders from the database
            uncached.append(ms(lambda: server.get(day_path, cookie)))

    def line(name, samples):
        q = statistics.quantiles(samples, n=10)
        return f"{name:<28} median {statistics.median(samples):7.2f} ms   p90 {q[-1]:7.2f} ms   n={len(samples)}"

    print(f"database {args.database_url.split('://')[0]}, gunicorn -w {args.workers}, DEBUG={server_env['DEBUG']}, "
          f"{args.bookings} bookings, 8 practitioners, page {size} bytes")
    print(line("/healthz", health))
    print(line(f"/staff/day/{day.isoformat()}/ cached", dayview))
    print(line(f"/staff/day/{day.isoformat()}/ uncached", uncached))
    for name, samples in (("cached", dayview), ("uncached", uncached)):
        ratio = statistics.median(samples) / statistics.median(health)
        print(f"day view {name} = {ratio:.1f}x /healthz (target <= 5x)")
    print(f"{queries} queries uncached (target <= 7)")


if __name__ == "__main__":
    main()
