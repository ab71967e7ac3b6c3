"""The indicator catalogue: every page that shows a figure shows the catalogue's value, with its name
and definition; table rows add up to their totals; and the catalogue agrees with a plain count.

The pages: the home page (工作台), the region page (区划) and the coverage page (覆盖情况), for a
township, a county, a city, the province and a unit liaison (the home page alone).
"""

import html

import pytest
from django.urls import reverse

from households.choices import Category, HouseholdStatus
from households.models import Household, Region
from pairing.models import Cadre, CountyRules, Pairing, Unit, VillageLink
from pairing.rules import RuleBooks
from shuanglian import indicators
from shuanglian.indicators import Indicator, Scope
from tests import factories as f

REGION_USERS = ("town_a", "county_a", "city_a", "province")


def _known(key) -> bool:
    return key in {indicator.key for indicator in indicators.catalogue()}


@pytest.fixture
def figures(world):
    """Figures that the pages used to count differently (issue 12): a 已脱贫 household, a moved-out
    one, an unpaired poor household, units and cadres seated at every level (a township's own
    unit, 县直, 市直, 省直), exempt cadres under two counties' rules, and a cadre helping in a
    township where its unit is not seated."""
    lifted = f.household(world.village_a, "脱贫户")
    lifted.status = HouseholdStatus.LIFTED
    lifted.save(update_fields=["status"])
    moved = f.household(world.village_a2, "迁出户")
    moved.status = HouseholdStatus.MOVED_OUT
    moved.save(update_fields=["status"])
    f.household(world.village_a, "一般户", category=Category.ORDINARY)
    unpaired = f.household(world.village_a2, "未配户")

    town_unit = f.unit(world.town_a, "马营镇政府", level="township")
    city_unit = f.unit(world.city_a, "定西市扶贫办", level="city")
    province_unit = f.unit(world.province, "省扶贫办", level="province")
    f.link(province_unit, world.village_a2)
    for index in range(3):
        f.cadre(town_unit, f"镇干部{index}")
    f.cadre(town_unit, "镇教师", category=Cadre.Category.TEACHER)  # exempt by 通渭县's default rules
    f.cadre(city_unit, "市干部")
    f.cadre(city_unit, "市医生", category=Cadre.Category.MEDICAL)  # exempt: a city seat has the defaults
    helper = f.cadre(province_unit, "省干部")
    f.pairing(helper, world.household_a2)  # helps in 鸡川镇; seated at the province
    f.cadre(world.unit_a, "调离者", status=Cadre.Status.TRANSFERRED)
    # 东乡县 pairs its teachers: its teacher counts; 通渭县's does not.
    CountyRules.objects.create(county=world.county_b, exempt_categories=[Cadre.Category.ENTERPRISE])
    f.cadre(world.unit_b, "东乡教师", category=Cadre.Category.TEACHER)
    f.cadre(world.unit_b, "东乡职工", category=Cadre.Category.ENTERPRISE)
    # An exempt category holding a pairing was accepted by the rules somewhere: it counts.
    paired_teacher = f.cadre(world.unit_a, "联户教师", category=Cadre.Category.TEACHER)
    f.pairing(paired_teacher, f.household(world.village_a, "教师联系户"))
    world.unpaired = unpaired
    return world


# --- Plain counts over the records ----------------------------------------------------------------


def _poor_on_register(household):
    return household.category != Category.ORDINARY and household.status == HouseholdStatus.REGISTERED


def _households(scope: Scope) -> list[Household]:
    if scope.is_unit:
        linked = set(
            VillageLink.objects.filter(unit_id=scope.unit_id, ended_on=None).values_list("village_id")
        )
        linked = {code for (code,) in linked}
        paired = set(
            Pairing.objects.filter(cadre__unit_id=scope.unit_id, ended_on=None).values_list(
                "household_id", flat=True
            )
        )
        return [h for h in Household.objects.all() if h.village_id in linked or h.pk in paired]
    return [h for h in Household.objects.all() if h.village_id.startswith(scope.prefix)]


def _cadres(scope: Scope) -> list[Cadre]:
    books = RuleBooks()
    found = []
    for cadre in Cadre.objects.select_related("unit"):
        if scope.is_unit:
            if cadre.unit_id != scope.unit_id:
                continue
        elif not cadre.unit.region_id.startswith(scope.prefix):
            continue
        holds = Pairing.objects.filter(cadre=cadre, ended_on=None).exists()
        exempt = cadre.category in books.for_village(cadre.unit.region_id).exempt
        if cadre.status == Cadre.Status.ACTIVE and (holds or not exempt):
            found.append(cadre)
    return found


def plain_counts(scope: Scope) -> dict:
    households = _households(scope)
    poor = [h for h in households if _poor_on_register(h)]
    responsible = set(
        Pairing.objects.filter(ended_on=None, role=Pairing.Role.RESPONSIBLE).values_list(
            "household_id", flat=True
        )
    )
    if scope.is_unit:
        villages = list(
            Region.objects.filter(village_links__unit_id=scope.unit_id, village_links__ended_on=None)
        )
    else:
        villages = [v for v in Region.objects.filter(level="village") if v.code.startswith(scope.prefix)]
    counts = {
        "households": len(households),
        "poor": len(poor),
        "households_lifted": sum(h.status == HouseholdStatus.LIFTED for h in households),
        "unpaired": sum(h.pk not in responsible for h in poor),
        "paired": sum(h.pk in responsible for h in poor),
        "cadres": len(_cadres(scope)),
        "villages": len(villages),
        "poor_villages": sum(v.is_poor for v in villages),
    }
    if not scope.is_unit:
        helping = {
            p.cadre_id
            for p in Pairing.objects.filter(ended_on=None).select_related("household")
            if p.household.village_id.startswith(scope.prefix)
        }
        counts["cadres_helping"] = len(helping)
        counts["units"] = sum(u.region_id.startswith(scope.prefix) for u in Unit.objects.all())
    return counts


@pytest.mark.parametrize("username", [*REGION_USERS, "unit_a"])
def test_the_catalogue_agrees_with_a_plain_count_over_the_records(figures, username):
    scope = Scope.for_user(getattr(figures.users, username))
    expected = plain_counts(scope)
    assert indicators.values(expected, scope) == expected


def test_each_countys_own_exemptions_decide_who_is_counted(figures):
    names = {c.name for c in _cadres(Scope(prefix=figures.county_b.prefix))}
    assert "东乡教师" in names and "东乡职工" not in names
    county_a = {c.name for c in _cadres(Scope(prefix=figures.county_a.prefix))}
    assert "镇教师" not in county_a and "联户教师" in county_a and "调离者" not in county_a
    assert indicators.value("cadres", Scope(prefix=figures.county_b.prefix)) == len(names) == 2
    assert indicators.value("cadres", Scope(prefix=figures.county_a.prefix)) == len(county_a) == 5


# --- Every page shows the catalogue's figure ------------------------------------------------------


def _shown(response, keys):
    """The page names each figure it shows and gives its definition, from the catalogue."""
    page = html.unescape(response.content.decode())
    for key in keys:
        indicator = indicators.get(key)
        assert str(indicator.name) in page, key
        assert str(indicator.definition) in page, key


def _scope_region(user) -> Region:
    return user.region if not user.is_superuser else Region.objects.get(code="620000000000")


@pytest.mark.parametrize("username", REGION_USERS)
def test_every_page_shows_the_catalogues_figure_for_the_users_region(client, figures, username):
    user = getattr(figures.users, username)
    region = _scope_region(user)
    scope = Scope(prefix=region.prefix)
    client.force_login(user)

    home = client.get(reverse("home"))
    regions = client.get(reverse("households:region", args=[region.code]))
    coverage = client.get(reverse("pairing:coverage_region", args=[region.code]))
    shown = {
        "home": home.context["figures"],
        "region": regions.context["totals"],
        "coverage": coverage.context["totals"],
    }
    keys = {page: [key for key in figures_ if key != "region"] for page, figures_ in shown.items()}
    catalogue = indicators.values(set().union(*keys.values()), scope)
    for page, page_keys in keys.items():
        for key in page_keys:
            assert shown[page][key] == catalogue[key], (page, key)
    # The figures that used to disagree, side by side.
    assert shown["home"]["poor"] == shown["region"]["poor"] == shown["coverage"]["poor"]
    assert shown["home"]["cadres"] == shown["coverage"]["cadres"]
    assert shown["home"]["cadres_helping"] == shown["coverage"]["cadres_helping"]
    for response, page in ((home, "home"), (regions, "region"), (coverage, "coverage")):
        _shown(response, [key for key in keys[page] if _known(key)])


def test_a_unit_liaisons_home_shows_the_catalogues_figures_for_its_unit(client, figures):
    user = figures.users.unit_a
    client.force_login(user)
    home = client.get(reverse("home"))
    scope = Scope(unit_id=user.unit_id)
    assert home.context["figures"] == indicators.values(home.context["figures"], scope)
    assert home.context["figures"]["cadres"] == len(_cadres(scope))
    _shown(home, home.context["figures"])


@pytest.mark.parametrize("username", REGION_USERS)
def test_a_childs_row_is_the_childs_own_figure(client, figures, username):
    """The row of 马营镇 on 通渭县's page is 马营镇's own page's total, on both tables."""
    user = getattr(figures.users, username)
    region = _scope_region(user)
    client.force_login(user)
    for url_name in ("households:region", "pairing:coverage_region"):
        rows = client.get(reverse(url_name, args=[region.code])).context["rows"]
        for row in rows:
            child = client.get(reverse(url_name, args=[row["region"].code])).context["totals"]
            for key, figure in row.items():
                if key != "region":
                    assert figure == child[key], (url_name, row["region"].name, key)


# --- Rows add up ----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", REGION_USERS)
def test_rows_and_the_own_level_row_add_up_to_the_totals(client, figures, username):
    user = getattr(figures.users, username)
    region = _scope_region(user)
    client.force_login(user)
    coverage = client.get(reverse("pairing:coverage_region", args=[region.code])).context
    regions = client.get(reverse("households:region", args=[region.code])).context
    for context in (coverage, regions):
        own = context.get("own") or {}
        for key, total in context["totals"].items():
            if key == "region" or not _known(key) or not indicators.get(key).additive:
                continue
            assert sum(row[key] for row in context["rows"]) + own.get(key, 0) == total, key


def test_the_county_table_has_a_row_for_its_county_level_units(client, figures):
    client.force_login(figures.users.city_a)
    city = client.get(reverse("pairing:coverage_region", args=[figures.city_a.code])).context
    county_row = next(row for row in city["rows"] if row["region"] == figures.county_a)
    client.force_login(figures.users.county_a)
    response = client.get(reverse("pairing:coverage_region", args=[figures.county_a.code]))
    county = response.context
    assert county["own"]["cadres"] == 2  # 李文华 and 联户教师 of the 县直 unit; 调离者 left
    assert county["own"]["units"] == 1
    assert sum(row["cadres"] for row in county["rows"]) + county["own"]["cadres"] == county_row["cadres"]
    assert "本级：县直单位" in response.content.decode()


def test_a_township_with_only_its_own_units_shows_them_on_its_own_level(client, figures):
    client.force_login(figures.users.town_a)
    context = client.get(reverse("pairing:coverage_region", args=[figures.town_a.code])).context
    assert all(row["cadres"] == 0 for row in context["rows"])  # units sit at the township, not in villages
    assert context["own"]["cadres"] == context["totals"]["cadres"] == 3


def test_the_region_page_counts_poor_households_on_the_register_and_lifted_ones_apart(client, figures):
    client.force_login(figures.users.county_a)
    context = client.get(reverse("households:region", args=[figures.county_a.code])).context
    town = next(row for row in context["rows"] if row["region"] == figures.town_a)
    assert (town["poor"], town["households_lifted"]) == (2, 1)  # 王建国 and 教师联系户; 脱贫户 apart


# --- The registry ---------------------------------------------------------------------------------


def test_a_batch_runs_once_for_all_the_figures_it_holds(figures, django_assert_num_queries):
    with django_assert_num_queries(1):
        indicators.values(["households", "poor", "households_lifted"], Scope(prefix="6211"))
    with django_assert_num_queries(2):
        table = indicators.table(["households", "poor", "villages"], Scope(prefix="6211"), None, 6)
    assert table[figures.county_a.prefix]["households"] == 7  # every status, 迁出 too


def test_a_key_is_defined_once():
    known = indicators.get("poor")
    with pytest.raises(ValueError):
        indicators.register(Indicator("poor", "贫困户", "另一种算法", count=lambda scope, period: 0))
    indicators.register(known)  # the same definition again (a second AppConfig.ready) is harmless
    with pytest.raises(ValueError):
        Indicator("nothing", "无", "既无 count 也无 batch")
