"""A strict Content-Security-Policy and a Permissions-Policy on every page; `check --deploy` is clean."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import ReceptionistFactory

pytestmark = [pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", ["/", "/book/", "/offer/", "/accounts/login/", "/staff/", "/api/v1/services/"])
def test_every_page_has_a_strict_csp_and_a_permissions_policy(client, path):
    client.force_login(ReceptionistFactory())
    response = client.get(path, follow=True)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]


def test_the_staff_grid_positions_come_from_a_stylesheet_not_style_attributes(client):
    client.force_login(ReceptionistFactory())
    page = client.get("/staff/").content.decode()
    assert "style=" not in page and "/staff/grid.css" in page
    css = client.get("/staff/grid.css")
    assert css["Content-Type"].startswith("text/css") and ".s-12{--s:12}" in css.content.decode()


def test_check_deploy_with_production_settings_has_no_warnings():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env = {k: v for k, v in env.items() if not k.startswith("STRIPE_") and k != "ALLOW_TEST_PAYMENTS"}
    # Production takes real money: Stripe keys (nothing is called by `check`).
    env.update(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(60), ALLOWED_HOSTS="book.example.com",
               STRIPE_SECRET_KEY="sk_live_deploy_check_only", STRIPE_WEBHOOK_SECRET="whsec_deploy_check_only")
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
