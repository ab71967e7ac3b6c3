"""No page shows a link that its viewer cannot follow (issue 19.1).

Each role starts at the home page and follows every same-site link, breadth first, over a world
with a record of every kind (visits, demands, plans, proposals, handovers, imports). A link that
answers 403, 404 or 500 to the person it was shown to is a defect: the page should have shown the
name without the link.
"""

import datetime
from collections import Counter, deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.factories import START

# The admin has its own scoping tests; static files and logging out are not pages of a role.
SKIPPED_PREFIXES = ("/admin/", "/static/", "/accounts/logout/")
# Enough for every page of the world below (a superuser reaches over 300: every worklist row links to
# visit entry for its household); the bounds keep a runaway link
# (a month picker that pages forever) from hanging the suite.
MAX_PAGES = 450
# One path with other query strings (another filter, page 2) is visited this many times at most.
VARIANTS_PER_PATH = 8
ROLES = (
    "admin",
    "province",
    "city_a",
    "city_b",
    "county_a",
    "county_b",
    "town_a",
    "town_b",
    "unit_a",
    "unit_b",
)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links_on(html: str, page_path: str) -> list[str]:
    """The same-site page links of a page, as paths with their query strings."""
    parser = _Links()
    parser.feed(html)
    found = []
    for href in parser.hrefs:
        href, _fragment = urldefrag(href)
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not (parts.path or parts.query):
            continue  # another site, mailto:, or a link to a place on the same page
        path = parts.path or page_path
        if not path.startswith("/") or path.startswith(SKIPPED_PREFIXES):
            continue
        found.append(f"{path}?{parts.query}" if parts.query else path)
    return found


def crawl(client, start="/"):
    """Follow links breadth first; answer the links that failed, as (page, link, status)."""
    queue = deque([(None, start)])
    seen = {start}
    variants = Counter()
    failures = []
    fetched = 0
    while queue and fetched < MAX_PAGES:
        referrer, url = queue.popleft()
        fetched += 1
        try:
            response = client.get(url)
        except Exception as error:  # the test client re-raises a view's exception: that link is a 500
            failures.append((referrer, url, repr(error)))
            continue
        if response.status_code in (301, 302):
            targets = [response["Location"]]
        elif response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            targets = links_on(response.content.decode(), urlsplit(url).path)
        else:
            if response.status_code != 200:
                failures.append((referrer, url, response.status_code))
            continue
        for target in targets:
            path = urlsplit(target).path
            if target not in seen and variants[path] < VARIANTS_PER_PATH:
                seen.add(target)
                variants[path] += 1
                queue.append((url, target))
    return failures, fetched, len(queue)


@pytest.fixture
def full_world(world):
    """The `world` with one record of every kind on each side, so every kind of page is linked."""
    from demands import services as demands
    from imports import services as imports
    from pairing import services as pairing
    from plans import services as plans
    from visits.services import record_unit_visit, record_visit

    day = timezone.localdate() - datetime.timedelta(days=20)
    sides = [
        (
            world.users.town_a,
            world.users.unit_a,
            world.household_a,
            world.cadre_a,
            world.unit_a,
            world.village_a,
            world.town_a,
        ),
        (
            world.users.town_b,
            world.users.unit_b,
            world.household_b,
            world.cadre_b,
            world.unit_b,
            world.village_b,
            world.town_b,
        ),
    ]
    # A county unit's cadre also holds a household in the county's other township (鸡川镇), which
    # the 马营镇 office does not see.
    f.pairing(world.cadre_a, world.household_a2)
    # Household A was helped before by a cadre of a city unit, who has since left: the township and
    # the unit now helping it see that cadre's name in the history, not the cadre.
    former = f.cadre(f.unit(world.city_a, "定西市发展和改革委员会", level="city"), "钱前任")
    f.pairing(
        former,
        world.household_a,
        started_on=START - datetime.timedelta(days=400),
        ended_on=START - datetime.timedelta(days=1),
        end_reason="调离",
    )
    for town, liaison, household, cadre, unit, village, township in sides:
        visit = record_visit(household=household, cadre=cadre, visited_on=day, by=town)
        demands.raise_demand(household=household, category="住房", text="危房改造", by=town, visit=visit)
        road = demands.raise_demand(household=household, category="基础设施", text="通组路硬化", by=town)
        demands.escalate(demand=road, by=town, text="需县交通局立项")
        record_unit_visit(
            unit=unit, village=village, visited_on=day, cadres=[cadre], activities="商议修路", by=liaison
        )
        plans.save_village_plan(
            village=village,
            year=day.year,
            by=town,
            data={"development_path": "草畜为主", "leading_industry": "肉羊养殖", "projects": []},
        )
        plans.save_household_plan(
            household=household,
            year=day.year,
            by=town,
            data={
                "causes": ["缺技术"],
                "measures": ["产业"],
                "targets": "养羊",
                "outcome": "",
                "income_last_year": None,
                "income_this_year": None,
            },
        )
        # An unpaired poor household and a cadre with room for it, so a proposal is made.
        f.household(village, "待结对户", members=1)
        f.cadre(unit, f"{unit.name}新干部")
        pairing.create_proposal(region=township, started_on=START, by=town)
        pairing.start_handover(cadre=cadre, new_status="调离", effective_on=START, by=town)
    roster = "县,乡镇,村,户主姓名,身份证号码,户属性\n通渭县,马营镇,东关村,张三,123,一般贫困户\n".encode()
    batch = imports.create_batch(data=roster, filename="a.csv", kind="households", user=world.users.town_a)
    imports.check_batch(batch=batch)
    return world


@pytest.mark.parametrize("username", ROLES)
def test_every_link_a_role_is_shown_opens_for_it(client, full_world, username, settings):
    settings.PAGE_SIZE = 1  # every list pages, so its page links are followed too
    client.force_login(getattr(full_world.users, username))
    failures, fetched, left = crawl(client)
    assert not failures, "\n".join(f"{page} → {link}: {status}" for page, link, status in failures)
    assert fetched > 20, "the crawl should reach the role's pages"
    assert not left, f"more than {MAX_PAGES} page shapes: raise MAX_PAGES or find the runaway link"


def test_the_village_plan_names_the_village_and_links_it_for_those_who_may_browse_regions(client, world):
    url = reverse("plans:village", args=[world.village_a.code])
    region_page = reverse("households:region", args=[world.village_a.code])
    client.force_login(world.users.unit_a)
    page = client.get(url).content.decode()
    assert world.village_a.name in page and region_page not in page
    client.force_login(world.users.town_a)
    assert region_page in client.get(url).content.decode()


def test_links_are_read_as_same_site_paths():
    html = (
        '<a href="/regions/1/">村</a><a href="?page=2">下一页</a><a href="#top">顶部</a>'
        '<a href="https://example.cn/">外站</a><a href="/static/x.css">样式</a><a href="/b/#c">锚点</a>'
    )
    assert links_on(html, "/plans/") == ["/regions/1/", "/plans/?page=2", "/b/"]


def test_a_households_history_names_a_cadre_its_viewer_may_not_open(client, world):
    former = f.cadre(f.unit(world.city_a, "定西市发展和改革委员会", level="city"), "钱前任")
    f.pairing(
        former,
        world.household_a,
        started_on=START - datetime.timedelta(days=400),
        ended_on=START - datetime.timedelta(days=1),
        end_reason="调离",
    )
    url = reverse("households:detail", args=[world.household_a.pk])
    link = reverse("pairing:cadre_detail", args=[former.pk])
    for username, linked in [("town_a", False), ("unit_a", False), ("city_a", True)]:
        client.force_login(getattr(world.users, username))
        page = client.get(url).content.decode()
        assert "钱前任" in page and (link in page) == linked, username
        assert reverse("pairing:cadre_detail", args=[world.cadre_a.pk]) in page


def test_the_superuser_opens_a_cadre_whose_unit_links_no_village(client, world):
    """The whole-province scope must survive an OR: a unit seated in a city that links no village,
    and its cadre with no household, are listed (coverage: under the minimum) and open."""
    from pairing.models import Cadre, Unit

    unit = f.unit(world.city_a, "定西市发展和改革委员会", level="city")
    cadre = f.cadre(unit, "钱前任")
    assert Unit.objects.visible_to(world.users.admin).filter(pk=unit.pk).exists()
    assert Cadre.objects.visible_to(world.users.admin).filter(pk=cadre.pk).exists()
    client.force_login(world.users.admin)
    assert client.get(reverse("pairing:cadre_detail", args=[cadre.pk])).status_code == 200
