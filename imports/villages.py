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
    for official, short in (("村民委员会", "村"), ("居民委员会", "社区"), ("社区居委会", "社区"), ("村委会", "村")):
        if name.endswith(official):
            names.append(name[: -len(official)] + short)
    return names


def resolve_villages(rows: list, user, errors: Collector):
    """Set village_id on every row (anything with sheet, row, location and village_id)
    from its (县, 乡, 村) names, within the user's scope."""
    by_location: dict[tuple, list] = {}
    for hh in rows:
        if all(hh.location):
            by_location.setdefault(hh.location, []).append(hh)
    if not by_location:
        return
    counties = {}
    for region in Region.objects.filter(level=Region.Level.COUNTY).only("code", "name"):
        for name in short_names(region.name):
            counties.setdefault(name, []).append(region)
    county_names = {loc[0] for loc in by_location}
    county_codes = {r.code[:6] for name in county_names for r in counties.get(name, [])}
    townships, villages = {}, {}
    if county_codes:
        below = Region.objects.filter(level__in=[Region.Level.TOWNSHIP, Region.Level.VILLAGE])
        prefix_q = None
        for code in county_codes:
            q = Q(code__startswith=code)
            prefix_q = q if prefix_q is None else prefix_q | q
        for region in below.filter(prefix_q).only("code", "name", "level"):
            if region.level == Region.Level.TOWNSHIP:
                target = townships.setdefault(region.code[:6], {})
            else:
                target = villages.setdefault(region.code[:9], {})
            for name in short_names(region.name):
                target.setdefault(name, []).append(region)
    visible = set(
        Region.objects.visible_to(user).filter(
            code__in=[r.code for names in villages.values() for regions in names.values() for r in regions]
        ).values_list("code", flat=True)
    ) if villages else set()

    def fail(rows_here, key, value, message):
        first = rows_here[0]
        more = len(rows_here) - 1
        if more:
            message += _("（共 %(n)d 户）") % {"n": len(rows_here)}
        errors.add(first.sheet, first.row, key, value, message)

    def suggest(name, candidates):
        close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.4)
        return _("，是否是：%(names)s？") % {"names": "、".join(close)} if close else ""

    for (county, township, village), rows_here in by_location.items():
        found = counties.get(county, [])
        if len(found) != 1:
            fail(rows_here, "county", county, (_("找不到县“%(name)s”") if not found else _("县名“%(name)s”不唯一"))
                 % {"name": county} + suggest(county, counties))
            continue
        county_code = found[0].code[:6]
        found = townships.get(county_code, {}).get(township, [])
        if len(found) != 1:
            fail(rows_here, "township", township, _("%(county)s没有乡(镇)“%(name)s”") % {"county": county, "name": township}
                 + suggest(township, townships.get(county_code, {})))
            continue
        town_code = found[0].code[:9]
        found = villages.get(town_code, {}).get(village, [])
        if len(found) > 1:
            fail(rows_here, "village", village, _("%(town)s有多个村叫“%(name)s”：%(codes)s，请写全称")
                 % {"town": township, "name": village, "codes": "、".join(f"{r.name}（{r.code}）" for r in found)})
            continue
        if not found:
            fail(rows_here, "village", village, _("%(county)s%(town)s没有村“%(name)s”") % {
                "county": county, "town": township, "name": village} + suggest(village, villages.get(town_code, {})))
            continue
        if found[0].code not in visible:
            fail(rows_here, "village", village, _("%(town)s%(name)s不在您的管辖范围内，不能导入")
                 % {"town": township, "name": village})
            continue
        for hh in rows_here:
            hh.village_id = found[0].code


# ---------------------------------------------------------------- comparing and writing
