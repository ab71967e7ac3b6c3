"""What apps above households add to its pages: the household page's sections (帮扶干部, 走访记录,
帮扶计划, 诉求) and buttons, the household list's export, the region page's buttons.

Households sits at the bottom of the layers and must not import those apps, in Python or in its
templates (`{% load %}`, `{% url %}`). So each app registers here in its AppConfig.ready(), as
visits.entry does for the visit entry page, and the pages ask this registry through the
`household_sections` tag library.
"""

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Section:
    """A block of the household page: `template` rendered with `data(context, household)`."""

    order: int  # top to bottom
    template: str
    data: Callable[[Any, Any], dict]


@dataclass(frozen=True)
class Link:
    """A button on one of the pages: `url(obj)` (the household, the region, the list's query)."""

    order: int  # left to right
    label: str
    url: Callable[[Any], str]
    shown: Callable[[Any, Any], bool] = field(default=lambda user, obj: True)  # shown(user, obj)


# Where a link goes: the household page's heading, the household list's count line, a region page's heading.
PLACES = ("household", "household_list", "region")

SECTIONS: list[Section] = []
LINKS: dict[str, list[Link]] = {place: [] for place in PLACES}


def register_section(section: Section) -> None:
    if section not in SECTIONS:
        SECTIONS.append(section)
        SECTIONS.sort(key=lambda registered: registered.order)


def register_link(place: str, link: Link) -> None:
    links = LINKS[place]
    if link not in links:
        links.append(link)
        links.sort(key=lambda registered: registered.order)


def links_for(place: str, user, obj) -> list[tuple[str, str]]:
    """(label, URL) of the links at `place` this user may follow, in order."""
    return [(link.label, link.url(obj)) for link in LINKS[place] if link.shown(user, obj)]
