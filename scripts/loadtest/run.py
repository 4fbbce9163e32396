"""make loadtest: the offer-campaign burst against make serve's processes, then the database checks.

    python scripts/loadtest/run.py                 # 200 patients + 3 receptionists for 3 minutes
    python scripts/loadtest/run.py --faults        # the same with faults injected on a schedule
    python scripts/loadtest/run.py --smoke         # 30 s, 20 patients: the CI run

What it runs, all on 127.0.0.1 and free ports: a private PostgreSQL cluster
and Redis (so the fault run can restart and stop them without touching the
machine's shared ones), then the Procfile's processes with make serve's
DEBUG=0 settings: gunicorn (4 workers), a Celery worker (2 processes) and
beat. The database is migrated, seeded with `demo_data`, patients (signed
in, 60 % holding an offer code) and receptionists. Locust drives it headless
for --duration seconds (scripts/loadtest/locustfile.py).

Then it waits for the outbox to drain, and prints per endpoint: requests,
failures (5xx, connection errors), refusals (4xx the rules give: slot taken,
not cancellable), median, p95, and p95 / the /healthz p95 of the same run.
With --faults, the errors inside each fault window. Then the checks: 0
overlapping active bookings, 0 codes redeemed twice, the payments audit,
every confirmed booking's confirmation email sent exactly once, outbox empty.
Exit status 1 on any failed check or any 5xx / connection error outside the
fault windows.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from datetime import timedelta, UTC
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from scripts.loadtest.infra import PrivatePostgres, PrivateRedis, free_port, wait_port  # noqa: E402

BIN = Path(sys.executable).parent
# A fault window lasts from the fault until this long after recovery (reconnects, worker respawn).
RECOVERY_GRACE = 10.0


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ----------------------------------------------------------------------------- processes


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


class Proc:
    """One Procfile process, in its own process group so it can be stopped whole."""

    def __init__(self, name: str, command: str, env: dict, workdir: Path):
        self.name, self.command, self.env, self.workdir = name, command.strip(), env, workdir
        self.popen: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.workdir / f"{self.name}.log", "ab")
        self.popen = subprocess.Popen(["bash", "-c", "exec " + self.command], cwd=ROOT, env=self.env,
                                      stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> None:
        if not self.popen or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s")


# ----------------------------------------------------------------------------- seed


def seed(*, patients: int, receptionists: int, workdir: Path) -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from booking.availability import LONDON
    from booking.models import Service
    from offers.models import Offer, OfferCode
    from offers.services import generate_code

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("demo_data", force=True, verbosity=0, stdout=io.StringIO())
    call_command("collectstatic", "--noinput", verbosity=0)

    def session_for(user) -> str:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "accounts.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.set_expiry(24 * 3600)
        store.create()
        return store.session_key

    now = timezone.now()
    offer = Offer.objects.filter(active=True).first()
    reception = Group.objects.get_or_create(name="Reception")[0]
    plan_patients, plan_reception = [], []
    for i in range(patients):
        user = User.objects.create(email=f"load{i}@example.com", username=f"load{i}@example.com",
                                   first_name="Load", last_name=f"Patient{i}")
        person = {"id": user.pk, "email": user.email, "session": session_for(user)}
        if offer and i % 5 < 3:  # 60 % arrived through the campaign email with a code
            code = OfferCode.objects.create(offer=offer, code=generate_code(), email=user.email, issued_at=now,
                                            expires_at=now + timedelta(hours=offer.validity_hours))
            person["code"] = code.display_code
        plan_patients.append(person)
    for i in range(receptionists):
        user = User.objects.create(email=f"desk{i}@physiobook.local", username=f"desk{i}@physiobook.local",
                                   first_name="Desk", last_name=str(i), is_staff=True)
        user.groups.add(reception)
        plan_reception.append({"id": user.pk, "email": user.email, "session": session_for(user)})
    services = Service.objects.filter(active=True, bookable_online=True)
    first = services.filter(is_first_session=True).first()
    today = timezone.localtime(now, LONDON).date()
    return {
        "csrf": secrets.token_hex(16),
        "patients": plan_patients,
        "receptionists": plan_reception,
        "services": [s.slug for s in services],
        "service_ids": {s.slug: s.pk for s in services},
        "first_service": first.slug,
        "date_from": str(today + timedelta(days=1)),
        "date_to": str(today + timedelta(days=7)),
        "intake": {"pain_areas": ["buttock", "thigh"], "side": "left", "duration_weeks": 3},
    }


# ----------------------------------------------------------------------------- faults


class Faults(threading.Thread):
    """Injects the faults on a schedule (seconds after the load starts) and records their windows."""

    def __init__(self, *, t0: float, web: Proc, worker: Proc, pg: PrivatePostgres, redis: PrivateRedis,
                 scale: float = 1.0):
        super().__init__(daemon=True)
        self.t0, self.web, self.worker, self.pg, self.redis, self.scale = t0, web, worker, pg, redis, scale
        self.windows: list[dict] = []

    def at(self, seconds: float) -> None:
        time.sleep(max(0.0, self.t0 + seconds * self.scale - time.time()))

    def window(self, name: str, start: float, end: float) -> None:
        self.windows.append({"name": name, "start": start, "end": end, "until": end + RECOVERY_GRACE})
        log(f"fault '{name}' over ({end - start:.1f}s)")

    def run(self) -> None:
        import psutil

        self.at(20)
        start = time.time()
        children = psutil.Process(self.web.popen.pid).children()
        victim = children[0]
        victim.send_signal(signal.SIGKILL)
        log(f"fault: SIGKILL gunicorn worker {victim.pid}")
        self.window("gunicorn worker SIGKILL", start, time.time())

        self.at(35)
        start = time.time()
        log("fault: restarting PostgreSQL")
        self.pg.restart()
        self.window("PostgreSQL restart", start, time.time())

        self.at(55)
        start = time.time()
        log("fault: Redis stopped for 30 s")
        self.redis.stop()
        self.at(85)
        self.redis.start()
        self.window("Redis stopped 30 s", start, time.time())

        self.at(100)
        start = time.time()
        log("fault: Celery workers stopped for 60 s")
        self.worker.stop(signal.SIGTERM)
        self.at(160)
        self.worker.start()
        self.window("Celery workers stopped 60 s", start, time.time())


# ----------------------------------------------------------------------------- report


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def report(events_path: Path, windows: list[dict]) -> tuple[list[str], int]:
    """The per-endpoint table and the errors by fault window; returns (lines, errors outside windows)."""
    rows = []
    with open(events_path, newline="") as f:
        for t, name, status, ms, exc in csv.reader(f):
            rows.append((float(t), name, int(status), float(ms), exc))
    by_name: dict[str, list] = defaultdict(list)
    for row in rows:
        by_name[row[1]].append(row)

    def bad(status: int) -> bool:
        return status == 0 or status >= 500

    def in_window(t: float) -> dict | None:
        return next((w for w in windows if w["start"] <= t <= w["until"]), None)

    health = [ms for _, _, status, ms, _ in by_name.get("GET /healthz", []) if status == 200]
    health_p95 = pct(health, 0.95) or 1.0
    lines = [f"{'endpoint':<58} {'requests':>8} {'failures':>8} {'refusals':>8} {'median':>8} {'p95':>8} "
             f"{'p95/healthz':>11}"]
    for name in sorted(by_name, key=lambda n: -len(by_name[n])):
        reqs = by_name[name]
        times = [ms for _, _, status, ms, _ in reqs if not bad(status)]
        failures = sum(1 for r in reqs if bad(r[2]))
        refusals = sum(1 for r in reqs if 400 <= r[2] < 500)
        p95 = pct(times, 0.95)
        lines.append(f"{name[:58]:<58} {len(reqs):>8} {failures:>8} {refusals:>8} {statistics.median(times) if times else 0:>6.0f}ms "
                     f"{p95:>6.0f}ms {p95 / health_p95:>10.1f}x")
    lines.append(f"(/healthz p95 = {health_p95:.1f} ms; failures = 5xx or no response; refusals = 4xx the rules give, "
                 f"e.g. 409 slot taken)")
    outside = [r for r in rows if bad(r[2]) and not in_window(r[0])]
    if windows:
        lines.append("")
        lines.append("errors (5xx or no response) by fault window (window = fault until 10 s after recovery):")
        for w in windows:
            inside = [r for r in rows if bad(r[2]) and w["start"] <= r[0] <= w["until"]]
            total = sum(1 for r in rows if w["start"] <= r[0] <= w["until"])
            kinds = Counter(f"{r[2] or r[4]}" for r in inside)
            lines.append(f"  {w['name']:<30} {w['end'] - w['start']:6.1f}s  {len(inside):5} of {total:6} requests"
                         f"  {dict(kinds) if kinds else ''}")
    lines.append(f"5xx / no response outside fault windows: {len(outside)}"
                 + (f"  {Counter((r[1], r[2] or r[4]) for r in outside).most_common(5)}" if outside else ""))
    return lines, len(outside)


def checks(mailbox: Path, since) -> list[tuple[str, bool, str]]:
    """The database checks after the run, on the run's database."""
    from django.core.management import get_commands
    from django.db import connection
    from django.db.models import Count
    from django.utils import timezone

    from booking.models import Booking, BookingEvent
    from outbox.models import OutboxTask
    from payments.models import Payment, Refund

    results = []
    now = timezone.now()
    with connection.cursor() as cur:
        cur.execute("""
            SELECT count(*) FROM booking_booking a JOIN booking_booking b
              ON a.practitioner_id = b.practitioner_id AND a.id < b.id
             AND tstzrange(a.start, a.blocks_until) && tstzrange(b.start, b.blocks_until)
            WHERE (a.status IN ('confirmed', 'attended') OR (a.status = 'held' AND a.hold_expires_at > %s))
              AND (b.status IN ('confirmed', 'attended') OR (b.status = 'held' AND b.hold_expires_at > %s))
        """, [now, now])
        overlaps = cur.fetchone()[0]
        cur.execute("""
            SELECT count(*) FROM (SELECT offer_code_id FROM booking_booking
             WHERE offer_code_id IS NOT NULL AND status IN ('confirmed', 'attended')
             GROUP BY offer_code_id HAVING count(*) > 1) twice
        """)
        twice = cur.fetchone()[0]
    results.append(("0 overlapping active bookings", overlaps == 0, f"{overlaps} overlapping pairs"))
    results.append(("0 offer codes redeemed twice", twice == 0, f"{twice} codes on 2+ confirmed bookings"))

    if "payments_audit" in get_commands():
        from django.core.management import call_command

        try:
            call_command("payments_audit")
            results.append(("payments_audit clean", True, "payments_audit exited 0"))
        except (SystemExit, Exception) as exc:  # the command reports problems by failing
            results.append(("payments_audit clean", False, f"payments_audit: {exc}"))
    else:
        paid_twice = (Payment.objects.filter(paid_at__isnull=False).values("booking").annotate(n=Count("id"))
                      .filter(n__gt=1).count())
        # Bookings made during the run (demo_data's history is confirmed without payment rows).
        unpaid = (Booking.objects.filter(status=Booking.Status.CONFIRMED, amount_due_pence__gt=0, created_at__gte=since)
                  .exclude(payments__paid_at__isnull=False).count())
        over_refunded = sum(1 for p in Payment.objects.filter(paid_at__isnull=False).prefetch_related("refunds")
                            if sum(r.amount_pence for r in p.refunds.all()) > p.amount_pence)
        stuck = Refund.objects.filter(status=Refund.Status.PENDING).count()
        ok = not (paid_twice or unpaid or over_refunded or stuck)
        results.append(("payments audit (built in: payments_audit is not on this branch)", ok,
                        f"{paid_twice} bookings paid twice, {unpaid} confirmed unpaid, {over_refunded} over-refunded, "
                        f"{stuck} refunds pending"))

    sent = Counter()
    if mailbox.exists():
        for line in mailbox.read_text().splitlines():
            sent[json.loads(line)["key"]] += 1
    confirmed_ids = set(BookingEvent.objects.filter(action=BookingEvent.Action.CONFIRMED)
                        .values_list("booking_id", flat=True))
    emailable = set(Booking.objects.filter(pk__in=confirmed_ids).exclude(patient__email="")
                    .values_list("pk", flat=True))
    missing = [pk for pk in emailable if sent[f"booking_confirmed:{pk}"] == 0]
    doubled = [key for key, n in sent.items() if n > 1]
    results.append(("every confirmed booking's confirmation emailed exactly once", not missing and not doubled,
                    f"{len(emailable)} confirmed, {len(missing)} never emailed, {len(doubled)} intents emailed "
                    f"twice or more; {sum(sent.values())} emails in all"))
    pending = OutboxTask.objects.exclude(status=OutboxTask.Status.DONE).count()
    done = OutboxTask.objects.filter(status=OutboxTask.Status.DONE).count()
    retried = OutboxTask.objects.filter(attempts__gt=1).count()
    results.append(("outbox empty", pending == 0, f"{pending} not done, {done} done ({retried} needed a retry)"))
    return results


# ----------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=180, help="seconds of load (default 180)")
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--receptionists", type=int, default=3)
    parser.add_argument("--spawn-rate", type=float, default=10.0)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--celery-workers", type=int, default=2)
    parser.add_argument("--faults", action="store_true", help="inject the faults on their schedule")
    parser.add_argument("--smoke", action="store_true", help="the CI run: 30 s, 20 patients, 1 receptionist")
    parser.add_argument("--drain-timeout", type=int, default=300, help="seconds to wait for the outbox to empty")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, events, mailbox)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    if args.smoke:
        args.duration, args.patients, args.receptionists, args.spawn_rate = 30, 20, 1, 10.0
        args.web_workers = 2
    if args.faults and args.duration < 180:
        parser.error("--faults needs --duration 180 or more (the schedule ends at 160 s)")

    workdir = Path(tempfile.mkdtemp(prefix="physiobook-loadtest-"))
    os.chmod(workdir, 0o755)
    log(f"run folder {workdir}")
    pg, redis = PrivatePostgres(workdir), PrivateRedis(workdir)
    procs: list[Proc] = []
    status = 1
    try:
        pg.start()
        redis.start()
        subprocess.run([sys.executable, str(ROOT / "scripts/loadtest/dbtool.py"), "ensure", pg.url], check=True)
        port = free_port()
        env = {
            **os.environ,
            "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Local test-payment mode (no Stripe keys here): production refuses it unless allowed.
            "ALLOW_TEST_PAYMENTS": "1",
            "SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0", "SITE_URL": f"http://127.0.0.1:{port}",
            "DATABASE_URL": pg.url, "REDIS_URL": redis.url, "PORT": str(port), "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": str(args.web_workers), "CELERY_CONCURRENCY": str(args.celery_workers),
            "CELERY_BEAT_FILE": str(workdir / "celerybeat-schedule"),
            "EMAIL_BACKEND": "scripts.loadtest.mailbox.EmailBackend", "LOADTEST_MAILBOX": str(workdir / "mail.jsonl"),
            # One client address for every simulated patient: per-IP limits would measure nothing.
            "THROTTLE_OFFER_CLAIM": "", "THROTTLE_OFFER_VALIDATE_IP": "", "THROTTLE_OFFER_VALIDATE_USER": "",
            "THROTTLE_BOOKING_CREATE": "",
            "OUTBOX_RETRY_SECONDS": "10", "OUTBOX_LEASE_SECONDS": "60",
            "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "config.settings",
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "STRIPE_SECRET_KEY": "", "STATIC_COMPRESS": "0",
        }
        env.pop("OUTBOX_INLINE", None)
        env.pop("CELERY_BROKER_URL", None)
        os.environ.update(env)
        import django

        django.setup()
        log("seeding (migrate, demo_data, patients, receptionists)")
        plan = seed(patients=args.patients, receptionists=args.receptionists, workdir=workdir)
        (workdir / "plan.json").write_text(json.dumps(plan))
        from django.db import connections

        connections.close_all()

        lines = procfile()
        web = Proc("web", lines["web"], env, workdir)
        worker = Proc("worker", lines["worker"], env, workdir)
        beat = Proc("beat", lines["beat"], env, workdir)
        procs = [web, worker, beat]
        for p in procs:
            p.start()
        wait_port(port, 60)
        wait_http(f"http://127.0.0.1:{port}/healthz")
        log(f"serving on 127.0.0.1:{port}: gunicorn x{args.web_workers}, celery x{args.celery_workers}, beat")

        events = workdir / "events.csv"
        users = args.patients + args.receptionists + 1
        locust_env = {**env, "LOADTEST_PLAN": str(workdir / "plan.json"), "LOADTEST_EVENTS": str(events),
                      "LOADTEST_RECEPTIONISTS": str(args.receptionists)}
        cmd = [str(BIN / "locust"), "-f", str(ROOT / "scripts/loadtest/locustfile.py"), "--headless",
               "--host", f"http://127.0.0.1:{port}", "-u", str(users), "-r", str(args.spawn_rate),
               "-t", f"{args.duration}s", "--stop-timeout", "10", "--only-summary", "--loglevel", "WARNING"]
        log(f"locust: {users} users ({args.patients} patients, {args.receptionists} receptionists, 1 monitor) "
            f"for {args.duration}s" + (" with faults" if args.faults else ""))
        t0 = time.time()
        with open(workdir / "locust.log", "wb") as out:
            locust = subprocess.Popen(cmd, cwd=ROOT, env=locust_env, stdout=out, stderr=subprocess.STDOUT)
            faults = None
            if args.faults:
                faults = Faults(t0=t0, web=web, worker=worker, pg=pg, redis=redis)
                faults.start()
            locust.wait()
            if faults:
                faults.join(timeout=120)
        log(f"load over after {time.time() - t0:.0f}s; waiting for the outbox to drain")

        from outbox.models import OutboxTask

        deadline = time.monotonic() + args.drain_timeout
        while True:
            try:
                left = OutboxTask.objects.exclude(status=OutboxTask.Status.DONE).count()
            except Exception:
                connections.close_all()
                left = -1
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(2)
        log(f"outbox drained in {args.drain_timeout - (deadline - time.monotonic()):.0f}s" if left == 0
            else f"outbox still has {left} rows after {args.drain_timeout}s")

        print()
        print(f"Load test: {args.patients} patients + {args.receptionists} receptionists + 1 /healthz monitor, "
              f"{args.duration}s, gunicorn x{args.web_workers}, celery x{args.celery_workers}, "
              f"{'faults injected' if args.faults else 'no faults'}; machine: {os.cpu_count()} cores, "
              f"load average before {os.getloadavg()[0]:.1f}")
        table, outside = report(events, faults.windows if faults else [])
        print("\n".join(table))
        print()
        from datetime import datetime

        results = checks(workdir / "mail.jsonl", since=datetime.fromtimestamp(t0, UTC))
        for name, ok, detail in results:
            print(f"  [{'ok' if ok else 'FAIL'}] {name}: {detail}")
        failed = [name for name, ok, _ in results if not ok]
        if outside:
            failed.append("5xx or no response outside fault windows")
        print()
        print("RESULT: " + ("PASS" if not failed else "FAIL: " + "; ".join(failed)))
        checked = len(results) + 1  # the database checks and "no 5xx outside fault windows"
        print(f"{checked - len(failed)} passed, {len(failed)} failed")
        status = 0 if not failed else 1
    finally:
        for p in reversed(procs):
            p.stop()
        redis.stop()
        pg.stop()
        if args.keep or status:
            log(f"logs kept in {workdir}")
        else:
            subprocess.run(["rm", "-rf", str(workdir)])
    return status


if __name__ == "__main__":
    sys.exit(main())
