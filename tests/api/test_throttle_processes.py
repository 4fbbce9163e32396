"""A throttle limit holds across two app processes sharing the cache (as several gunicorn workers do).

Two real gunicorn processes on two ports serve the test database; requests to
either count against one limit, because the counters live in Redis (REDIS_URL)
or, without it, in Django's database cache table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from functools import partial
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import OfferFactory, ServiceFactory
from tests.races import race, split

pytestmark = [pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/6"


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    user = s.get("USER") or "postgres"
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


def _forget_claim_counters() -> None:
    """Earlier runs' counters for this window would count against this one (only these keys: the
    Redis database may be shared with the rest of the suite)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match="*throttle:offer_claim:*"):
        client.delete(key)


def _free_ports(n: int) -> tuple[int, ...]:
    """Ports the kernel picks (never fixed ones another checkout's tests may be using)."""
    import socket

    sockets = [socket.socket() for _ in range(n)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = tuple(sock.getsockname()[1] for sock in sockets)
    for sock in sockets:
        sock.close()
    return ports


def _post(port: int, email: str, forwarded_for: str | None = None) -> int:
    headers = {"Content-Type": "application/json"}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/offers/claim/",
        data=json.dumps({"email": email}).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        body = json.loads(error.read())
        assert set(body) >= {"detail", "code"}
        return error.code


class Servers:
    def __init__(self, ports, env):
        self.ports = ports
        self.procs = []
        for port in ports:
            self.procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1",
                     "--timeout", "60"],
                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                )
            )
        deadline = time.monotonic() + 30
        for port, proc in zip(ports, self.procs):
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                    break
                except Exception:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise RuntimeError(f"gunicorn on {port} did not start: {proc.stderr.read().decode()[-2000:]}")
                    time.sleep(0.2)

    def stop(self):
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}}
    env.update(DATABASE_URL=_database_url(), DB_CONN_MAX_AGE="0", DEBUG="1", LOG_LEVEL="WARNING", **extra)
    return env


@pytest.fixture
def offer(db):
    return OfferFactory(services=[ServiceFactory()])


@pytest.mark.parametrize("backend", ["redis", "database"])
def test_claim_limit_holds_across_two_processes(offer, backend):
    extra = {"THROTTLE_OFFER_CLAIM": "3/hour"}
    if backend == "redis":
        if not _redis_available():
            pytest.skip("no Redis at " + REDIS_URL)
        _forget_claim_counters()
        extra["REDIS_URL"] = REDIS_URL
    else:
        # The suite itself may be running on Redis: make sure the servers' cache table exists.
        from django.core.management import call_command
        from django.test import override_settings

        db_cache = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "physiobook_cache"}}
        with override_settings(CACHES=db_cache):
            from django.core.cache import cache

            call_command("createcachetable", verbosity=0)
            cache.clear()
    ports = _free_ports(2)
    servers = Servers(ports, _env(**extra))
    try:
        a, b = ports
        assert [_post(a, "one@example.com"), _post(b, "two@example.com"), _post(a, "three@example.com")] == [202] * 3
        # The fourth and fifth are refused by whichever process answers.
        assert _post(b, "four@example.com") == 429
        assert _post(a, "five@example.com") == 429
    finally:
        servers.stop()


def test_concurrent_requests_to_two_processes_are_each_counted_once(offer):
    """With Redis, cache.incr is atomic: 12 simultaneous claims against a limit of 5 let exactly 5 through."""
    if not _redis_available():
        pytest.skip("no Redis at " + REDIS_URL)
    _forget_claim_counters()
    ports = _free_ports(2)
    servers = Servers(ports, _env(THROTTLE_OFFER_CLAIM="5/hour", REDIS_URL=REDIS_URL))
    try:
        statuses, _ = split(race(*(partial(_post, ports[n % 2], f"c{n}@example.com") for n in range(12))))
    finally:
        servers.stop()
    assert sorted(statuses) == [202] * 5 + [429] * 7


def _proxied_claims(ports, forwarded_for: list[str]) -> list[int]:
    return [_post(ports[n % 2], f"x{n}@example.com", forwarded_for=ff) for n, ff in enumerate(forwarded_for)]


def test_behind_one_proxy_two_processes_share_one_limit_per_real_client(offer):
    """TRUSTED_PROXY_COUNT=1: the fake proxy appends the real client to X-Forwarded-For; whatever a client
    puts in front of it (rotated on every request) does not give it a new budget, and another real
    client keeps its own."""
    if not _redis_available():
        pytest.skip("no Redis at " + REDIS_URL)
    _forget_claim_counters()
    ports = _free_ports(2)
    servers = Servers(ports, _env(THROTTLE_OFFER_CLAIM="3/hour", REDIS_URL=REDIS_URL, TRUSTED_PROXY_COUNT="1"))
    try:
        # Client 203.0.113.7 sends its own forged header; the proxy appends the address it saw.
        first = _proxied_claims(ports, [f"198.51.100.{n}, 203.0.113.7" for n in range(6)])
        other = _proxied_claims(ports, ["203.0.113.8"])
    finally:
        servers.stop()
    assert first == [202] * 3 + [429] * 3
    assert other == [202]


def test_without_a_proxy_a_spoofed_forwarded_for_changes_nothing(offer):
    """The default TRUSTED_PROXY_COUNT=0: the limit counts REMOTE_ADDR, so rotating X-Forwarded-For
    (the reported bypass: 12 claims, 12 emails) stops at the limit."""
    if not _redis_available():
        pytest.skip("no Redis at " + REDIS_URL)
    _forget_claim_counters()
    ports = _free_ports(2)
    servers = Servers(ports, _env(THROTTLE_OFFER_CLAIM="3/hour", REDIS_URL=REDIS_URL))
    try:
        statuses = _proxied_claims(ports, [f"10.9.{n}.1" for n in range(6)])
    finally:
        servers.stop()
    assert statuses == [202] * 3 + [429] * 3
