"""`manage.py warm_overviews` counts the province's and each city's overview figures into the same
cache entries the pages read, so an office's page is served without a recount."""

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories as f

OVERVIEW_PAGES = [
    "/",
    "/coverage/",
    "/visits/worklists/",
    "/visits/worklists/stale/",
    "/visits/worklists/cadres/",
    "/demands/",
]


def warm() -> str:
    out = io.StringIO()
    call_command("warm_overviews", stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("username", ["province", "city_a", "city_b"])
def test_every_overview_page_is_served_from_the_warmed_figures(client, world, username):
    before = timezone.now()
    warm()
    after = timezone.now()
    client.force_login(getattr(world.users, username))
    for url in OVERVIEW_PAGES:
        counted_at = client.get(url).context["counted_at"]
        assert counted_at is not None and before <= counted_at <= after, url


def test_a_page_shows_the_warmed_figure_until_the_next_warm(client, world):
    client.force_login(world.users.province)
    warm()
    households = client.get("/").context["figures"]["households"]
    f.household(world.village_a, "新登记户", members=1)
    assert client.get("/").context["figures"]["households"] == households  # still the warmed figure
    warm()
    assert client.get("/").context["figures"]["households"] == households + 1


def test_counties_and_townships_stay_live(client, world):
    warm()
    client.force_login(world.users.county_a)
    assert client.get("/").context["counted_at"] is None


def test_it_says_how_many_regions_it_counted(world):
    assert "已统计 3 个省、市（州）的概况" in warm()
