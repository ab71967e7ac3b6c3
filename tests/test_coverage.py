"""Coverage counts against an independent count, the lists behind them, and exports."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from households.models import Household, Region
from pairing import coverage, selectors
from pairing.models import Cadre, Pairing, RankLimit, Unit, VillageLink
from pairing.rules import RuleBooks
from shuanglian import indicators
from shuanglian.indicators import Scope
from tests import factories as f
from tests.queries import count_queries


@pytest.fixture
def gaps(world):
    """Township A gets two unpaired poor households, a poor village with no unit, an idle unit,
    a cadre over a lowered limit and an idle cadre under the minimum."""
    orphan_village = f.region("621121101209", "孤村", "village")
    orphan_village.is_poor = True
    orphan_village.save(update_fields=["is_poor"])
    f.household(world.village_a, "未配甲", members=1)
    f.household(orphan_village, "未配乙", members=1)
    f.unit(world.town_a, "马营镇卫生院", level="township")
    busy = f.cadre(world.unit_a, "忙碌者")
    for index in range(2):
        f.pairing(busy, f.household(world.village_a, f"忙{index}", members=1))
    RankLimit.objects.create(
        county=world.county_a, rank=Cadre.Rank.STAFF, max_households=5, max_poor=1, min_poor=1
    )
    f.cadre(world.unit_a, "空闲者")
    return world


def per_child(region, children):
    """The coverage rows and totals (the 本级 row is the difference, tested on its own)."""
    rows, _own, totals = selectors.coverage_rows(region, children)
    return rows, totals


def applied_counties(cadre):
    """The counties whose rules accepted the cadre's open pairings, else the unit's seat county."""
    held = {p.household.village_id[:6] + "000000" for p in Pairing.objects.filter(cadre=cadre, ended_on=None)}
    return held or {cadre.unit.region_id[:6] + "000000"}


def independent_counts(prefix):
    households = [h for h in Household.objects.all() if h.village_id.startswith(prefix)]
    poor = [h for h in households if h.is_poor and h.status == "在册"]
    unpaired = [
        h for h in poor if not Pairing.objects.filter(household=h, ended_on=None, role="帮扶责任人").exists()
    ]
    villages = [v for v in Region.objects.filter(level="village") if v.code.startswith(prefix) and v.is_poor]
    unlinked = [v for v in villages if not VillageLink.objects.filter(village=v, ended_on=None).exists()]
    units = [u for u in Unit.objects.all() if u.region_id.startswith(prefix)]
    idle_units = [u for u in units if not VillageLink.objects.filter(unit=u, ended_on=None).exists()]
    books = RuleBooks()
    cadres = [
        c
        for c in Cadre.objects.filter(status="在岗")
        if c.unit.region_id.startswith(prefix)
        # Exempt by the rules of the seat's county, unless the rules somewhere accepted a pairing.
        and (
            c.category not in books.for_village(c.unit.region_id).exempt
            or Pairing.objects.filter(cadre=c, ended_on=None).exists()
        )
    ]
    over, under = 0, 0
    for cadre in cadres:
        limits = [books.for_village(county).limit(cadre) for county in applied_counties(cadre)]
        open_pairings = Pairing.objects.filter(cadre=cadre, ended_on=None)
        load, poor_load = open_pairings.count(), open_pairings.filter(role="帮扶责任人").count()
        over += poor_load > max(x.max_poor for x in limits) or load > max(x.max_households for x in limits)
        under += poor_load < min(x.min_poor for x in limits)
    return {
        "poor": len(poor),
        "unpaired": len(unpaired),
        "poor_villages_without_unit": len(unlinked),
        "units_without_village": len(idle_units),
        "cadres": len(cadres),
        "cadres_over": over,
        "cadres_under": under,
    }


def test_county_rows_match_an_independent_count(gaps):
    rows = {row["region"].code: row for row in per_child(gaps.county_a, [gaps.town_a, gaps.town_a2])[0]}
    # Units and cadres seated at the county are located at the county, not in a township.
    town = rows[gaps.town_a.code]
    expected = independent_counts(gaps.town_a.prefix)
    for key in ("poor", "unpaired", "poor_villages_without_unit", "units_without_village"):
        assert town[key] == expected[key], key
    assert (town["unpaired"], town["poor_villages_without_unit"], town["units_without_village"]) == (2, 1, 1)
    province_rows, _totals = per_child(gaps.province, [gaps.city_a, gaps.city_b])
    city = next(row for row in province_rows if row["region"] == gaps.city_a)
    expected = independent_counts(gaps.city_a.prefix)
    for key, value in expected.items():
        assert city[key] == value, key
    assert (city["cadres_over"], city["cadres_under"]) == (1, 1)


def test_totals_include_what_is_seated_at_the_regions_own_level(client, gaps):
    client.force_login(gaps.users.county_a)
    totals = client.get(reverse("pairing:coverage_region", args=[gaps.county_a.code])).context["totals"]
    expected = independent_counts(gaps.county_a.prefix)
    for key, value in expected.items():
        assert totals[key] == value, key


@pytest.fixture
def city_cadres(gaps):
    """Cadres of a unit seated at the city (定西市), held to the limits of their households' counties:
    通渭县 (county A) allows a 科级 cadre 7 poor households, 东乡县 (county B) a 一般 cadre 4."""
    RankLimit.objects.create(
        county=gaps.county_a, rank=Cadre.Rank.SECTION, max_households=7, max_poor=7, min_poor=1
    )
    RankLimit.objects.create(
        county=gaps.county_b, rank=Cadre.Rank.STAFF, max_households=6, max_poor=4, min_poor=0
    )
    city_unit = f.unit(gaps.city_a, "定西市扶贫办", level="city")
    section = f.cadre(city_unit, "王满仓", rank=Cadre.Rank.SECTION)
    for index in range(4):  # over the 科级 default of 3, within 通渭县's 7
        f.pairing(section, f.household(gaps.village_a, f"满{index}", members=1))
    # County A allows a 一般 cadre 1 poor household (gaps), county B 4: judged by the more lenient.
    both = f.cadre(city_unit, "张两县")
    f.pairing(both, f.household(gaps.village_a, "两甲", members=1))
    for index in range(2):
        f.pairing(both, f.household(gaps.village_b, f"两乙{index}", members=1))
    f.cadre(city_unit, "市闲者")  # no pairing: the seat (a city) has no rows, so the default minimum of 1
    f.cadre(gaps.unit_b, "东乡闲者")  # no pairing: 东乡县's minimum for 一般 is 0
    gaps.city_unit, gaps.section, gaps.both = city_unit, section, both
    return gaps


def city_row(region, child):
    rows, totals = per_child(region, [child])
    return next(row for row in rows if row["region"] == child), totals


def test_city_cadres_are_judged_by_their_households_county(city_cadres):
    world = city_cadres
    row, totals = city_row(world.city_a, world.county_a)
    assert row["cadres_over"] == 1  # 忙碌者 only, seated in county A
    over = {c.name: c for c in coverage.cadres_by_limit(world.city_a.prefix, coverage.OVER_LIMIT)}
    assert sorted(over) == ["忙碌者"]
    under = {c.name for c in coverage.cadres_by_limit(world.province.prefix, coverage.UNDER_LIMIT)}
    assert under == {"空闲者", "市闲者"}  # 东乡闲者 is held to 东乡县's minimum of 0
    for region in (world.province, world.city_a, world.city_b, world.county_a, world.county_b):
        counted = per_child(region, [])[1]
        expected = independent_counts(region.prefix)
        for key in ("cadres", "cadres_over", "cadres_under"):
            assert counted[key] == expected[key], (region.name, key)
    assert per_child(world.province, [])[1]["cadres_over"] == 1

    for index in range(4):  # 8 poor households: over 通渭县's 7 as well
        f.pairing(world.section, f.household(world.village_a, f"满多{index}", members=1))
    f.pairing(world.both, f.household(world.village_b, "两乙多", members=1))
    f.pairing(world.both, f.household(world.village_b, "两乙再", members=1))  # 5 poor: over 4 as well
    over = {c.name: c for c in coverage.cadres_by_limit(world.city_a.prefix, coverage.OVER_LIMIT)}
    assert sorted(over) == ["张两县", "忙碌者", "王满仓"]
    assert (over["王满仓"].poor_load, over["王满仓"].max_poor, over["王满仓"].max_households) == (8, 7, 7)
    assert (over["张两县"].poor_load, over["张两县"].max_poor, over["张两县"].min_poor) == (5, 4, 0)
    assert (
        per_child(world.province, [])[1]["cadres_over"]
        == independent_counts(world.province.prefix)["cadres_over"]
        == 3
    )


def test_over_list_shows_the_limit_applied(client, city_cadres):
    for index in range(3):
        f.pairing(city_cadres.both, f.household(city_cadres.village_b, f"两乙多{index}", members=1))
    client.force_login(city_cadres.users.city_a)
    page = client.get(reverse("pairing:coverage_list", args=[city_cadres.city_a.code, "cadres_over"]))
    rows = {row[1]: row for row in page.context["page"]}
    assert sorted(rows) == ["张两县", "忙碌者"]
    # 姓名, 单位, 职级, 联系户, 联系户上限, 帮扶贫困户, 帮扶上限, 帮扶下限: 东乡县's, not the default 5/2/1
    assert rows["张两县"][4:] == (6, 6, 6, 4, 0)
    assert "按干部所联农户所在县的标准" in page.content.decode()


def test_page_query_count_is_fixed(client, gaps):
    client.force_login(gaps.users.province)
    url = reverse("pairing:coverage_region", args=[gaps.province.code]) + "?refresh=1"
    few = count_queries(client, url)
    for index in range(10):
        f.household(gaps.village_b, f"新户{index}", members=1)
        f.cadre(gaps.unit_b, f"新干部{index}")
    assert count_queries(client, url) == few


def test_province_and_city_counts_are_cached_and_counties_are_live(client, gaps):
    client.force_login(gaps.users.province)
    province = reverse("pairing:coverage_region", args=[gaps.province.code])
    county = reverse("pairing:coverage_region", args=[gaps.county_a.code])
    before = {url: client.get(url).context["totals"]["unpaired"] for url in (province, county)}
    f.household(gaps.village_a, "新增未配", members=1)

    cached = client.get(province)
    assert cached.context["totals"]["unpaired"] == before[province]
    assert "立即重新统计" in cached.content.decode()
    assert count_queries(client, province) < count_queries(client, province + "?refresh=1")
    assert client.get(county).context["totals"]["unpaired"] == before[county] + 1
    assert client.get(province + "?refresh=1").context["totals"]["unpaired"] == before[province] + 1
    assert client.get(province).context["totals"]["unpaired"] == before[province] + 1  # the refresh is kept


def test_each_count_links_to_its_list_and_exports(client, gaps):
    client.force_login(gaps.users.county_a)
    page = client.get(reverse("pairing:coverage_list", args=[gaps.town_a.code, "unpaired"]))
    names = [row[1] for row in page.context["page"]]
    assert sorted(names) == ["未配乙", "未配甲"]
    assert "**********" in page.content.decode()
    export = client.get(
        reverse("pairing:coverage_list", args=[gaps.town_a.code, "unpaired"]), {"format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("户主", "身份证号码")
    exported_ids = sorted(row[1] for row in rows[1:])
    assert exported_ids == sorted(
        Household.objects.filter(head_name__startswith="未配").values_list("head_id_number", flat=True)
    )
    over = client.get(reverse("pairing:coverage_list", args=[gaps.county_a.code, "cadres_over"]))
    assert [row[1] for row in over.context["page"]] == ["忙碌者"]


def test_export_escapes_formulas():
    from shuanglian.lib.excel import workbook_bytes

    sheet = load_workbook(io.BytesIO(workbook_bytes("t", ["a"], [["=1+1"], ["@SUM(A1)"], ["正常"]]))).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["'=1+1", "'@SUM(A1)", "正常"]


def test_the_figures_cost_one_query_per_batch(gaps, django_assert_num_queries):
    """Poor households, poor villages, cadres seated here, units: a query each; cadres helping here
    a query for the rows and one for the total (not additive). Poor households and poor villages
    are added up from their two parts, not counted again (issue 18)."""
    for region, children in (
        (gaps.province, [gaps.city_a, gaps.city_b]),
        (gaps.county_a, [gaps.town_a, gaps.town_a2]),
        (gaps.town_a, list(gaps.town_a.children.all())),
    ):
        with django_assert_num_queries(6):
            rows, own, totals = selectors.coverage_rows(region, children)
        assert (
            totals["poor"]
            == totals["paired"] + totals["unpaired"]
            == independent_counts(region.prefix)["poor"]
        )


def test_cadres_helping_from_the_tallies_follow_ends_and_moves(gaps):
    """A county or wider counts the cadres helping there from the load tallies: they follow a
    pairing ended through the services and a household moved to another county."""
    from households.moves import moved
    from pairing import services

    def helping(region):
        by_pairings = {
            p.cadre_id
            for p in Pairing.objects.filter(ended_on=None).select_related("household")
            if p.household.village_id.startswith(region.prefix)
        }
        return len(by_pairings)

    regions = (gaps.province, gaps.city_a, gaps.county_a, gaps.county_b)
    before = {region: helping(region) for region in regions}
    for region in regions:
        assert indicators.value("cadres_helping", Scope(prefix=region.prefix)) == before[region]
    busy = Cadre.objects.get(name="忙碌者")
    first, second = Pairing.objects.filter(cadre=busy, ended_on=None).order_by("pk")
    services.end_relation(relation=first, ended_on=first.started_on, reason="调整")
    household = second.household
    household.village = gaps.village_b
    household.save(update_fields=["village"])
    moved([household.pk])
    for region in regions:
        assert indicators.value("cadres_helping", Scope(prefix=region.prefix)) == helping(region), region
    assert helping(gaps.county_b) == before[gaps.county_b] + 1
