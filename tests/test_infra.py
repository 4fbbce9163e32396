"""Smoke tests for the shared test infrastructure (tests/conftest.py)."""

import time
from functools import partial

import pytest
from django.db import connection, transaction

from tests.a11y import assert_accessible, screenshot
from tests.races import race


@pytest.mark.browser
def test_browser_reaches_live_server_healthz(laptop_page):
    response = laptop_page.goto("/healthz")

    assert response.status == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.browser
def test_phone_page_renders_accessible_html(phone_page):
    # /healthz is JSON, which chromium wraps in a page with no <title> or
    # lang, so axe would rightly flag it: check a real HTML page instead.
    response = phone_page.goto("/admin/login/")

    assert response.status == 200
    assert phone_page.viewport_size == {"width": 390, "height": 844}
    assert screenshot(phone_page, "infra-admin-login-phone").stat().st_size > 0
    assert_accessible(phone_page)


@pytest.mark.postgres
def test_postgres_marked_tests_run_on_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.booking
@pytest.mark.django_db(transaction=True)
def test_sqlite_writers_in_threads_wait_for_each_other():
    """Race tests need SQLite writers to queue, not fail with "table is locked"."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only check")
    assert not connection.is_in_memory_db()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS infra_race (n integer)")
        cursor.execute("DELETE FROM infra_race")
    def write(n):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO infra_race (n) VALUES (%s)", [n])
            time.sleep(0.2)

    assert race(*(partial(write, n) for n in range(3))) == [None] * 3

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM infra_race")
        assert cursor.fetchone()[0] == 3
