"""Query-string values, parsed and bounded in one place; never trusted.

Every view reads its GET parameters through these helpers. A value that is malformed or out of
bounds gives the default (usually None: "no filter"), never an exception: a crafted link such as
?month=0000-00 or ?on=0001-01-01 must not reach date arithmetic (issue 11, item 7). Dates are held
between the campaign's floor (settings.SHUANGLIAN_DATE_FLOOR) and today.
"""

import datetime
import re

from django.utils import timezone

from . import dates

# Longer search text is cut: a lookup needs a name or a few digits, not a page of text.
MAX_TEXT = 100
_INT = re.compile(r"-?[0-9]{1,18}")  # ASCII only: str.isdigit() accepts "²" and int() then fails
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CODE = re.compile(r"[0-9]{1,12}")


def parse_text(raw, *, max_length: int = MAX_TEXT) -> str:
    """Free text (a search): stripped, without NUL or other control characters (PostgreSQL refuses NUL)."""
    if not isinstance(raw, str):
        return ""
    text = "".join(ch for ch in raw if ch.isprintable())
    return text.strip()[:max_length]


def parse_int(raw, *, default=None, min_value: int | None = None, max_value: int | None = None):
    if not isinstance(raw, str) or not _INT.fullmatch(raw.strip()):
        return default
    value = int(raw.strip())
    if (min_value is not None and value < min_value) or (max_value is not None and value > max_value):
        return default
    return value


def parse_page(raw) -> int:
    """A page number for Paginator.get_page (which shows the last page past the end)."""
    return parse_int(raw, default=1, min_value=1, max_value=10**9)


def parse_date(
    raw, *, default=None, earliest: datetime.date | None = None, latest: datetime.date | None = None
):
    """YYYY-MM-DD between `earliest` (the campaign floor) and `latest` (today), else `default`."""
    if not isinstance(raw, str) or not _DATE.fullmatch(raw.strip()):
        return default
    try:
        value = datetime.date.fromisoformat(raw.strip())
    except ValueError:
        return default
    earliest = earliest or dates.floor()
    latest = latest or timezone.localdate()
    return value if earliest <= value <= latest else default


def parse_month(raw, *, default=None):
    """YYYY-MM as (year, month), from the floor's month to this month, else `default`."""
    match = _MONTH.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if not match:
        return default
    year, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12:
        return default
    floor, today = dates.floor(), timezone.localdate()
    if not (floor.year, floor.month) <= (year, month) <= (today.year, today.month):
        return default
    return year, month


_QUARTER = re.compile(r"([0-9]{4})-[Qq]([1-4])")


def parse_quarter(raw, *, default=None):
    """YYYY-Qn as (year, n), from the floor's quarter to this quarter, else `default`."""
    match = _QUARTER.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if not match:
        return default
    year, quarter = int(match[1]), int(match[2])
    floor, today = dates.floor(), timezone.localdate()
    if (
        not (floor.year, (floor.month - 1) // 3 + 1)
        <= (year, quarter)
        <= (today.year, (today.month - 1) // 3 + 1)
    ):
        return default
    return year, quarter


def parse_choice(raw, choices, *, default=None):
    """One of `choices` (values, or (value, label) pairs), else `default`."""
    values = {c[0] if isinstance(c, (tuple, list)) else c for c in choices}
    return raw if isinstance(raw, str) and raw in values else default


def parse_code(raw, *, default=None):
    """A region code or its prefix: 1 to 12 ASCII digits, else `default`."""
    return raw if isinstance(raw, str) and _CODE.fullmatch(raw) else default
