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


FIRST_IMPORT = """
import os, sys, importlib, django
django.setup(set_prefix=False)
from django.conf import settings
from pathlib import Path
apps = {p.parent.name for p in Path(".").glob("*/__init__.py")}
def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from strings(v)
paths = sorted({s for name in dir(settings) if name.isupper() for s in strings(getattr(settings, name))
                if s.split(".")[0] in apps and s.count(".") >= 1 and " " not in s})
failed = []
for path in paths:
    pid = os.fork()
    if pid == 0:  # a child with nothing of ours imported yet but the settings
        module = path  # a module, or an attribute of one ("app.models.Model.Choice"): go up to the module
        while True:
            try:
                importlib.import_module(module)
                os._exit(0)
            except ModuleNotFoundError as exc:
                missing = exc.name or ""
                if not (module + ".").startswith(missing + ".") or "." not in missing:
                    print(f"{path}: {exc!r}")
                    os._exit(1)
                module = missing.rpartition(".")[0]
            except Exception as exc:
                print(f"{path}: {exc!r}")
                os._exit(1)
    if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
        failed.append(path)
print("paths:", len(paths), "failed:", failed)
sys.exit(1 if failed else 0)
"""


def test_every_dotted_path_in_settings_imports_first_in_a_fresh_process():
    # Django runs its system checks in set order, so any module named in settings may be the first
    # of ours imported; an import cycle through DRF's settings (config.api <-> rest_framework.views)
    # failed `check` in some runs only.
    result = subprocess.run(
        [sys.executable, "-c", FIRST_IMPORT], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.split("paths:")[1].split()[0]) >= 15, result.stdout  # found, not skipped
