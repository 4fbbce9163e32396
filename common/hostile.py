"""The hostile-input policy: every value parsed at the edge (pages, API, desk) is bounded here.

One home for the rule "what shape of date, time, id, number or text can reach
the database or date arithmetic". Each parser returns None (or raises
HostileInput for the JSON guard) instead of letting Python's OverflowError,
RecursionError or a driver's DataError surface as a 500:

- dates and datetimes only in years the calendar can hold (2000-2100: year 1
  or 9999 plus a day or an offset overflows `datetime`);
- UTC offsets within +-14:00 (the widest real zone; PostgreSQL refuses beyond
  +-15:59);
- ids only ASCII digits (`"²".isdigit()` is true but `int("²")` fails) and at
  most a bigint;
- no NUL character anywhere (PostgreSQL refuses it in text);
- text and JSON sizes and JSON nesting depth capped.

Leaf module: imports nothing of ours, so every app can use it.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_OFFSET = timedelta(hours=14)
# Primary keys are bigints; a larger number cannot name a row.
MAX_ID = 2**63 - 1
MAX_ID_DIGITS = 19
# JSON bodies: our API's deepest shape is 3 levels (a booking with an intake's list).
MAX_JSON_DEPTH = 20
# A search box or a free-text query parameter.
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8

_ASCII_ID = re.compile(r"[0-9]{1,19}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class HostileInput(ValueError):
    """Input no page or API call can mean (too deep, NUL bytes, ...): answered 400."""

    code = "parse_error"

    def __init__(self, message: str = "The request could not be read."):
        self.message = message
        super().__init__(message)


def has_nul(text: str | bytes) -> bool:
    if isinstance(text, str):
        return "\x00" in text
    return b"\x00" in text


def in_calendar(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def parse_date(text: str | None) -> date | None:
    """'YYYY-MM-DD' within the calendar's years, else None."""
    if not isinstance(text, str) or not _ISO_DATE.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if in_calendar(day) else None


def offset_ok(value: datetime) -> bool:
    offset = value.utcoffset()
    return offset is None or abs(offset) <= MAX_OFFSET


def bounded_datetime(value: datetime | None) -> datetime | None:
    """The value if its year is in the calendar and its offset within +-14:00, else None."""
    if value is None or not (EARLIEST.year <= value.year <= LATEST.year) or not offset_ok(value):
        return None
    return value


def parse_aware_datetime(text: str | None) -> datetime | None:
    """An ISO 8601 instant with its UTC offset, bounded as above; naive or hostile -> None."""
    if not isinstance(text, str) or len(text) > 40 or has_nul(text):
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except (ValueError, OverflowError):
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return None
    return bounded_datetime(value)


def parse_id(text) -> int | None:
    """A database id from a path or query string: 1-19 ASCII digits, 1..2^63-1; else None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 0 < text <= MAX_ID else None
    if not isinstance(text, str) or not _ASCII_ID.fullmatch(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def parse_pounds(text: str | None, *, max_digits: int = 7) -> Decimal | None:
    """'37.50', '£1,200' -> Decimal pounds; NaN, infinities, exponents, more than 2 decimals -> None."""
    if not isinstance(text, str):
        return None
    cleaned = text.replace("£", "").replace(",", "").strip()
    if not re.fullmatch(rf"[0-9]{{1,{max_digits}}}(\.[0-9]{{1,2}})?", cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def search_words(text: str | None) -> list[str]:
    """A search box's words: NUL removed, capped in length and in number."""
    if not isinstance(text, str):
        return []
    text = text.replace("\x00", "")[:MAX_QUERY_CHARS]
    return text.split()[:MAX_QUERY_WORDS]


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped), without parsing it."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b"", body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_json_body(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise HostileInput for a JSON body nested deeper than max_depth (json.loads would recurse)."""
    if json_depth(body) > max_depth:
        raise HostileInput(f"The JSON is nested more than {max_depth} levels deep.")


def loads(body: bytes | str, *, max_depth: int = MAX_JSON_DEPTH):
    """json.loads after the depth check; non-finite numbers (NaN, Infinity) refused."""
    raw = body.encode() if isinstance(body, str) else body
    check_json_body(raw, max_depth=max_depth)

    def no_constant(name):
        raise HostileInput(f"{name} is not a JSON number.")

    try:
        return json.loads(raw, parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, HostileInput):
            raise
        raise HostileInput(f"JSON parse error: {exc}") from exc


def finite(number: float) -> bool:
    return not (math.isnan(number) or math.isinf(number))
