"""Region-code prefixes as ranges of codes.

Everything that lives in a place is scoped by a prefix of a 12-digit statistical code: township
'620102001' holds every village '620102001xxx'. Scopes say so with `LIKE 'prefix%'` (region_q), which
a varchar_pattern_ops index serves. The same prefix as a range of digit strings,
`code >= '620102001' AND code < '620102002'`, is what a plain btree serves under any collation, and
so what lets a list ordered by the code walk only its scope's slice of such an index.
"""

from django.db.models import Q


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """The half-open range [low, high) of digit codes starting with `prefix`: '620102009' gives
    ('620102009', '620102010'); a prefix of nines has no upper bound."""
    following = str(int(prefix) + 1).zfill(len(prefix))
    return prefix, (following if len(following) == len(prefix) else None)


def prefix_range_q(field: str, prefix: str | None) -> Q:
    """Codes in `field` that start with `prefix`, as a range; no condition for '', None or non-digits."""
    if not prefix or not prefix.isdigit():
        return Q()
    low, high = prefix_bounds(prefix)
    return Q(**{f"{field}__gte": low}) & (Q(**{f"{field}__lt": high}) if high else Q())


def county_code(code: str) -> str:
    """The 12-digit code of the county holding a region code (a village's, a township's or a
    county prefix): '621121101201' and '621121' give '621121000000'. Counties' rules (pairing
    limits, demand deadlines) are keyed by it."""
    return code[:6].ljust(12, "0")
