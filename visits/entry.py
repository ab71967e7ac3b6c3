"""Sections that apps above visits add to the visit entry page (the demands app's demand rows).

Visits sits below demands in the layers and must not import it, yet a household's demands are
taken down during the visit. So the page asks this registry instead: an app registers its section
in its AppConfig.ready(), and visit_new renders each section's template after the diary and
validates it with the visit; services.submit_visit saves it in the visit's transaction, and only
when that press saved the visit (a replayed submission saves no section).
"""

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class EntrySection:
    template: str  # included with `section_form` in its context
    # POST data (or None for a new page) -> a form or formset; left unbound when a POST does not
    # carry the section (scripts, older pages), which then saves nothing.
    build: Callable[[Any], Any]
    # Called once the visit is saved, inside its transaction, with the valid bound form.
    save: Callable[..., None]  # save(*, form, visit, by)
    # Whether the valid bound form asks for what `visit` already holds: a replayed submission
    # (the same key twice) saves no section, and one that asks for more is refused.
    matches: Callable[..., bool]  # matches(*, form, visit)


SECTIONS: list[EntrySection] = []


def register(section: EntrySection) -> None:
    if section not in SECTIONS:
        SECTIONS.append(section)


def build_all(data) -> list[tuple[EntrySection, Any]]:
    return [(section, section.build(data)) for section in SECTIONS]


def all_valid(built) -> bool:
    return all(not form.is_bound or form.is_valid() for _section, form in built)


def save_all(built, *, visit, by) -> None:
    for section, form in built:
        if form.is_bound:
            section.save(form=form, visit=visit, by=by)


def all_match(built, *, visit) -> bool:
    """Whether every section of a replayed submission took down what the first one saved."""
    return all(section.matches(form=form if form.is_bound else None, visit=visit) for section, form in built)
