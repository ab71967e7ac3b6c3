"""What apps above visits add under each visit of a household's timeline (the demands raised in it).

Like visits.entry: visits must not import demands, so an app registers a TimelineExtra in its
AppConfig.ready(). Each extra prefetches its rows onto the visits (one query per extra, however
many visits) and names a template included under each visit with `visit` in its context.
"""

from dataclasses import dataclass
from typing import Callable

from django.db.models import Prefetch


@dataclass(frozen=True)
class TimelineExtra:
    template: str  # included under each visit, with `visit` in its context
    prefetch: Callable[[], Prefetch]  # builds the Prefetch (to_attr) the template reads


EXTRAS: list[TimelineExtra] = []


def register(extra: TimelineExtra) -> None:
    if extra not in EXTRAS:
        EXTRAS.append(extra)


def with_extras(visits):
    """`visits` (a queryset) with every registered extra prefetched."""
    return visits.prefetch_related(*(extra.prefetch() for extra in EXTRAS))


def templates() -> list[str]:
    return [extra.template for extra in EXTRAS]
