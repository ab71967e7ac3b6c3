"""visible_to(user) on every located model, for every role."""

import pytest

from households.models import Household, Member, Region
from pairing.models import Cadre, Pairing, Unit, VillageLink


def names(queryset, attr):
    return sorted(getattr(obj, attr) for obj in queryset)


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("admin", ["妥有福", "王建国", "赵德胜"]),
        ("province", ["妥有福", "王建国", "赵德胜"]),
        ("city_a", ["王建国", "赵德胜"]),
        ("county_a", ["王建国", "赵德胜"]),
        ("town_a", ["王建国"]),
        ("town_b", ["妥有福"]),
        ("unit_a", ["王建国"]),
        ("unit_b", ["妥有福"]),
    ],
)
def test_households_visible_by_role(world, username, expected):
    user = getattr(world.users, username)
    assert names(Household.objects.visible_to(user), "head_name") == expected


def test_unit_liaison_sees_households_paired_with_its_cadres_outside_linked_villages(world):
    from tests import factories as f

    f.pairing(world.cadre_a, world.household_a2)
    assert names(Household.objects.visible_to(world.users.unit_a), "head_name") == ["王建国", "赵德胜"]


def test_members_follow_their_household(world):
    visible = Member.objects.visible_to(world.users.town_b)
    assert {m.household_id for m in visible} == {world.household_b.pk}
    assert visible.count() == 2


def test_cadres_units_links_and_pairings_by_role(world):
    town_a = world.users.town_a
    assert names(Cadre.objects.visible_to(town_a), "name") == ["李文华"]
    assert names(Unit.objects.visible_to(town_a), "name") == ["通渭县农业农村局"]
    assert [link.village_id for link in VillageLink.objects.visible_to(town_a)] == [world.village_a.code]
    assert [p.household_id for p in Pairing.objects.visible_to(town_a)] == [world.household_a.pk]
    unit_b = world.users.unit_b
    assert names(Cadre.objects.visible_to(unit_b), "name") == ["马志刚"]
    assert names(Unit.objects.visible_to(unit_b), "name") == ["东乡县财政局"]


def test_cadre_of_another_county_unit_is_visible_where_it_helps(world):
    from tests import factories as f

    f.pairing(world.cadre_b, world.household_a2, role=Pairing.Role.CONTACT)
    assert "马志刚" in names(Cadre.objects.visible_to(world.users.county_a), "name")
    assert "马志刚" not in names(Cadre.objects.visible_to(world.users.town_a), "name")


def test_regions_by_role(world):
    assert set(Region.objects.visible_to(world.users.town_a).values_list("code", flat=True)) == {
        world.town_a.code,
        world.village_a.code,
    }
    assert list(Region.objects.visible_to(world.users.unit_a).values_list("code", flat=True)) == [
        world.village_a.code
    ]
    assert Region.objects.visible_to(world.users.province).count() == Region.objects.count()


def test_user_without_role_sees_nothing(world):
    from tests import factories as f

    nobody = f.user("nobody")
    assert not Household.objects.visible_to(nobody).exists()
    assert not Cadre.objects.visible_to(nobody).exists()
    assert not Region.objects.visible_to(nobody).exists()
