"""The demand rows of the visit entry page, registered with visits.entry (see DemandsConfig.ready)."""

from visits.entry import EntrySection

from . import services
from .forms import DemandRowFormSet, demand_rows

PREFIX = "demands"


def _build(data):
    # Posts without the demand rows (scripts, older forms) simply raise no demands.
    has_rows = data is not None and f"{PREFIX}-TOTAL_FORMS" in data
    return DemandRowFormSet(data if has_rows else None, prefix=PREFIX)


def _save(*, form, visit, by):
    for row in demand_rows(form):
        services.raise_demand(
            household=visit.household, category=row["category"], text=row["text"], by=by, visit=visit
        )


def _matches(*, form, visit):
    rows = [(row["category"], row["text"].strip()) for row in demand_rows(form)] if form is not None else []
    return rows == list(visit.demands.order_by("pk").values_list("category", "text"))


DEMAND_ROWS = EntrySection(
    template="demands/visit_demand_rows.html", build=_build, save=_save, matches=_matches
)
