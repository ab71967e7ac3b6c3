import os
from types import SimpleNamespace

import pytest
from django.test.utils import override_settings

from tests import factories as f

# Playwright's sync API runs an event loop in the test thread; the ORM calls the
# tests make between browser steps are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _plain_http():
    """Production settings redirect to HTTPS; the test client and live server speak HTTP."""
    with override_settings(
        SECURE_SSL_REDIRECT=False,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
        # One process per test run: the in-memory cache behaves as the shared one does, and tests
        # that touch no database can still clear it.
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        # Real hashing costs ~0.3 s per account; tests make dozens.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    ):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Cached counts must not leak from one test's database into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    """Two counties in two cities; in each, a township with a village, a unit linking
    it, a cadre paired with a household; and one user per role on each side.

    Side A: 定西市 通渭县 马营镇 东关村; side B: 临夏州 东乡县 达板镇 a village.
    A second township in county A (鸡川镇) tells township scope from county scope.
    """
    province = f.region("620000000000", "甘肃省", "province")
    city_a = f.region("621100000000", "定西市", "city")
    city_b = f.region("622900000000", "临夏回族自治州", "city")
    county_a = f.region("621121000000", "通渭县", "county")
    county_b = f.region("622926000000", "东乡族自治县", "county")
    town_a = f.region("621121101000", "马营镇", "township")
    town_a2 = f.region("621121102000", "鸡川镇", "township")
    town_b = f.region("622926101000", "达板镇", "township")
    village_a = f.region("621121101201", "东关村民委员会", "village")
    village_a2 = f.region("621121102201", "鸡川村民委员会", "village")
    village_b = f.region("622926101201", "达板村民委员会", "village")
    for poor in (county_a, county_b, village_a, village_a2, village_b):
        poor.is_poor = True
        poor.save(update_fields=["is_poor"])

    unit_a = f.unit(county_a, "通渭县农业农村局", level="county")
    unit_b = f.unit(county_b, "东乡县财政局", level="county")
    cadre_a = f.cadre(unit_a, "李文华")
    cadre_b = f.cadre(unit_b, "马志刚")
    f.link(unit_a, village_a)
    f.link(unit_b, village_b)
    household_a = f.household(village_a, "王建国", members=3)
    household_a2 = f.household(village_a2, "赵德胜", members=2)
    household_b = f.household(village_b, "妥有福", members=2)
    f.pairing(cadre_a, household_a)
    f.pairing(cadre_b, household_b)

    users = SimpleNamespace(
        admin=f.user("admin", is_superuser=True),
        province=f.user("province", "province", region=province),
        city_a=f.user("city_a", "city", region=city_a),
        city_b=f.user("city_b", "city", region=city_b),
        county_a=f.user("county_a", "county", region=county_a),
        county_b=f.user("county_b", "county", region=county_b),
        town_a=f.user("town_a", "township", region=town_a),
        town_b=f.user("town_b", "township", region=town_b),
        unit_a=f.user("unit_a", "unit", of_unit=unit_a),
        unit_b=f.user("unit_b", "unit", of_unit=unit_b),
    )
    return SimpleNamespace(
        province=province,
        city_a=city_a,
        city_b=city_b,
        county_a=county_a,
        county_b=county_b,
        town_a=town_a,
        town_a2=town_a2,
        town_b=town_b,
        village_a=village_a,
        village_a2=village_a2,
        village_b=village_b,
        unit_a=unit_a,
        unit_b=unit_b,
        cadre_a=cadre_a,
        cadre_b=cadre_b,
        household_a=household_a,
        household_a2=household_a2,
        household_b=household_b,
        users=users,
    )


from tests.browser import chromium, live_server  # noqa: E402,F401  (fixtures for the browser tests)
