"""The figures of places and households (shuanglian.indicators): registered when Django starts.

Present-state figures: ``period`` is ignored. Rows group by the leading digits of the village code,
so a county's rows are its townships and they add up to the county's figure.
"""

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.utils.translation import gettext_lazy as _

from shuanglian.indicators import Indicator, Scope, register

from .choices import HouseholdStatus
from .models import POOR_ON_REGISTER, Household, Region


def _no_unit_rows(scope: Scope) -> None:
    if scope.is_unit:
        raise ValueError("a unit's figures have no rows per region")


HOUSEHOLD_FIGURES = {
    "households": Count("pk"),
    "poor": Count("pk", filter=POOR_ON_REGISTER),
    "households_lifted": Count("pk", filter=Q(status=HouseholdStatus.LIFTED)),
}


def household_figures(scope: Scope, period=None) -> dict:
    return Household.objects.in_scope(scope).aggregate(**HOUSEHOLD_FIGURES)


def household_rows(scope: Scope, period, digits: int) -> dict:
    _no_unit_rows(scope)
    rows = (
        Household.objects.in_scope(scope)
        .annotate(child=Substr("village_id", 1, digits))
        .values("child")
        .annotate(**HOUSEHOLD_FIGURES)
        .order_by()
    )
    return {row.pop("child"): row for row in rows}


VILLAGE_FIGURES = {"villages": Count("code"), "poor_villages": Count("code", filter=Q(is_poor=True))}


def village_figures(scope: Scope, period=None) -> dict:
    return Region.objects.in_scope(scope).villages().aggregate(**VILLAGE_FIGURES)


def village_rows(scope: Scope, period, digits: int) -> dict:
    _no_unit_rows(scope)
    rows = (
        Region.objects.in_scope(scope)
        .villages()
        .annotate(child=Substr("code", 1, digits))
        .values("child")
        .annotate(**VILLAGE_FIGURES)
        .order_by()
    )
    return {row.pop("child"): row for row in rows}


def _household(key, name, definition):
    return Indicator(key, name, definition, batch=household_figures, batch_rows=household_rows, unit=_("户"))


def _village(key, name, definition):
    return Indicator(key, name, definition, batch=village_figures, batch_rows=village_rows, unit=_("个"))


INDICATORS = (
    _household(
        "households",
        _("农户"),
        _("辖区内建档的全部农户，不论状态（在册、已脱贫、迁出、销户），与农户名册默认所列相同。"),
    ),
    _household(
        "poor",
        _("在册贫困户"),
        _("户属性为一般贫困户、低保户、五保户或低保贫困户且状态为在册的农户；已脱贫、迁出、销户的不计。"),
    ),
    _household("households_lifted", _("已脱贫户"), _("状态为已脱贫的农户，不计入在册贫困户。")),
    _village("villages", _("村"), _("辖区内的村（社区）；单位联系人为本单位联系的村。")),
    _village("poor_villages", _("贫困村"), _("建档立卡贫困村。")),
)


def register_all() -> None:
    register(*INDICATORS)
