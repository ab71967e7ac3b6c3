"""Overview figures for a whole city or the province, served from the cache for a few minutes.

Such figures need a pass over every pairing or visit of the region (seconds at province scale),
and an overview need not be right to the second: the page says when it was counted and offers a
recount (?refresh=1). A county or anything narrower is always counted live, and so are the lists
behind the figures.
"""

from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

# A city's prefix has four digits; wider regions (the province: two, or none for a superuser) are cached.
CACHED_UP_TO_DIGITS = 4

T = TypeVar("T")


def is_cached_scope(prefix: str | None) -> bool:
    """Whether figures for this region prefix come from the cache (None: no region scope, e.g. a unit)."""
    return prefix is not None and len(prefix) <= CACHED_UP_TO_DIGITS and bool(settings.COVERAGE_CACHE_SECONDS)


def count_or_cached(key: str, prefix: str | None, count: Callable[[], T], *, refresh: bool = False):
    """(count(), counted_at). For a city or the province the pair is kept under `key` for
    COVERAGE_CACHE_SECONDS and counted_at says when it was counted; refresh recounts and keeps
    the new figures. Any other scope is counted now, with counted_at None."""
    if not is_cached_scope(prefix):
        return count(), None
    counted = None if refresh else cache.get(key)
    if counted is None:
        counted = (count(), timezone.now())
        cache.set(key, counted, settings.COVERAGE_CACHE_SECONDS)
    return counted
