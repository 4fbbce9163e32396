"""What the benchmark scripts share: their own database, gunicorn beside /healthz, timing.

    from benchlib import Gunicorn, http_get, timed_pair, median_ms

Each script builds its data in a database of its own, starts gunicorn (2 sync
workers, as deployed) on a free 127.0.0.1 port, and times its page interleaved
with GET /healthz on the same server, so both see the same machine load and the
ratio of the medians is fair. Import this after putting scripts/ on sys.path
(scripts run from the repository do: `python scripts/bench.py`).
"""

from __future__ import annotations

import http.client
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time as clock
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- the benchmark's own database (before Django is imported) -----------------------


def bench_database_url(name: str) -> tuple[str, str | None]:
    """(DATABASE_URL for the benchmark, temporary directory to remove or None).

    PostgreSQL database `name` on the server DATABASE_URL names (created if missing),
    else a SQLite file in a new temporary directory.
    """
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        bench = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
        postgres_database(bench)
        return bench, None
    tmp = tempfile.mkdtemp(prefix="physiobook-bench-")
    return f"sqlite:///{tmp}/bench.sqlite3", tmp


def postgres_database(url: str, *, fresh: bool = False) -> None:
    """Create the PostgreSQL database `url` names if missing; fresh=True drops it first."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


# --- measuring ------------------------------------------------------------------------


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(fn: Callable[[], object], repeat: int, warmup: int = 2, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock samples (seconds) of fn(); this process's CPU time per call goes into `cpu` if given.

    The CPU figure separates our own cost from waiting on a busy machine
    (other test suites sharing the two cores and the database server).
    """
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        started, started_cpu = clock.perf_counter(), clock.process_time()
        fn()
        samples.append(clock.perf_counter() - started)
        if cpu is not None:
            cpu.append(clock.process_time() - started_cpu)
    return samples


def timed_pair(reference: Callable[[], object], fn: Callable[[], object], repeat: int, *, warm: int = 5,
               cpu: list[float] | None = None) -> tuple[list[float], list[float]]:
    """Alternate reference() and fn() calls, so both see the same machine load; wall samples (seconds) of each.

    `warm` rounds of both first (every gunicorn worker warmed), not timed.
    """
    ref_samples: list[float] = []
    fn_samples: list[float] = []
    for _ in range(warm):
        reference()
        fn()
    for _ in range(repeat):
        started = clock.perf_counter()
        reference()
        ref_samples.append(clock.perf_counter() - started)
        started, started_cpu = clock.perf_counter(), clock.process_time()
        fn()
        fn_samples.append(clock.perf_counter() - started)
        if cpu is not None:
            cpu.append(clock.process_time() - started_cpu)
    return ref_samples, fn_samples


# --- HTTP and gunicorn -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(port: int, path: str, cookie: str = "", *, accept: str = "", timeout: float = 60) -> tuple[int, bytes]:
    """(status, body) of GET path on 127.0.0.1:port, on a new connection.

    A new connection per request, as gunicorn's sync workers close them anyway;
    /healthz is measured the same way, so the ratio is fair.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Host": "127.0.0.1"}
        if accept:
            headers["Accept"] = accept
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def production_env(secret_key: str | None = None) -> dict[str, str]:
    """Settings as deployed (DEBUG=0), with a throwaway SECRET_KEY and no SSL redirect.

    No Stripe key: the labelled local test-payment mode (ALLOW_TEST_PAYMENTS=1), without
    which DEBUG=0 refuses to start. No benchmark takes a payment.
    """
    return {"DEBUG": "0", "SECRET_KEY": secret_key or secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0", "ALLOW_TEST_PAYMENTS": "1"}


def collectstatic(env: dict[str, str]) -> None:
    """DEBUG=0 serves hashed static names from the manifest, as deployed: collect them first."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT,
                   env={**os.environ, **env}, check=True)


class Gunicorn:
    """gunicorn serving config.wsgi on 127.0.0.1:port (a free one by default), ready once /healthz answers 200.

    `env` is laid over this process's environment (e.g. production_env()). Use as a
    context manager, or call stop().
    """

    def __init__(self, database_url: str, *, env: dict[str, str] | None = None, port: int = 0, workers: int = 2):
        self.port = port or free_port()
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            # Quiet: whitenoise warns about an uncollected static root.
            "LOG_LEVEL": "ERROR",
            "PYTHONWARNINGS": "ignore",
            "PYTHONPATH": str(ROOT),
            **(env or {}),
        }
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.process = subprocess.Popen(
            [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--log-level", "warning", "--chdir", str(ROOT)],
            env=environment,
            start_new_session=True,
        )
        deadline = clock.monotonic() + 30
        while clock.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}")
            try:
                if http_get(self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            clock.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer /healthz on 127.0.0.1:{self.port}")

    def get(self, path: str, cookie: str = "", *, accept: str = "") -> tuple[int, bytes]:
        return http_get(self.port, path, cookie, accept=accept)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def clean_up(server: Gunicorn | None, tmp: str | None) -> None:
    """At the end of a run: stop gunicorn, close our database connections, remove a temporary SQLite directory."""
    from django.db import connections

    if server is not None:
        server.stop()
    connections.close_all()
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


def session_cookie(user) -> str:
    """A logged-in session for `user` in the database (needs django.setup()): the Cookie header's value."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.save()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
