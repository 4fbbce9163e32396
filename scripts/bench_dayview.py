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
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ensure_postgres_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def seed(bookings: int, offset_days: int):
    import django

    django.setup()
    from django.contrib.sessions.backends.db import SessionStore
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
    session = SessionStore()
    session["_auth_user_id"] = str(receptionist.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = receptionist.get_session_auth_hash()
    session.save()
    return day, session.session_key


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


def timed_get(url: str, cookie: str | None = None) -> tuple[float, int, int]:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"} if cookie else {})
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        body = response.read()
        status = response.status
    return (time.perf_counter() - started) * 1000, status, len(body)


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

    if args.production:
        import secrets

        os.environ.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="127.0.0.1,localhost",
                          SECURE_SSL_REDIRECT="0", ALLOW_TEST_PAYMENTS="1")
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, check=True,
                       env={**os.environ, "DATABASE_URL": args.database_url})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    ensure_postgres_database(args.database_url)
    day, cookie = seed(args.bookings, args.offset_days)
    queries = count_queries(day)
    if not args.port:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]

    env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1")}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{args.port}", "-w", str(args.workers),
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                timed_get(f"{base}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        day_url = f"{base}/staff/day/{day.isoformat()}/"
        ms, status, size = timed_get(day_url, cookie)
        assert status == 200 and size > 10_000, (status, size)
        for _ in range(10):  # warm every worker
            timed_get(f"{base}/healthz")
            timed_get(day_url, cookie)
        from booking.slot_cache import calendar_changed

        health, dayview, uncached = [], [], []
        for _ in range(args.requests):
            health.append(timed_get(f"{base}/healthz")[0])
            dayview.append(timed_get(day_url, cookie)[0])
            calendar_changed()  # as any calendar write does: the next view renders from the database
            uncached.append(timed_get(day_url, cookie)[0])
    finally:
        server.terminate()
        server.wait(10)

    def line(name, samples):
        q = statistics.quantiles(samples, n=10)
        return f"{name:<28} median {statistics.median(samples):7.2f} ms   p90 {q[-1]:7.2f} ms   n={len(samples)}"

    print(f"database {args.database_url.split('://')[0]}, gunicorn -w {args.workers}, DEBUG={env['DEBUG']}, "
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
