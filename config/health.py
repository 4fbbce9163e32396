from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from outbox.models import Heartbeat


@never_cache
def healthz(request):
    """200 when the database answers, 503 otherwise (api.md)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return False, type(exc).__name__
    return True, "ok"


def _check_redis() -> tuple[bool, str]:
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return True, "not used (database cache)"
    try:
        cache._cache.get_client(write=True).ping()
    except Exception as exc:
        return False, type(exc).__name__
    return True, "ok"


def _check_broker() -> tuple[bool, str]:
    if not settings.CELERY_BROKER_URL:
        return True, "not used (work runs in process)"
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception as exc:
        return False, type(exc).__name__
    return True, "ok"


def _check_worker() -> tuple[bool, str]:
    if settings.OUTBOX_INLINE:
        return True, "not used (work runs in process)"
    try:
        beat = Heartbeat.objects.filter(name="worker").first()
    except Exception as exc:
        return False, type(exc).__name__
    if beat is None:
        return False, "no heartbeat yet"
    age = (timezone.now() - beat.at).total_seconds()
    return age <= WORKER_HEARTBEAT_MAX_AGE, f"last heartbeat {age:.0f} s ago"


WORKER_HEARTBEAT_MAX_AGE = 90  # beat sends one every 30 s


@never_cache
def readyz(request):
    """Readiness: every component's state. 503 only when the database is down: without
    Redis, the broker or a worker the site still books (work waits in the outbox)."""
    checks = {
        "database": _check_database(),
        "redis": _check_redis(),
        "broker": _check_broker(),
        "worker": _check_worker(),
    }
    body = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()}
    if not checks["database"][0]:
        return JsonResponse({"status": "unavailable", "checks": body}, status=503)
    status = "ok" if all(ok for ok, _ in checks.values()) else "degraded"
    return JsonResponse({"status": status, "checks": body})
