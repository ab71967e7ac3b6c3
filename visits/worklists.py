"""Worklists (工作清单): who has not been visited lately and who is behind the county's quota.

Every list is one aggregated query (Exists / Subquery / Case), whatever the data size, and scoped
through the usual `visible_to(user)` querysets: a unit liaison's lists are their unit's cadres and
households, everyone else's the households and villages of their region. Visits done this year
are read from the pre-aggregated tallies (VisitTally, UnitVisitTally: visits/tallies.py), not
counted over a year of visits (a month's end reads the tally's months, a past one too), except for
a past as-of date within a month with visits after it; a whole city's
or the province's "not contacted" counts read HouseholdContact.

Quotas are pro rata: a relation (pairing or village link) that has run `e` days of this year — from
1 January or its start, whichever is later, to the as-of date inclusive — owes
floor(per_year × e / days_in_year) visits by then. All visit modes count toward the household quota.
"""

import calendar
import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, Substr

from households.models import Household
from pairing.models import Pairing, VillageLink
from shuanglian.access import is_unit_liaison, region_q, scope_prefix
from shuanglian.lib.cached_counts import count_or_cached

from . import tallies as visit_tallies
from .models import UnitVisit, UnitVisitTally, Visit, VisitQuota, VisitTally, village_links_in_scope

KINDS = ("stale", "quarter", "cadres", "units")


def quarter_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def owed_by(on: datetime.date, per_year: int, started: datetime.date) -> int:
    """The pro-rata figure for one relation, in plain Python (the definition the SQL must match)."""
    days_in_year = 366 if calendar.isleap(on.year) else 365
    elapsed = (on - max(started, datetime.date(on.year, 1, 1))).days + 1
    return max(0, per_year * elapsed // days_in_year)


def _owed(on: datetime.date, per_year: int, start_field: str):
    """owed_by() as a database expression: owing k visits needs ceil(k × days / per_year) days of
    running, i.e. a start on or before a fixed date, so a CASE over start dates does it."""
    year_start = datetime.date(on.year, 1, 1)
    days_in_year = 366 if calendar.isleap(on.year) else 365
    whens = []
    for owed in range(per_year, 0, -1):
        latest_start = on - datetime.timedelta(days=math.ceil(owed * days_in_year / per_year) - 1)
        if latest_start >= year_start:  # otherwise not even a relation running since 1 January owes this many
            whens.append(When(**{f"{start_field}__lte": latest_start}, then=Value(owed)))
    return Case(*whens, default=Value(0), output_field=IntegerField())


@dataclass(frozen=True)
class Quotas:
    """The quotas of every county that set its own, and the defaults for the rest."""

    households: dict[str, int]  # county prefix (6 digits) → visits per household per year
    villages: dict[str, int]

    @classmethod
    def load(cls) -> "Quotas":
        rows = VisitQuota.objects.values_list(
            "county_id", "household_visits_per_year", "village_visits_per_year"
        )
        return cls({c[:6]: h for c, h, _ in rows}, {c[:6]: v for c, _, v in rows})

    def household(self, code: str) -> int:
        return self.households.get(code[:6], VisitQuota.HOUSEHOLD_DEFAULT)

    def village(self, code: str) -> int:
        return self.villages.get(code[:6], VisitQuota.VILLAGE_DEFAULT)

    @staticmethod
    def expression(per_county: dict[str, int], default: int, on, start_field: str, code_field: str):
        """Visits owed by `on`, each county with its own quota (one CASE branch per distinct quota)."""
        prefixes_by_quota = {}
        for prefix, per_year in per_county.items():
            if per_year != default:
                prefixes_by_quota.setdefault(per_year, []).append(prefix)
        whens = []
        for per_year, prefixes in sorted(prefixes_by_quota.items()):
            in_counties = Q()
            for prefix in prefixes:
                in_counties |= Q(**{f"{code_field}__startswith": prefix})
            whens.append(When(in_counties, then=_owed(on, per_year, start_field)))
        return Case(*whens, default=_owed(on, default, start_field), output_field=IntegerField())


def _in_region(user, code_field: str, within: str) -> Q:
    """The user's region, or the county or township `within` it (a breakdown row's link). Only the
    narrower prefix when it lies inside the user's: two prefixes made PostgreSQL think the province's
    filter kept every row and plan a county's list as a province's (parallel workers, 2x slower)."""
    scope = scope_prefix(user)
    if within and scope is not None and within.startswith(scope) and not is_unit_liaison(user):
        return Q(**{f"{code_field}__startswith": within})
    return region_q(user, code_field) & (Q(**{f"{code_field}__startswith": within}) if within else Q())


def paired_households(user, on, within: str = ""):
    """Households the user looks after (unit liaison: paired with the unit's cadres) with a pairing on
    `on`."""
    in_force = Pairing.objects.on(on)
    if is_unit_liaison(user):
        return Household.objects.filter(pk__in=in_force.visible_to(user).values("household_id"))
    # The region's households, each probed for a pairing in force: an IN over the region's pairings
    # made PostgreSQL read every pairing of the province even for a county (199 → 114 ms there).
    return Household.objects.filter(_in_region(user, "village__code", within)).filter(
        Exists(in_force.filter(household=OuterRef("pk")))
    )


def _not_contacted_since(user, on, since: datetime.date, within: str):
    """Paired households with no visit or contact from `since` to `on`, for any as-of date.

    Each household's visit index is probed (an anti-join): for a county or narrower this is what
    PostgreSQL does fastest, faster than reading HouseholdContact, which it hashes whole (340k rows)
    or probes per household at a cost that sets its JIT compiler going (bench/visits.py). A whole
    city or the province is counted with _uncontacted_joined() instead."""
    contacted = Visit.objects.filter(household=OuterRef("pk"), visited_on__gte=since, visited_on__lte=on)
    last_visit = Visit.objects.filter(household=OuterRef("pk"), visited_on__lte=on).order_by("-visited_on")
    responsible = Pairing.objects.on(on).responsible().filter(household=OuterRef("pk"))
    return (
        paired_households(user, on, within)
        .filter(~Exists(contacted))
        .annotate(
            last_visit=Subquery(last_visit.values("visited_on")[:1]),
            cadre_name=Subquery(responsible.values("cadre__name")[:1]),
            cadre_pk=Subquery(responsible.values("cadre_id")[:1]),  # the row's 录入走访 link
        )
        .select_related("village__parent")  # the township column of a county's list
        .order_by(F("last_visit").asc(nulls_first=True), "village_id", "pk")
    )


def _uncontacted_joined(user, on, since: datetime.date):
    """The households of _not_contacted_since(), to be counted over a whole city or the province:
    HouseholdContact joined in one hash pass (0.4 s at the province; the visits' anti-join, 2 s).

    The kept date is the latest visit ever, so it answers for `on` whenever it is not after `on`
    (always, as of today: no visit is dated in the future). Only for a past as-of date, a household
    visited since then is checked against its visits."""
    kept = "last_contact__last_contacted_on"
    contacted = Visit.objects.filter(household=OuterRef("pk"), visited_on__gte=since, visited_on__lte=on)
    return paired_households(user, on).filter(
        Q(**{f"{kept}__isnull": True})
        | Q(**{f"{kept}__lt": since})
        | (Q(**{f"{kept}__gt": on}) & ~Exists(contacted))
    )


def stale_since(on: datetime.date) -> datetime.date:
    return on - datetime.timedelta(days=settings.VISIT_STALE_DAYS - 1)


def stale_households(user, on, within: str = ""):
    """Paired households with no visit or contact in the last VISIT_STALE_DAYS days up to `on`."""
    return _not_contacted_since(user, on, stale_since(on), within)


def uncontacted_this_quarter(user, on, within: str = ""):
    """Paired households with no visit or contact since the quarter of `on` began."""
    return _not_contacted_since(user, on, quarter_start(on), within)


def _count_this_year(visits, on, per: str):
    """How many of these visits (matched to one outer row, grouped `per` that row's key) fell from
    1 January to `on`, as a subquery."""
    return (
        visits.filter(visited_on__gte=datetime.date(on.year, 1, 1), visited_on__lte=on)
        .order_by()
        .values(per)
        .annotate(n=Count("pk"))
        .values("n")
    )


def _done_this_year(tallies, visits, on, per: str):
    """Visits done from 1 January to `on`, read from the year's tally (no tally: none done).

    The tally counts the whole year, so it answers for `on` whenever its latest visit is not after
    `on` (always, as of today). Only for a past as-of date with later visits are the visits counted."""
    done = tallies.filter(year=on.year).annotate(
        done=Case(
            When(last_visited_on__gt=on, then=Coalesce(Subquery(_count_this_year(visits, on, per)), 0)),
            default=F("visits"),
            output_field=IntegerField(),
        )
    )
    return Coalesce(Subquery(done.values("done")[:1]), 0)


def _behind(tallies, visits, on, per: str) -> Q:
    """done < owed (the outer row's annotation) as two anti-joins rather than a value per row: at
    province scale PostgreSQL runs them as one hash pass over the year's tallies instead of
    probing the tally index once per pairing. At most one tally per row and year, so: no tally
    means none done; a tally not after `on` is the count; a later one is counted from the visits."""
    year = tallies.filter(year=on.year)
    enough_kept = year.filter(last_visited_on__lte=on, visits__gte=OuterRef("owed"))
    enough_counted = (
        year.filter(last_visited_on__gt=on)
        .annotate(counted=Coalesce(Subquery(_count_this_year(visits, on, per)), 0))
        .filter(counted__gte=OuterRef("owed"))
    )
    return Q(owed__gt=0) & ~Exists(enough_kept) & ~Exists(enough_counted)


def done_by_months(on, tallies=None):
    """Each cadre's visits to each household from 1 January to `on`, where those are whole months
    (tallies.month_span: a month's end, or today): the year's tally rows with `done`, the sum of
    their months up to `on`'s, exact for a past date too, with no visit counted."""
    tallies = VisitTally.objects.all() if tallies is None else tallies
    return (
        tallies.filter(year=on.year)
        .annotate(done=visit_tallies.visits_in_months(1, on.month))
        .values("cadre_id", "household_id", "done")
        .order_by()
    )


def owed_expression(quotas: Quotas, on):
    """A pairing's visits owed by `on`, by its household's county quota (pro rata: owed_by)."""
    return Quotas.expression(
        quotas.households, VisitQuota.HOUSEHOLD_DEFAULT, on, "started_on", "household__village__code"
    )


def _behind_by_months(tallies, on) -> tuple[Q, object]:
    """(behind, done) for an as-of date whose visits are whole months (done_by_months). Behind is
    one anti-join, as in _behind."""
    year = done_by_months(on, tallies)
    behind = Q(owed__gt=0) & ~Exists(year.filter(done__gte=OuterRef("owed")))
    return behind, Coalesce(Subquery(year.values("done")[:1]), 0)


def pairings_behind(user, on, quotas: Quotas, within: str = ""):
    """Pairings in force on `on` whose cadre has visited the household fewer times this year than owed."""
    tallies = VisitTally.objects.filter(cadre=OuterRef("cadre_id"), household=OuterRef("household_id"))
    visits = Visit.objects.filter(
        cadre=OuterRef(OuterRef("cadre_id")), household=OuterRef(OuterRef("household_id"))
    )
    owed = owed_expression(quotas, on)
    if visit_tallies.month_span(datetime.date(on.year, 1, 1), on):  # a month's end, or today
        behind, done = _behind_by_months(tallies, on)
    else:
        behind, done = (
            _behind(tallies, visits, on, "household"),
            _done_this_year(tallies, visits, on, "household"),
        )
    return (
        (
            Pairing.objects.visible_to(user)
            if is_unit_liaison(user)
            else Pairing.objects.filter(_in_region(user, "household__village__code", within))
        )
        .on(on)
        .annotate(owed=owed)
        .filter(behind)
        .annotate(done=done)  # shown, not filtered on
    )


def cadres_behind(user, on, quotas: Quotas, within: str = ""):
    """One row per cadre behind quota: how many of their households are behind."""
    return (
        pairings_behind(user, on, quotas, within)
        .values("cadre_id", "cadre__name", "cadre__unit__name")
        .annotate(households_behind=Count("pk"))
        .order_by("-households_behind", "cadre__unit__name", "cadre__name", "cadre_id")
    )


def links_behind(user, on, quotas: Quotas, within: str = ""):
    """Village links in force on `on` whose unit has made fewer village visits there this year than owed."""
    done = _done_this_year(
        UnitVisitTally.objects.filter(unit=OuterRef("unit_id"), village=OuterRef("village_id")),
        UnitVisit.objects.filter(
            unit=OuterRef(OuterRef("unit_id")), village=OuterRef(OuterRef("village_id"))
        ),
        on,
        "village",
    )
    owed = Quotas.expression(quotas.villages, VisitQuota.VILLAGE_DEFAULT, on, "started_on", "village__code")
    return (
        (
            village_links_in_scope(user)
            if is_unit_liaison(user)
            else VillageLink.objects.filter(_in_region(user, "village__code", within))
        )
        .on(on)
        .annotate(done=done, owed=owed)
        .filter(done__lt=F("owed"))
        .select_related("unit", "village__parent")
        .order_by("unit__name", "unit_id", "village_id")
    )


def counts(user, on, quotas: Quotas) -> dict[str, int]:
    """The figure on each worklist card: four queries."""
    wide = shows_breakdown(user)

    def uncontacted(since):
        if wide:  # a whole city or the province: one hash pass each
            return _uncontacted_joined(user, on, since)
        return _not_contacted_since(user, on, since, "")

    return {
        "stale": uncontacted(stale_since(on)).order_by().count(),
        "quarter": uncontacted(quarter_start(on)).order_by().count(),
        "cadres": pairings_behind(user, on, quotas).values("cadre_id").distinct().count(),
        "units": links_behind(user, on, quotas).order_by().values("unit_id").distinct().count(),
    }


def counts_cached(user, on, *, refresh: bool = False) -> tuple[dict[str, int], datetime.datetime | None]:
    """counts() and when they were counted. A city's or the province's counts pass over every
    pairing and a year of visits (seconds at province scale), so they come from the cache
    (shuanglian.lib.cached_counts); counted_at is None for a county, township or unit: live."""
    prefix = None if is_unit_liaison(user) else scope_prefix(user)
    return count_or_cached(
        f"worklists:{prefix}:{on.isoformat()}",
        prefix,
        lambda: counts(user, on, Quotas.load()),
        refresh=refresh,
    )


# --- A city's or the province's lists: counts per county --------------------------------------
# Tens of thousands of rows, each needing every pairing of the region to be read (a full pass of
# ~340k pairings takes seconds for the quotas even with the tallies): nobody pages through that.
# The office gets the figure per county, counted like the summary (cached, with a recount link),
# and each figure links to that county's real list, which is counted live.

BREAKDOWN_UP_TO_DIGITS = 4  # a city's prefix has four digits, the province's two, a superuser's none


def shows_breakdown(user) -> bool:
    prefix = None if is_unit_liaison(user) else scope_prefix(user)
    return prefix is not None and len(prefix) <= BREAKDOWN_UP_TO_DIGITS


def _county(code_field: str):
    return Substr(code_field, 1, 6)


def per_county(user, on, kind: str, quotas: Quotas) -> list[tuple[str, int]]:
    """(county prefix, count) for each county of the user's scope with something on the `kind` list.

    For cadres and units the figure is the distinct cadres (units) behind in that county; one who
    is behind in two counties counts in each."""
    if kind in ("stale", "quarter"):
        since = stale_since(on) if kind == "stale" else quarter_start(on)
        rows = (
            _uncontacted_joined(user, on, since).values(county=_county("village_id")).annotate(n=Count("pk"))
        )
    elif kind == "cadres":
        rows = (
            pairings_behind(user, on, quotas)
            .order_by()
            .values(county=_county("household__village_id"))
            .annotate(n=Count("cadre_id", distinct=True))
        )
    else:
        rows = (
            links_behind(user, on, quotas)
            .order_by()
            .values(county=_county("village_id"))
            .annotate(n=Count("unit_id", distinct=True))
        )
    return sorted((row["county"], row["n"]) for row in rows)


def per_county_cached(user, on, kind: str, *, refresh: bool = False):
    """per_county() and when it was counted, kept like the summary's counts (counts_cached)."""
    prefix = scope_prefix(user)
    return count_or_cached(
        f"worklist:{kind}:{prefix}:{on.isoformat()}",
        prefix,
        lambda: per_county(user, on, kind, Quotas.load()),
        refresh=refresh,
    )
