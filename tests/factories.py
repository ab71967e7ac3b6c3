"""Test data built in code: small factory functions with sensible defaults."""

import datetime
import itertools

from accounts.models import User
from households.choices import Category, Relation
from households.models import Household, Member, Region
from pairing import standings as pairing_standings
from pairing import tallies as pairing_tallies
from pairing.models import Cadre, Pairing, Unit, VillageLink
from shuanglian.access import LEVEL_DIGITS
from shuanglian.lib import idcard

_sequence = itertools.count(1)
START = datetime.date(2024, 3, 1)


def region(code: str, name: str, level: str) -> Region:
    """A region and, if missing, its ancestors (named after their codes)."""
    digits = LEVEL_DIGITS[level]
    parent = None
    levels = list(LEVEL_DIGITS)
    if level != "province":
        parent_level = levels[levels.index(level) - 1]
        parent_code = code[: LEVEL_DIGITS[parent_level]].ljust(12, "0")
        parent = Region.objects.filter(code=parent_code).first() or region(
            parent_code, f"区划{parent_code[: LEVEL_DIGITS[parent_level]]}", parent_level
        )
    obj, _ = Region.objects.update_or_create(
        code=code[:digits].ljust(12, "0"), defaults={"name": name, "level": level, "parent": parent}
    )
    return obj


def resident_id(
    area: str = "621121", born: datetime.date = datetime.date(1975, 5, 4), male: bool = True
) -> str:
    number = next(_sequence)
    sequence = (number * 2 + (1 if male else 0)) % 1000
    return idcard.make(area, born + datetime.timedelta(days=number // 500), sequence)


def household(village: Region, head_name: str = "王建国", *, members: int = 2, **fields) -> Household:
    head_id = resident_id(village.code[:6])
    hh = Household.objects.create(
        village=village,
        head_name=head_name,
        head_id_number=head_id,
        category=fields.pop("category", Category.GENERAL_POOR),
        **fields,
    )
    member(hh, head_name, head_id, Relation.HEAD)
    for index in range(members - 1):
        child_id = resident_id(village.code[:6], datetime.date(2012, 9, 1), male=index % 2 == 0)
        member(
            hh,
            f"{head_name[0]}小{index + 1}",
            child_id,
            Relation.SON if index % 2 == 0 else Relation.DAUGHTER,
        )
    return hh


def member(hh: Household, name: str, id_number: str, relation: str, **fields) -> Member:
    person = Member(household=hh, name=name, relation=relation, **fields)
    person.set_id_number(id_number)
    person.save()
    return person


def unit(seat: Region, name: str = "县农业农村局", **fields) -> Unit:
    return Unit.objects.create(
        region=seat,
        name=name,
        level=fields.pop("level", seat.level if seat.level != "village" else "township"),
        kind=fields.pop("kind", Unit.Kind.PARTY_GOVERNMENT),
        **fields,
    )


def cadre(of_unit: Unit, name: str = "张明", **fields) -> Cadre:
    """A cadre written as the cadre import would: counted in the coverage tallies (pairing/standings.py)."""
    made = Cadre.objects.create(
        unit=of_unit,
        name=name,
        phone=fields.pop("phone", f"1380931{next(_sequence) % 10000:04d}"),
        category=fields.pop("category", Cadre.Category.CIVIL_SERVANT),
        **fields,
    )
    pairing_standings.restate([made.pk])
    return made


def link(of_unit: Unit, village: Region, **fields) -> VillageLink:
    return VillageLink.objects.create(
        unit=of_unit, village=village, started_on=fields.pop("started_on", START), **fields
    )


def pairing(by_cadre: Cadre, hh: Household, **fields) -> Pairing:
    """A pairing written as a system write would: with its cadre's load tally (pairing/tallies.py)."""
    made = Pairing.objects.create(
        cadre=by_cadre, household=hh, started_on=fields.pop("started_on", START), **fields
    )
    if made.ended_on is None:
        pairing_tallies.count_opened([made])
    return made


def user(
    username: str, role: str = "", *, region: Region | None = None, of_unit: Unit | None = None, **fields
) -> User:
    account = User(username=username, role=role, region=region, unit=of_unit, is_staff=True, **fields)
    account.set_password("pw")
    account.save()
    return account
