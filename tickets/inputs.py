"""What the product accepts as input, in one place: the years it means, the ids it can look up, the
characters and the JSON nesting it refuses before anything reaches a query.

* **Years 2000–2099** (``YEAR_MIN``/``YEAR_MAX``): months to compute or build, deadlines, filter
  dates and date-times, on pages and in the API alike (one message, ``YEAR_MESSAGE``). Outside them a
  date overflows when converted between time zones or when the next month is computed (year 9999).
* **Ids** are ASCII digits between 1 and ``MAX_ID`` (PostgreSQL's bigint): ``parse_id`` says ``None``
  for anything else (``"abc"``, ``"²"``, ``"1e5"``, 30 digits) instead of a ValueError/OverflowError 500.
* **NUL and lone surrogates** (``forbidden_character``): PostgreSQL refuses NUL in text and JSON, a
  lone surrogate cannot be encoded as UTF-8. ``tickets.middleware.MalformedRequestMiddleware`` refuses
  them in the path, the query string and form fields; ``tickets.apis.parsers.JSONParser`` in JSON bodies.
* **JSON nesting** deeper than ``JSON_MAX_DEPTH`` is refused before it is parsed (a body nested a few
  thousand levels deep used to raise RecursionError).
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from django.conf import settings

YEAR_MIN = 2000
YEAR_MAX = 2099
YEAR_MESSAGE = f"日期应在{YEAR_MIN}年至{YEAR_MAX}年之间。"

MAX_ID = 2**63 - 1
JSON_MAX_DEPTH = 32
CHARACTER_MESSAGE = "不能包含空字符（\\0）或不成对的代理字符。"

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_DIGITS = re.compile(r"[0-9]{1,19}")


def year_in_range(year: int) -> bool:
    return YEAR_MIN <= year <= YEAR_MAX


def date_in_range(value: dt.date) -> bool:
    """A date (or a date-time: its local date in the centre's time zone) within the product's years."""
    if isinstance(value, dt.datetime):
        return datetime_in_range(value)
    return year_in_range(value.year)


def _bounds() -> tuple[dt.datetime, dt.datetime]:
    tz = ZoneInfo(settings.TIME_ZONE)
    return dt.datetime(YEAR_MIN, 1, 1, tzinfo=tz), dt.datetime(YEAR_MAX + 1, 1, 1, tzinfo=tz)


def datetime_in_range(value: dt.datetime) -> bool:
    """Compared without converting ``value`` (converting 9999-12-31T23:59-12:00 overflows); a naive
    value is read in the centre's time zone."""
    earliest, latest = _bounds()
    if value.tzinfo is None or value.utcoffset() is None:
        return earliest.replace(tzinfo=None) <= value < latest.replace(tzinfo=None)
    return earliest <= value < latest


def parse_id(value) -> int | None:
    """``value`` as a database id, or ``None`` when it cannot be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def parse_ids(values) -> list[int] | None:
    """Every value an id, or ``None`` when one is not."""
    ids = [parse_id(v) for v in values]
    return None if any(i is None for i in ids) else ids


def forbidden_character(text: str) -> bool:
    return bool(_FORBIDDEN.search(text))


def json_depth_exceeds(text: str, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether the JSON ``text`` nests arrays/objects deeper than ``limit`` (strings skipped; no
    recursion, so any depth is measured safely)."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def forbidden_paths(data, path: str = "") -> list[str]:
    """Dotted paths (``sections.hot_issues``, ``items.0``) of the keys and strings of parsed JSON that
    hold a forbidden character; call only on data whose depth is bounded."""
    found: list[str] = []
    if isinstance(data, str):
        if forbidden_character(data):
            found.append(path or "non_field_errors")
    elif isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if forbidden_character(str(key)):
                found.append(path or "non_field_errors")
                continue
            found.extend(forbidden_paths(value, where))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(forbidden_paths(value, f"{path}.{index}" if path else str(index)))
    return found
