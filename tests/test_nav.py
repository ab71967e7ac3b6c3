"""The menu shows each role only the links it may use."""

import pytest
from django.urls import reverse

REGION_ONLY = ("households:regions", "pairing:coverage", "pairing:proposal_list")


@pytest.mark.parametrize(
    ("username", "region_links"), [("town_a", True), ("county_a", True), ("unit_a", False)]
)
def test_the_menu_keeps_each_roles_links(client, world, username, region_links):
    client.force_login(getattr(world.users, username))
    content = client.get(reverse("home")).content.decode()
    for name in REGION_ONLY:
        assert (f'href="{reverse(name)}"' in content) is region_links, name
    for name in (
        "households:list",
        "pairing:cadre_list",
        "visits:list",
        "demands:list",
        "plans:list",
        "imports:list",
    ):
        assert f'href="{reverse(name)}"' in content, name
