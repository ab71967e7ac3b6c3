"""The figures of pairing coverage (shuanglian.indicators): registered when Django starts.

Present-state figures: ``period`` is ignored. Households and villages group by their village
code; units and cadres by their unit's seat, so what is seated at the region's own level (a
county's 县直 units) groups under no child and shows as the table's 本级 row (indicators.own_level).
"""

import datetime

from django.db.models import Count, Exists, FilteredRelation, OuterRef, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from households.models import POOR_ON_REGISTER, Household, Region
from shuanglian.indicators import Indicator, Scope, register
from shuanglian.lib.codes import county_code

from . import coverage
from .models import CadreLoad, Pairing, Unit, VillageLink


def _region_only(scope: Scope) -> None:
    if scope.is_unit:
        raise ValueError("a unit's figures have no rows per region")


def rate(paired: int, poor: int) -> int | None:
    """帮扶责任人落实率 in whole percent; None where there is no poor household."""
    return round(100 * paired / poor) if poor else None


# --- Poor households paired ---------------------------------------------------------------------


def _poor_households(scope: Scope):
    # A LEFT JOIN on the one open responsible pairing (unique per household) is a single
    # hash join; an EXISTS probe per household costs 400k index look-ups at the province.
    responsible = FilteredRelation(
        "pairings", condition=Q(pairings__ended_on__isnull=True, pairings__role=Pairing.Role.RESPONSIBLE)
    )
    return Household.objects.in_scope(scope).annotate(responsible=responsible)


POOR_COUNTS = {
    "poor": Count("pk", filter=POOR_ON_REGISTER),
    "unpaired": Count("pk", filter=POOR_ON_REGISTER & Q(responsible__isnull=True)),
}


def _paired(row: dict) -> dict:
    poor, unpaired = row["poor"] or 0, row["unpaired"] or 0
    return {"paired": poor - unpaired, "unpaired": unpaired, "coverage_rate": rate(poor - unpaired, poor)}


def poor_figures(scope: Scope, period=None) -> dict:
    return _paired(_poor_households(scope).aggregate(**POOR_COUNTS))


def poor_rows(scope: Scope, period, digits: int) -> dict:
    _region_only(scope)
    rows = (
        _poor_households(scope)
        .annotate(child=Substr("village_id", 1, digits))
        .values("child")
        .annotate(**POOR_COUNTS)
        .order_by()
    )
    return {row["child"]: _paired(row) for row in rows}


# --- Poor villages linked to a unit -------------------------------------------------------------


def _villages(scope: Scope):
    linked = VillageLink.objects.open().filter(village_id=OuterRef("code"))
    return Region.objects.in_scope(scope).villages().annotate(linked=Exists(linked))


VILLAGE_COUNTS = {
    "poor_villages_with_unit": Count("code", filter=Q(is_poor=True, linked=True)),
    "poor_villages_without_unit": Count("code", filter=Q(is_poor=True, linked=False)),
}


def village_figures(scope: Scope, period=None) -> dict:
    return _villages(scope).aggregate(**VILLAGE_COUNTS)


def village_rows(scope: Scope, period, digits: int) -> dict:
    _region_only(scope)
    rows = (
        _villages(scope)
        .annotate(child=Substr("code", 1, digits))
        .values("child")
        .annotate(**VILLAGE_COUNTS)
        .order_by()
    )
    return {row.pop("child"): row for row in rows}


# --- Cadres and units, by their unit's seat -----------------------------------------------------

CADRE_KEYS = ("cadres", "cadres_paired", "cadres_over", "cadres_under")


def _cadre_row(row: dict) -> dict:
    return {key: row[key] or 0 for key in CADRE_KEYS}  # SUM() over no rows is NULL in SQL


def cadre_figures(scope: Scope, period=None) -> dict:
    return _cadre_row(coverage.cadre_counts(scope)[0])


def cadre_rows(scope: Scope, period, digits: int) -> dict:
    _region_only(scope)
    return {row["child"]: _cadre_row(row) for row in coverage.cadre_counts(scope, digits)}


def _units(scope: Scope):
    any_link = VillageLink.objects.open().filter(unit_id=OuterRef("pk"))
    units = Unit.objects.filter(pk=scope.unit_id) if scope.is_unit else Unit.objects.all()
    if scope.prefix and not scope.is_unit:
        units = units.filter(region__code__startswith=scope.prefix)
    return units.annotate(links=Exists(any_link))


UNIT_COUNTS = {"units": Count("pk"), "units_without_village": Count("pk", filter=Q(links=False))}


def unit_figures(scope: Scope, period=None) -> dict:
    return _units(scope).aggregate(**UNIT_COUNTS)


def unit_rows(scope: Scope, period, digits: int) -> dict:
    _region_only(scope)
    rows = (
        _units(scope).annotate(child=Substr("region_id", 1, digits)).values("child").annotate(**UNIT_COUNTS)
    ).order_by()
    return {row.pop("child"): row for row in rows}


# --- Cadres helping here, wherever their unit sits ----------------------------------------------


def _helping_pairings(scope: Scope):
    pairings = Pairing.objects.open()
    if scope.is_unit:
        return pairings.filter(household__in=Household.objects.in_scope(scope))
    return pairings.filter(household__village__code__startswith=scope.prefix) if scope.prefix else pairings


# A county, city or the province is a set of whole counties: the cadres helping there are read
# from the tallies instead of every open pairing joined to its household (issue 18). A county's
# from its cadres' load rows (CadreLoad, one per cadre and household county, an index by county);
# a city's or the province's, which would count most of those rows DISTINCT, from the counts of
# cadres per standing (StandingCount, pairing/standings.py), whose household counties are listed.
COUNTY_DIGITS = 6


def _helping_tallies(scope: Scope):
    loads = CadreLoad.objects.filter(households__gt=0)
    return loads.filter(county=county_code(scope.prefix))


def cadres_helping(scope: Scope, period=None) -> int:
    if not scope.is_unit and len(scope.prefix) < COUNTY_DIGITS:
        return sum(row["cadres"] for row in coverage.helping_counts(scope.prefix))
    if not scope.is_unit and len(scope.prefix) == COUNTY_DIGITS:
        return _helping_tallies(scope).values("cadre_id").distinct().count()
    return _helping_pairings(scope).values("cadre_id").distinct().count()


def cadres_helping_rows(scope: Scope, period, digits: int) -> dict:
    _region_only(scope)
    if digits <= COUNTY_DIGITS:
        return {row["child"]: row["cadres"] for row in coverage.helping_counts(scope.prefix, digits)}
    rows = (
        _helping_pairings(scope)
        .annotate(child=Substr("household__village_id", 1, digits))
        .values("child")
        .annotate(cadres=Count("cadre_id", distinct=True))
        .order_by()
    )
    return {row["child"]: row["cadres"] for row in rows}


# --- Each cadre's own helping (per cadre: Indicator.by_cadre) -------------------------------------


def responsible_on_last_day(cadres, period):
    """The responsible pairings of `cadres` (ids or a subquery of ids) in force on the period's last
    day: the households each cadre answers for in that period's figures."""
    last_day = period.end - datetime.timedelta(days=1)
    return Pairing.objects.on(last_day).responsible().filter(cadre_id__in=cadres)


def cadre_households(cadres, period) -> dict:
    rows = responsible_on_last_day(cadres, period).values("cadre_id").annotate(n=Count("pk")).order_by()
    return {row["cadre_id"]: {"cadre_households_responsible": row["n"]} for row in rows}


def _poor(key, name, definition, **options):
    return Indicator(key, name, definition, batch=poor_figures, batch_rows=poor_rows, **options)


def _village(key, name, definition):
    return Indicator(key, name, definition, batch=village_figures, batch_rows=village_rows, unit=_("个"))


def _cadre(key, name, definition):
    return Indicator(key, name, definition, batch=cadre_figures, batch_rows=cadre_rows, unit=_("人"))


def _unit(key, name, definition):
    return Indicator(key, name, definition, batch=unit_figures, batch_rows=unit_rows, unit=_("个"))


INDICATORS = (
    _poor("paired", _("已落实帮扶责任人的贫困户"), _("在册贫困户中现有帮扶责任人的户数。"), unit=_("户")),
    _poor("unpaired", _("未落实帮扶责任人的贫困户"), _("在册贫困户中没有帮扶责任人的户数。"), unit=_("户")),
    _poor(
        "coverage_rate",
        _("帮扶责任人落实率"),
        _("已落实帮扶责任人的贫困户占在册贫困户的百分比，取整；没有在册贫困户时为“—”。"),
        additive=False,
        unit="%",
    ),
    _village("poor_villages_with_unit", _("有联系单位的贫困村"), _("现有单位联系的建档立卡贫困村。")),
    _village("poor_villages_without_unit", _("无联系单位的贫困村"), _("没有任何单位联系的建档立卡贫困村。")),
    _cadre(
        "cadres",
        _("单位驻地在此的在岗干部"),
        _(
            "所在单位驻地在本区划的在岗干部；不含按所在县联户规则不安排联户的人员类别"
            "（如教师、医务人员、企业职工），已有联系户的照计。单位联系人为本单位的干部。"
        ),
    ),
    _cadre("cadres_paired", _("已联户的干部"), _("单位驻地在此的在岗干部中现有联系户（含帮扶户）的人数。")),
    _cadre(
        "cadres_over",
        _("超过联户上限的干部"),
        _(
            "单位驻地在此的在岗干部中，联系户或帮扶户数超过其联系户所在县（无联系户的按单位所在县）上限的人数。"
        ),
    ),
    _cadre(
        "cadres_under",
        _("低于帮扶下限的干部"),
        _("单位驻地在此的在岗干部中，帮扶贫困户数少于下限的人数（提示，不是违规）。"),
    ),
    Indicator(
        "cadres_helping",
        _("在此帮扶的干部"),
        _(
            "在本区划有联系户的干部，不论单位在哪里；一人在几处帮扶各计一次，合计不重复，故各行之和可大于合计。"
        ),
        count=cadres_helping,
        rows=cadres_helping_rows,
        additive=False,
        unit=_("人"),
    ),
    Indicator(
        "cadre_households_responsible",
        _("帮扶户"),
        _("干部在期末（或今天）作为帮扶责任人的贫困户数。"),
        by_cadre=cadre_households,
        unit=_("户"),
    ),
    _unit("units", _("单位"), _("驻地在本区划的单位（省直、市直、县直、乡镇单位计入其驻地）。")),
    _unit("units_without_village", _("未联系村的单位"), _("驻地在本区划、现未联系任何村的单位。")),
)


def register_all() -> None:
    register(*INDICATORS)
