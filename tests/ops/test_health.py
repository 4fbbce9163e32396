"""/healthz (liveness, unchanged) and /readyz (every component's state)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from outbox.models import Heartbeat

pytestmark = [pytest.mark.django_db]


def test_healthz_is_unchanged(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_in_process_mode_reports_only_what_is_used(client, settings):
    settings.OUTBOX_INLINE = True
    settings.CELERY_BROKER_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "detail": "ok"}
    assert body["checks"]["worker"]["detail"].startswith("not used")
    assert body["checks"]["broker"]["detail"].startswith("not used")


def test_readyz_reports_redis_broker_and_a_missing_worker_as_degraded_not_down(client, settings, redis_down):
    settings.OUTBOX_INLINE = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{redis_down}/0"
    response = client.get("/readyz")
    assert response.status_code == 200  # the site still books: do not take it out of the load balancer
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["worker"] == {"ok": False, "detail": "no heartbeat yet"}


def test_readyz_reads_the_workers_last_heartbeat(client, settings):
    settings.OUTBOX_INLINE = False
    Heartbeat.objects.create(name="worker", at=timezone.now() - timedelta(seconds=20))
    assert client.get("/readyz").json()["checks"]["worker"] == {"ok": True, "detail": "last heartbeat 20 s ago"}
    Heartbeat.objects.filter(name="worker").update(at=timezone.now() - timedelta(minutes=5))
    assert client.get("/readyz").json()["checks"]["worker"]["ok"] is False


def test_readyz_is_503_when_the_database_is_down(client, monkeypatch):
    from config import health

    monkeypatch.setattr(health, "_check_database", lambda: (False, "OperationalError"))
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"


def test_a_lost_database_connection_is_a_json_503_with_retry_after_not_a_500(client, monkeypatch):
    from django.db import OperationalError

    from booking.api import views

    def down(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(views.ServiceList, "get", down, raising=False)
    response = client.get("/api/v1/services/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["code"] == "temporarily_unavailable"
