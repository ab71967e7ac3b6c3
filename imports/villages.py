"""Villages are named, not coded: 县/乡/村 names resolved against the region tree.

Both the official name (XX村民委员会) and the short one (XX村) are accepted; an
unknown or ambiguous name is an error naming it with the closest villages, and a
village outside the importing user's scope is refused like an unknown one.
"""

import difflib

from django.db.models import Q
from django.utils.translation import gettext as _

from households.models import Region

from .common import Collector


def short_names(name: str) -> list[str]:
    names = [name]
    for official, short in (
        ("村民委员会", "村"),
        ("居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("村委会", "村"),
    ):
        if name.endswith(official):
            names.append(name[: -len(official)] + short)
    return names


def _suggest(name, candidates):
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.4)
    return _("，是否是：%(names)s？") % {"names": "、".join(close)} if close else ""


class VillageResolver:
    """(县, 乡, 村) names → village codes within one user's scope.

    Each county's townships and villages are loaded once, the first time a row names it, so
    a file can be resolved in parts (the early writer resolves each block as it comes) at the
    cost of resolving it whole."""

    def __init__(self, user):
        self.user = user
        self.counties = None  # name → [Region], every county
        self.loaded = set()  # county codes whose tree is loaded
        self.townships = {}  # county code → {name: [Region]}
        self.villages = {}  # township code (9 digits) → {name: [Region]}
        self.visible = set()  # village codes within the user's scope
        self.outcomes = {}  # location → village code, or (column, value, message)

    def resolve(self, rows: list, errors: Collector):
        """Set village_id on every row (anything with sheet, row, location and village_id);
        a location that does not resolve is one error, on its first row."""
        by_location: dict[tuple, list] = {}
        for hh in rows:
            if all(hh.location):
                by_location.setdefault(hh.location, []).append(hh)
        self._load({location[0] for location in by_location if location not in self.outcomes})
        for location, rows_here in by_location.items():
            outcome = self.outcomes.get(location)
            if outcome is None:
                outcome = self.outcomes[location] = self._resolve(*location)
            if isinstance(outcome, tuple):
                column, value, message = outcome
                if len(rows_here) > 1:
                    message += _("（共 %(n)d 户）") % {"n": len(rows_here)}
                errors.add(rows_here[0].sheet, rows_here[0].row, column, value, message)
                continue
            for hh in rows_here:
                hh.village_id = outcome

    def _load(self, county_names):
        if not county_names:
            return
        if self.counties is None:
            self.counties = {}
            for region in Region.objects.filter(level=Region.Level.COUNTY).only("code", "name"):
                for name in short_names(region.name):
                    self.counties.setdefault(name, []).append(region)
        codes = {r.code[:6] for name in county_names for r in self.counties.get(name, [])} - self.loaded
        if not codes:
            return
        self.loaded |= codes
        below = Q()
        for code in codes:
            below |= Q(code__startswith=code)
        new_villages = []
        regions = Region.objects.filter(below, level__in=[Region.Level.TOWNSHIP, Region.Level.VILLAGE])
        for region in regions.only("code", "name", "level"):
            if region.level == Region.Level.TOWNSHIP:
                target = self.townships.setdefault(region.code[:6], {})
            else:
                target = self.villages.setdefault(region.code[:9], {})
                new_villages.append(region.code)
            for name in short_names(region.name):
                target.setdefault(name, []).append(region)
        if new_villages:
            self.visible.update(
                Region.objects.visible_to(self.user)
                .filter(code__in=new_villages)
                .values_list("code", flat=True)
            )

    def _resolve(self, county, township, village):
        found = self.counties.get(county, [])
        if len(found) != 1:
            return (
                "county",
                county,
                (
                    (_("找不到县“%(name)s”") if not found else _("县名“%(name)s”不唯一")) % {"name": county}
                    + _suggest(county, self.counties)
                ),
            )
        county_code = found[0].code[:6]
        found = self.townships.get(county_code, {}).get(township, [])
        if len(found) != 1:
            return (
                "township",
                township,
                (
                    _("%(county)s没有乡(镇)“%(name)s”") % {"county": county, "name": township}
                    + _suggest(township, self.townships.get(county_code, {}))
                ),
            )
        town_code = found[0].code[:9]
        found = self.villages.get(town_code, {}).get(village, [])
        if len(found) > 1:
            return (
                "village",
                village,
                (
                    _("%(town)s有多个村叫“%(name)s”：%(codes)s，请写全称")
                    % {
                        "town": township,
                        "name": village,
                        "codes": "、".join(f"{r.name}（{r.code}）" for r in found),
                    }
                ),
            )
        if not found:
            return (
                "village",
                village,
                (
                    _("%(county)s%(town)s没有村“%(name)s”")
                    % {"county": county, "town": township, "name": village}
                    + _suggest(village, self.villages.get(town_code, {}))
                ),
            )
        if found[0].code not in self.visible:
            return (
                "village",
                village,
                (_("%(town)s%(name)s不在您的管辖范围内，不能导入") % {"town": township, "name": village}),
            )
        return found[0].code


def resolve_villages(rows: list, user, errors: Collector):
    """Set village_id on every row from its (县, 乡, 村) names, within the user's scope."""
    VillageResolver(user).resolve(rows, errors)
