"""Shared test infrastructure.

Sections:
  1. Process environment (set before Django or Playwright run)
  2. Run modes and marker gating: postgres, browser
  3. Database and cache
  4. Browser: browser, phone_page, laptop_page
  5. Model fixtures (factories live in tests/factories.py)

Run modes (see the Makefile's `test` target):
  DATABASE_URL=postgres://...   the main run; `postgres` tests run
  PHYSIOBOOK_SQLITE_RUN=1       the SQLite re-run of `booking` tests; `postgres` tests skip
  REQUIRE_POSTGRES=1 or CI      `postgres` tests fail, not skip, without PostgreSQL
  REQUIRE_BROWSER=1             `browser` tests fail, not skip, without chromium/playwright
"""

from __future__ import annotations

import importlib.util
import os
import re

import pytest

from tests.a11y import screenshot

# ---------------------------------------------------------------------------
# 1. Process environment
# ---------------------------------------------------------------------------

# Playwright's sync API keeps an asyncio loop running in the test thread, which
# makes Django refuse ORM calls there (SynchronousOnlyOperation). The calls are
# in fact synchronous, so allow them for the whole test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# ---------------------------------------------------------------------------
# 2. Run modes and marker gating
# ---------------------------------------------------------------------------


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in {"", "0", "false", "no", "off"}


SQLITE_RUN = _flag("PHYSIOBOOK_SQLITE_RUN")
REQUIRE_POSTGRES = (_flag("REQUIRE_POSTGRES") or _flag("CI")) and not SQLITE_RUN
REQUIRE_BROWSER = _flag("REQUIRE_BROWSER")

CHROMIUM = os.environ.get("PHYSIOBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

# Tests using these fixtures are marked `browser` automatically.
BROWSER_FIXTURES = frozenset({"browser", "phone_page", "laptop_page"})


def _db_vendor() -> str:
    from django.db import connections

    return connections["default"].vendor


def _postgres_gate() -> tuple[str, str] | None:
    """("skip" | "fail", reason) when `postgres` tests cannot run, else None."""
    vendor = _db_vendor()
    if vendor == "postgresql":
        return None
    if SQLITE_RUN:
        return "skip", "PostgreSQL-only test; this is the SQLite re-run of the booking tests"
    if REQUIRE_POSTGRES:
        return "fail", (
            f"needs PostgreSQL, and REQUIRE_POSTGRES/CI is set, but the database is {vendor}: "
            "set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"
        )
    return "skip", "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test"


def _browser_gate() -> tuple[str, str] | None:
    """("skip" | "fail", reason) when `browser` tests cannot run, else None."""
    missing = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("playwright (pip install -e '.[test]')")
    if not missing:
        return None
    reason = "needs a browser; missing " + " and ".join(missing)
    if REQUIRE_BROWSER:
        return "fail", reason + " (REQUIRE_BROWSER=1)"
    return "skip", reason


def _apply_gate(gate: tuple[str, str] | None) -> None:
    if gate is None:
        return
    action, reason = gate
    if action == "fail":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects, so `-m "not browser"` sees the marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


def pytest_runtest_setup(item):
    # Runs before the test's fixtures, so a skipped test never builds a
    # database or launches chromium.
    if item.get_closest_marker("postgres"):
        _apply_gate(_postgres_gate())
    wanted = item.callspec.params.get("each_database") if hasattr(item, "callspec") else None
    if wanted and wanted != _db_vendor():
        pytest.skip(f"the {wanted} run of this test (this run is on {_db_vendor()})")
    if item.get_closest_marker("browser"):
        _apply_gate(_browser_gate())


_phase_reports = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Kept so fixtures can tell in teardown whether the test failed.
    report = yield
    item.stash.setdefault(_phase_reports, {})[report.when] = report
    return report


def _test_failed(request) -> bool:
    reports = request.node.stash.get(_phase_reports, {})
    return any(r.failed for r in reports.values())


# ---------------------------------------------------------------------------
# 3. Database and cache
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """Give SQLite a test database file instead of Django's in-memory default.

    The in-memory database uses SQLite's shared cache, where a second writer
    gets "database table is locked" at once instead of waiting for the busy
    timeout; race tests with threads need a real file, as in production.
    """
    from django.db import connections

    for alias in connections:
        settings_dict = connections[alias].settings_dict
        if settings_dict["ENGINE"] == "django.db.backends.sqlite3" and not settings_dict["TEST"].get("NAME"):
            settings_dict["TEST"]["NAME"] = str(tmp_path_factory.mktemp(f"sqlite-{alias}") / "test.sqlite3")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The database cache (used when REDIS_URL is unset) needs its table, as `make demo` makes it."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def _outbox_in_process():
    """No Celery worker runs under pytest: outbox work (emails) runs in process on commit,
    as in `make demo`, even when REDIS_URL (hence a broker) is set. tests/outbox and
    tests/ops test the broker path (override with the `settings` fixture)."""
    from django.conf import settings

    settings.OUTBOX_INLINE = True


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres, id="postgres"),
                        pytest.param("sqlite", id="sqlite")])
def each_database(request):
    """Runs the test once per database: on PostgreSQL (a `postgres` test) and on SQLite (the
    re-run of `booking` tests); each of the two skips on the other's run, before any database
    is set up (pytest_runtest_setup)."""
    return request.param


_DB_FIXTURES = frozenset({"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"})


@pytest.fixture(autouse=True)
def _fresh_cache(request):
    """Start every test with empty caches, so throttle counters never leak.

    Redis keeps its keys across tests and runs; the database cache table is
    not emptied by transactional tests' flush. A database cache is only
    touched by tests that may use the database.
    """
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.db import DatabaseCache

    uses_db = bool(_DB_FIXTURES.intersection(request.fixturenames) or request.node.get_closest_marker("django_db"))
    for alias in settings.CACHES:
        cache = caches[alias]
        if not isinstance(cache, DatabaseCache):
            cache.clear()
        elif uses_db:
            request.getfixturevalue("django_db_setup")
            with request.getfixturevalue("django_db_blocker").unblock():
                cache.clear()


# ---------------------------------------------------------------------------
# 4. Browser
# ---------------------------------------------------------------------------
# `phone_page` and `laptop_page` each get a fresh context (cookies, storage)
# whose base_url is the live server, so `page.goto("/book/")` works. Using
# them makes the test transactional (pytest-django's live_server rule): data
# created in the test is visible to the server, and the server's to the test.
# On failure a screenshot goes to artifacts/screenshots/FAILED-<test>.png.

PAGE_TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def browser():
    """One headless Debian chromium for the whole session."""
    _apply_gate(_browser_gate())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _page(browser, live_server, request, **context_options):
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-GB",
        timezone_id="Europe/London",
        **context_options,
    )
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    # Chromium reports every Content-Security-Policy refusal (an inline script or style, another
    # origin) on the console: any one fails the test, so the strict policy stays true in practice.
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(f"{page.url}: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield page
    if violations and not _test_failed(request):
        context.close()
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations), pytrace=False)
    if _test_failed(request):
        try:
            screenshot(page, "FAILED-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid))
        except Exception as exc:  # noqa: BLE001 - a failed screenshot must not hide the real failure
            print(f"could not save failure screenshot: {exc!r}")
    context.close()


@pytest.fixture
def phone_page(browser, live_server, request):
    """A page in a 390x844 touch phone viewport (iPhone 12-15 size)."""
    yield from _page(
        browser,
        live_server,
        request,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )


@pytest.fixture
def laptop_page(browser, live_server, request):
    """A page in a 1440x900 desktop viewport."""
    yield from _page(browser, live_server, request, viewport={"width": 1440, "height": 900})


# ---------------------------------------------------------------------------
# 5. Model fixtures
# ---------------------------------------------------------------------------
# Factories live in tests/factories.py; add fixtures that wrap them here. Constants several
# folders share (NOW, INTAKE, EVERY_DAY) are in tests/shared.py. A folder's conftest or a test
# module may override any of these with its own fixture of the same name.


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories hash a password per user; PBKDF2 would make the suite crawl (tests need no slow hash)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen(request):
    """The wall clock stopped at the test module's NOW (tests.shared.NOW if it names none).

    Yields the time-machine traveller (`frozen.shift(...)`, `frozen.move_to(...)`). Modules that
    want it for every test say `pytestmark = [pytest.mark.usefixtures("frozen"), ...]`, which starts
    it before the test's own fixtures (a login's session is then made "now").
    """
    import time_machine

    from tests.shared import NOW

    with time_machine.travel(getattr(request.module, "NOW", NOW), tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient(db):
    """A patient with an account (pat@example.com, tests.factories.PASSWORD)."""
    from tests.factories import UserFactory

    return UserFactory(email="pat@example.com")


@pytest.fixture
def rates(settings):
    """rates(booking_create="1/hour", ...): set some throttle rates for one test."""

    def set_rates(**rates):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
        }

    return set_rates


@pytest.fixture
def clinic(db):
    """(service, physio): an assessment and one practitioner who offers it, on the factory's hours."""
    from tests.factories import PractitionerFactory, ServiceFactory

    service = ServiceFactory()
    return service, PractitionerFactory(services=[service])
