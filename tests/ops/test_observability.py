"""Request ids, JSON log lines, and the beat schedule naming real tasks and commands."""

import io
import json
import logging

import pytest
from django.conf import settings
from django.core.management import get_commands

from config.observability import RequestIdFilter, request_id_bound


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept(client):
    fresh = client.get("/healthz")["X-Request-ID"]
    assert len(fresh) == 32
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-abc.123")["X-Request-ID"] == "lb-abc.123"
    # Anything else (log injection, huge values) is replaced.
    assert client.get("/healthz", HTTP_X_REQUEST_ID='x"\n{evil}')["X-Request-ID"] != 'x"\n{evil}'


def test_a_log_line_is_one_json_object_with_the_request_id():
    """The formatter and filter exactly as settings.LOGGING configures them (LOG_FORMAT=json)."""
    from pythonjsonlogger.json import JsonFormatter

    fmt = settings.LOGGING["formatters"]["json"]
    assert fmt["()"] == "pythonjsonlogger.json.JsonFormatter"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter(fmt["fmt"], rename_fields=fmt["rename_fields"]))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("physiobook.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with request_id_bound("req-42"):
            logger.warning("booking %s confirmed", 7)
    finally:
        logger.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "booking 7 confirmed"
    assert record["request_id"] == "req-42" and record["level"] == "WARNING" and record["logger"] == "physiobook.test.json"
    assert "time" in record


def test_request_id_filter_leaves_it_empty_outside_a_request():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    assert RequestIdFilter().filter(record) and record.request_id == ""


def test_the_beat_schedule_names_registered_tasks_and_existing_commands():
    from config.celery import app
    from outbox.tasks import PERIODIC_COMMANDS

    app.loader.import_default_modules()
    commands = get_commands()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name
        if entry["task"] == "physiobook.command":
            assert entry["args"][0] in PERIODIC_COMMANDS and entry["args"][0] in commands, name
    scheduled = {e["args"][0] for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "physiobook.command"}
    assert {"expire_holds", "reconcile_payments", "send_reminders"} <= scheduled


def test_a_periodic_task_refuses_a_command_not_on_the_list():
    from outbox.tasks import run_command

    with pytest.raises(ValueError):
        run_command("flush")


def test_django_request_log_lines_after_the_response_still_carry_its_request_id():
    class Request:
        request_id = "req-77"

    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Conflict: /api/v1/bookings/", (), None)
    record.request = Request()
    assert RequestIdFilter().filter(record) and record.request_id == "req-77"


@pytest.mark.parametrize("dsn, active", [("", "False"), ("http://public@127.0.0.1:9/1", "True")])
def test_sentry_reports_errors_only_when_sentry_dsn_is_set(dsn, active):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "SENTRY_DSN": dsn, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run(
        [sys.executable, "-c", "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().is_active())"],
        cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == active
