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
from dataclasses import dataclass, field
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

    @classmethod
    def for_user(cls, user) -> "Scope":
        """What the user sees: a unit liaison its unit, an office its region, anyone else nothing."""
        from .access import is_unit_liaison, scope_prefix

        if is_unit_liaison(user):
            return cls(unit_id=user.unit_id)
        prefix = scope_prefix(user)
        return cls(prefix=prefix) if prefix is not None else cls.NOTHING

    @property
    def is_unit(self) -> bool:
        return self.unit_id is not None


# A scope holding no region: no statistical code starts with a letter.
Scope.NOTHING = Scope(prefix="-")


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
    (keyed by the child's code prefix) in one query; ``additive`` says whether those rows add up
    to the total (what is seated at the region's own level, such as a county's 县直 units, groups
    under the prefix of no child: see ``own_level``).

    Several figures read from one query (households, poor, unpaired: one pass over the households)
    share a ``batch``: ``batch(scope, period)`` returns a dict holding this figure's key and its
    siblings', ``batch_rows(scope, period, level_digits)`` a dict per child prefix. ``values`` and
    ``table`` run each batch once for all the keys asked, so a page costs one query per batch.
    An indicator gives ``count`` or ``batch`` (or both); ``rows`` or ``batch_rows`` where it has rows.

    A figure of each cadre's own helping (the process indicators of mass evaluation) gives
    ``by_cadre(cadres, period)``: cadre id → {key: figure} for the cadres of ``cadres`` (ids, or a
    subquery of ids), over their responsible pairings in force on the period's last day, in one
    grouped query whatever the number of cadres; ``values_by_cadre`` runs each once for its keys.
    """

    key: str
    name: str
    definition: str
    count: Callable[[Scope, Period | None], Number | None] | None = None
    rows: Callable[[Scope, Period | None, int], dict[str, Number]] | None = None
    additive: bool = True
    unit: str = ""
    batch: Callable[[Scope, Period | None], dict[str, Number | None]] | None = field(
        default=None, compare=False
    )
    batch_rows: Callable[[Scope, Period | None, int], dict[str, dict[str, Number]]] | None = field(
        default=None, compare=False
    )
    by_cadre: Callable[[object, Period], dict[int, dict[str, Number]]] | None = field(
        default=None, compare=False
    )
    # The batch takes ``keys=`` (the set of its keys asked by ``values``) and may leave out the
    # work only other keys need (the demand batch: the pass over the open demands, issue 13).
    batch_takes_keys: bool = field(default=False, compare=False)

    def __post_init__(self):
        if self.count is None and self.batch is None and self.by_cadre is None:
            raise ValueError(f"indicator {self.key!r} has neither count, batch nor by_cadre")

    def __str__(self):
        return self.name

    @property
    def has_rows(self) -> bool:
        return self.rows is not None or self.batch_rows is not None


_CATALOGUE: dict[str, Indicator] = {}


def register(*indicators: Indicator) -> None:
    for indicator in indicators:
        known = _CATALOGUE.get(indicator.key)
        if known is not None and (known.name, known.definition) != (indicator.name, indicator.definition):
            raise ValueError(f"indicator {indicator.key!r} is defined twice")
        _CATALOGUE[indicator.key] = indicator


def get(key: str) -> Indicator:
    return _CATALOGUE[key]


def catalogue() -> list[Indicator]:
    return list(_CATALOGUE.values())


def value(key: str, scope: Scope, period: Period | None = None) -> Number | None:
    indicator = _CATALOGUE[key]
    if indicator.count is not None:
        return indicator.count(scope, period)
    return indicator.batch(scope, period)[key]


def values(keys, scope: Scope, period: Period | None = None) -> dict[str, Number | None]:
    """The figures of ``keys`` for one scope, each batch run once."""
    keys = list(keys)  # read twice where a batch takes the keys asked of it
    result, batches = {}, {}
    for key in keys:
        indicator = _CATALOGUE[key]
        if indicator.batch is None:
            result[key] = indicator.count(scope, period)
            continue
        if indicator.batch not in batches:
            if indicator.batch_takes_keys:
                asked = frozenset(other for other in keys if _CATALOGUE[other].batch is indicator.batch)
                batches[indicator.batch] = indicator.batch(scope, period, keys=asked)
            else:
                batches[indicator.batch] = indicator.batch(scope, period)
        result[key] = batches[indicator.batch][key]
    return result


def values_by_cadre(keys, cadres, period: Period) -> dict[int, dict[str, Number]]:
    """The per-cadre figures of ``keys`` (see Indicator.by_cadre): cadre id → key → figure, each
    query run once. A cadre with nothing to count is absent or holds no key: read with ``.get(key, 0)``."""
    result: dict[int, dict[str, Number]] = {}
    run = set()
    for key in keys:
        query = _CATALOGUE[key].by_cadre
        if query is None:
            raise ValueError(f"indicator {key!r} has no per-cadre figures")
        if query in run:
            continue
        run.add(query)
        for cadre_id, figures in query(cadres, period).items():
            result.setdefault(cadre_id, {}).update(
                (name, figure) for name, figure in figures.items() if name in keys
            )
    return result


def table(keys, scope: Scope, period: Period | None, level_digits: int) -> dict[str, dict[str, Number]]:
    """The figures of ``keys`` per child region (``level_digits`` digits of its code): child prefix →
    key → figure, each batch run once. A child with nothing to count is absent or holds no key:
    read with ``.get(key, 0)``. Rows of things seated at the region's own level are kept under their
    own prefix (see ``own_level``)."""
    result: dict[str, dict[str, Number]] = {}
    batches = {}
    for key in keys:
        indicator = _CATALOGUE[key]
        if indicator.batch_rows is not None:
            if indicator.batch_rows not in batches:
                batches[indicator.batch_rows] = indicator.batch_rows(scope, period, level_digits)
            per_child = {
                child: row[key] for child, row in batches[indicator.batch_rows].items() if key in row
            }
        elif indicator.rows is not None:
            per_child = indicator.rows(scope, period, level_digits)
        else:
            raise ValueError(f"indicator {key!r} has no rows")
        for child, figure in per_child.items():
            result.setdefault(child, {})[key] = figure
    return result


def own_level(table_rows: dict[str, dict[str, Number]], child_prefixes) -> dict[str, Number]:
    """What ``table`` counted under no child: things seated at the region's own level (a county's
    县直 units and their cadres), summed per key. With it, the rows of an additive figure add up
    to its total."""
    children = set(child_prefixes)
    rest: dict[str, Number] = {}
    for child, row in table_rows.items():
        if child in children:
            continue
        for key, figure in row.items():
            rest[key] = rest.get(key, 0) + (figure or 0)
    return rest
