"""Page checks for browser tests: accessibility (axe-core) and screenshots.

    from tests.a11y import assert_accessible, screenshot

    def test_booking_page(phone_page):
        phone_page.goto("/book/")
        screenshot(phone_page, "booking-phone")
        assert_accessible(phone_page)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"
SCREENSHOTS_DIR = ARTIFACTS_DIR / "screenshots"

# axe-core impacts are minor < moderate < serious < critical; the last two
# are the ones that stop someone completing a booking.
BLOCKING_IMPACTS = frozenset({"critical", "serious"})
# The patient pages are held to zero violations of any impact.
ALL_IMPACTS = frozenset({"minor", "moderate", "serious", "critical"})

_axe = Axe()


def assert_accessible(
    page,
    *,
    context: str | None = None,
    impacts: Iterable[str] = BLOCKING_IMPACTS,
    disable_rules: Iterable[str] = (),
) -> None:
    """Fail if axe-core finds violations of the given impacts on the page.

    `context` is a CSS selector to check only part of the page. Disable a rule
    only with a comment saying why (e.g. a third-party widget we cannot fix).
    """
    options: dict = {"resultTypes": ["violations"]}
    disabled = list(disable_rules)
    if disabled:
        options["rules"] = {rule: {"enabled": False} for rule in disabled}
    # The library formats `context` with Python's repr(): fine for a selector
    # string, wrong for dicts or lists, so only strings are accepted here.
    results = _axe.run(page, context=context, options=options)
    wanted = set(impacts)
    violations = [v for v in results.response["violations"] if v.get("impact") in wanted]
    if violations:
        raise AssertionError(_report(page.url, violations))


def _report(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s) on {url}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    at {target}: {summary}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of the page to artifacts/screenshots/<name>.png and return its path."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "page"
    path = SCREENSHOTS_DIR / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
