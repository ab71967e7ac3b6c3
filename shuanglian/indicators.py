"""The indicator catalogue: each figure the app shows is defined once, here by registration.

An app defines the figures it owns in its own ``indicators.py`` (households, pairing, visits,
demands, plans…) and registers them when Django starts (``AppConfig.ready``). Pages, reports,
commands and tests read a figure through ``value``/``values``/``rows``, never by counting again,
so two pages cannot disagree: where they count different sets they read different indicators,
each with its own name and definition on the page.

The catalogue sits in the project package, below every app, like ``visits.entry``'s registry:
a page may read a figure owned by an app above its own without importing that app.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

Number = int | Decimal


@dataclass(frozen=True)
class Scope:
    """Whose figures: a region (its code prefix; '' is the whole province), or a unit's own work."""

    prefix: str = ""
    unit_id: int | None = None

    @classmethod
    def for_region(cls, code: str, level_digits: int) -> "Scope":
        return cls(prefix=code[:level_digits])


@dataclass(frozen=True)
class Period:
    """A half-open range of days [start, end): a month, a quarter, a year or a year to date."""

    start: datetime.date
    end: datetime.date

    @classmethod
    def month(cls, year: int, month: int) -> "Period":
        start = datetime.date(year, month, 1)
        end = datetime.date(year + month // 12, month % 12 + 1, 1)
        return cls(start, end)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        first = cls.month(year, 3 * quarter - 2)
        return cls(first.start, cls.month(year, 3 * quarter).end)

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1))

    def year_to_date(self) -> "Period":
        return Period(self.start.replace(month=1, day=1), self.end)


@dataclass(frozen=True)
class Indicator:
    """One figure: a stable key, the Chinese name and one-line definition users read, and its query.

    ``count(scope, period)`` returns the figure; ``period`` is None for a figure of the present
    state (households on the register) and a Period for one of a span (visits in the month).
    ``rows(scope, period, level_digits)``, where given, returns the same figure per child region
    (keyed by code) in one query; ``additive`` says whether those rows add up to the total.
    """

    key: str
    name: str
    definition: str
    count: Callable[[Scope, Period | None], Number]
    rows: Callable[[Scope, Period | None, int], dict[str, Number]] | None = None
    additive: bool = True
    unit: str = ""


_CATALOGUE: dict[str, Indicator] = {}


def register(*indicators: Indicator) -> None:
    for indicator in indicators:
        if indicator.key in _CATALOGUE and _CATALOGUE[indicator.key] != indicator:
            raise ValueError(f"indicator {indicator.key!r} is defined twice")
        _CATALOGUE[indicator.key] = indicator


def get(key: str) -> Indicator:
    return _CATALOGUE[key]


def catalogue() -> list[Indicator]:
    return list(_CATALOGUE.values())


def value(key: str, scope: Scope, period: Period | None = None) -> Number:
    return _CATALOGUE[key].count(scope, period)


def values(keys, scope: Scope, period: Period | None = None) -> dict[str, Number]:
    return {key: value(key, scope, period) for key in keys}
