"""Production settings refuse to start unsafe, and pass Django's deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x7#production-secret-key-for-the-deploy-check-only-3f9a1c5d8e2b",
    "ALLOWED_HOSTS": "clinic.example",
    "DATABASE_URL": "sqlite:////tmp/physiobook-deploy-check.sqlite3",
    # Production takes real money: Stripe keys (a live-looking key; nothing is called by `check`).
    "STRIPE_SECRET_KEY": "sk_live_deploy_check_only",
    "STRIPE_WEBHOOK_SECRET": "whsec_deploy_check_only",
}


def run_manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in {
        "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE", "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET", "STRIPE_API_BASE", "ALLOW_TEST_PAYMENTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("typo", ["flase", "ture", "2", "enabled"])
def test_a_yes_no_setting_that_is_not_a_yes_no_word_stops_the_start(typo):
    # Before: anything not in {1, true, yes, on} read as False, so DEBUG=ture quietly meant off.
    result = run_manage("check", env={"EMAIL_USE_TLS": typo})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and f"EMAIL_USE_TLS={typo!r}" in result.stderr


@pytest.mark.parametrize(("word", "expected"), [("TRUE", True), (" on ", True), ("Yes", True), ("1", True),
                                                ("off", False), ("No", False), ("0", False), ("", None)])
def test_yes_no_words_read_in_any_case_and_empty_is_the_default(monkeypatch, word, expected):
    from config.settings import env_bool

    monkeypatch.setenv("PHYSIOBOOK_TEST_FLAG", word)
    assert env_bool("PHYSIOBOOK_TEST_FLAG", default=True) is (True if expected is None else expected)
    assert env_bool("PHYSIOBOOK_TEST_FLAG", default=False) is (False if expected is None else expected)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_the_development_secret_key():
    result = run_manage("check", env={**PRODUCTION, "SECRET_KEY": "django-insecure-local-development-only"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] != "ok"


@pytest.mark.parametrize("setting", ["CSRF_FAILURE_VIEW", "REST_FRAMEWORK.EXCEPTION_HANDLER", "ROOT_URLCONF"])
def test_a_dotted_path_in_settings_imports_first_in_a_fresh_process(setting):
    # Django runs its system checks in set order, so any of these may be the first import of
    # its module; an import cycle through DRF's settings failed `check` about one run in three.
    code = (
        "import django, importlib\n"
        "django.setup(set_prefix=False)\n"
        "from django.conf import settings\n"
        f"name, _, key = {setting!r}.partition('.')\n"
        "path = getattr(settings, name)[key] if key else getattr(settings, name)\n"
        "module = path if name == 'ROOT_URLCONF' else path.rpartition('.')[0]\n"
        "importlib.import_module(module)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert result.returncode == 0, result.stderr
