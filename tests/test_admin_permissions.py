"""Every admin view follows its list's permission: a staff account with no role opens nothing,
the exports of django-import-export included (which, left alone, let any staff account export)."""

import pytest
from django.contrib import admin
from django.urls import URLPattern, reverse

from tests import factories as f


def _admin_urls_without_arguments():
    """Every admin URL of every registered model that needs no object id: the list, add, export…"""
    for model, model_admin in admin.site._registry.items():
        for pattern in model_admin.get_urls():
            if isinstance(pattern, URLPattern) and pattern.name and not pattern.pattern.converters:
                yield model, pattern.name


ADMIN_URLS = sorted({name for _model, name in _admin_urls_without_arguments()})
EXPORT_URLS = [name for name in ADMIN_URLS if name.endswith("_export")]


def test_the_admin_offers_exports():
    assert "pairing_cadre_export" in EXPORT_URLS


@pytest.mark.parametrize("name", ADMIN_URLS)
def test_a_staff_account_without_a_role_is_refused_every_admin_view(client, world, name):
    f.cadre(world.unit_a, "某干部")
    client.force_login(f.user("no_role"))  # is_staff, no role, no permission
    response = client.get(reverse(f"admin:{name}"))
    assert response.status_code == 403, name


@pytest.mark.parametrize("name", EXPORT_URLS)
def test_an_export_is_open_to_whoever_may_open_its_list(client, world, name):
    changelist = name.removesuffix("_export") + "_changelist"
    for username in ("admin", "county_a", "town_a", "unit_a"):
        client.force_login(getattr(world.users, username))
        list_status = client.get(reverse(f"admin:{changelist}")).status_code
        assert client.get(reverse(f"admin:{name}")).status_code == list_status == 200, username


def test_no_admin_offers_an_import():
    for model_admin in admin.site._registry.values():
        if hasattr(model_admin, "has_import_permission"):
            assert not model_admin.has_import_permission(None)
