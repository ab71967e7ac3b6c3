"""The demo plan and the database: is it there already, would it clash, write it, the logins."""

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q

from accounts.models import User
from households.models import Household, Member, Region
from pairing import tallies as pairing_tallies
from pairing.models import Cadre, Pairing, RankLimit, Unit, VillageLink

from .build import COUNTIES, PASSWORD, Login, Plan
from .units import MARKER, UNITS

BATCH = 2000


def villages() -> list[Region]:
    """The villages and communities of the two demo counties, in code order."""
    in_counties = Q()
    for county in COUNTIES:
        in_counties |= Q(code__startswith=county)
    return list(Region.objects.villages().filter(in_counties).order_by("code"))


def regions_loaded() -> bool:
    return Region.objects.filter(code__in=[county + "000000" for county in COUNTIES]).count() == len(COUNTIES)


def _in_counties(field: str) -> Q:
    q = Q()
    for county in COUNTIES:
        q |= Q(**{f"{field}__startswith": county})
    return q


def _demo_unit_ids() -> list[int]:
    wanted = {(spec.seat, spec.name) for spec in UNITS}
    rows = Unit.objects.filter(name__in=[spec.name for spec in UNITS]).values_list("pk", "region_id", "name")
    return sorted(pk for pk, region, name in rows if (region, name) in wanted)


def compare(plan: Plan) -> list[str] | None:
    """None when the demo has not been loaded; otherwise how the database differs from the plan
    (an empty list when it holds exactly the planned rows)."""
    if not Unit.objects.filter(region_id=MARKER.seat, name=MARKER.name).exists():
        return None
    unit_ids = _demo_unit_ids()
    heads = set(
        Household.objects.filter(_in_counties("village__code")).values_list("head_id_number", flat=True)
    )
    people = set(
        Member.objects.filter(_in_counties("household__village__code")).values_list("id_number", flat=True)
    )
    found = {
        "单位": (len(unit_ids), len(plan.units)),
        "干部": (Cadre.objects.filter(unit_id__in=unit_ids).count(), len(plan.cadres)),
        "联村关系": (VillageLink.objects.filter(unit_id__in=unit_ids).count(), len(plan.links)),
        "农户": (len(heads), len(plan.households)),
        "家庭成员": (len(people), len(plan.members)),
        "联户关系": (Pairing.objects.filter(cadre__unit_id__in=unit_ids).count(), len(plan.pairings)),
        "贫困县、贫困村": (
            Region.objects.filter(code__in=plan.poor_regions, is_poor=True).count(),
            len(plan.poor_regions),
        ),
    }
    differences = [
        f"{label}现有 {have}，演示应为 {want}" for label, (have, want) in found.items() if have != want
    ]
    if not differences:
        if heads != {h.head_id_number for h in plan.households}:
            differences.append("农户的户主身份证号与演示不同")
        if people != {m.id_number for m in plan.members}:
            differences.append("家庭成员的身份证号与演示不同")
    return differences


def clashes(plan: Plan) -> list[str]:
    """Rows not written by the demo that the demo would collide with (before a first load)."""
    problems = []
    units = _demo_unit_ids()
    if units:
        names = Unit.objects.filter(pk__in=units).values_list("name", flat=True)
        problems.append("已有同名单位：" + "、".join(sorted(names)))
    planned = {m.id_number for m in plan.members}
    taken = planned & set(
        Member.objects.filter(_in_counties("id_number")).values_list("id_number", flat=True)
    )
    taken |= planned & set(
        Household.objects.filter(_in_counties("head_id_number")).values_list("head_id_number", flat=True)
    )
    if taken:
        problems.append(f"已有 {len(taken)} 个相同的身份证号，如 {min(taken)}")
    return problems


@transaction.atomic
def write(plan: Plan) -> list["Account"]:
    """Write the whole plan and the logins in one transaction."""
    Region.objects.filter(code__in=plan.poor_regions).update(is_poor=True)
    Unit.objects.bulk_create(plan.units, batch_size=BATCH)
    Cadre.objects.bulk_create(plan.cadres, batch_size=BATCH)
    VillageLink.objects.bulk_create(plan.links, batch_size=BATCH)
    Household.objects.bulk_create(plan.households, batch_size=BATCH)
    Member.objects.bulk_create(plan.members, batch_size=BATCH)
    Pairing.objects.bulk_create(plan.pairings, batch_size=BATCH)
    pairing_tallies.rebuild()  # bulk_create bypassed the services: the cadres' loads, counted in one pass
    # The demo counties' own limits; a county office may edit them later.
    RankLimit.objects.bulk_create(
        plan.rank_limits,
        update_conflicts=True,
        unique_fields=["county", "rank"],
        update_fields=["max_households", "max_poor", "min_poor"],
    )
    return ensure_logins(plan.logins)


@dataclass(frozen=True)
class Account:
    login: Login
    user: User
    created: bool

    @property
    def as_planned(self) -> bool:
        user, login = self.user, self.login
        unit = user.unit.name if user.unit_id else None
        return (user.role, user.region_id, unit, user.is_superuser) == (
            login.role,
            login.region,
            login.unit,
            login.superuser,
        )


@transaction.atomic
def ensure_logins(logins: list[Login]) -> list[Account]:
    """Create the demo logins that do not exist. Existing accounts are left as they are, except that
    one with no name at all is given the demo person's (a demo loaded before logins had names)."""
    seats = {spec.name: spec.seat for spec in UNITS}
    existing = {
        u.username: u
        for u in User.objects.filter(username__in=[login.username for login in logins]).select_related(
            "region", "unit"
        )
    }
    accounts = []
    hashed = None  # hashed once: some fifty clerks share the demo password, and each hash takes a while
    for login in logins:
        user = existing.get(login.username)
        if user is not None:
            if login.name and not (user.first_name or user.last_name):
                user.first_name = login.name
                user.save(update_fields=["first_name"])
            accounts.append(Account(login, user, created=False))
            continue
        user = User(
            username=login.username,
            # Chinese names are written whole, surname first; get_full_name() then reads 常晓燕.
            first_name=login.name,
            role=login.role,
            region_id=login.region,
            unit=Unit.objects.get(region_id=seats[login.unit], name=login.unit) if login.unit else None,
            is_staff=True,
            is_superuser=login.superuser,
        )
        hashed = hashed or make_password(PASSWORD)
        user.password = hashed
        user.save()
        accounts.append(Account(login, user, created=True))
    return accounts


def scope_name(user: User) -> str:
    """The scope as a person reads it: 通渭县马营镇, a unit's name, or the whole province."""
    if user.is_superuser:
        return "全省（系统管理员）"
    if user.unit_id:
        return user.unit.name
    if not user.region_id:
        return "未分配"
    region = user.region
    if region.level in (Region.Level.TOWNSHIP, Region.Level.VILLAGE):
        county = Region.objects.filter(code=region.code[:6] + "000000").first()
        return (county.name if county else "") + region.name
    return region.name
