"""Password guessing locks an account and an address (django-axes); offices unlock their own users;
sessions end after the idle limit and at the latest after the absolute one."""

import time

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import User

LOGIN = "/accounts/login/"


def _try(client, username, password="wrong", ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_five_failures_lock_the_username_with_a_chinese_message(client, world):
    for _ in range(4):
        assert _try(client, "town_a").status_code == 200
    locked = _try(client, "town_a")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode() and "15 分钟" in locked.content.decode()
    # Even the right password is refused now, from another address too.
    right = _try(client, "town_a", password="pw", ip="10.0.0.2")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_fewer_failures_then_success_resets_the_count(client, world):
    for _ in range(4):
        _try(client, "town_a")
    assert _try(client, "town_a", password="pw").status_code == 302
    client.logout()
    for _ in range(4):
        assert _try(client, "town_a").status_code == 200


@pytest.mark.django_db
def test_one_address_guessing_many_usernames_is_locked(client, world):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        _try(client, name, ip="10.9.9.9")
    assert _try(client, "town_a", password="pw", ip="10.9.9.9").status_code == 429
    # Another address is not affected.
    assert _try(client, "town_a", password="pw", ip="10.0.0.7").status_code == 302


@pytest.mark.django_db
@override_settings(PROXY_COUNT=1)
def test_behind_the_proxy_the_forwarded_address_is_counted(client, world):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        client.post(
            LOGIN,
            {"username": name, "password": "x"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="10.1.1.1",
        )
    blocked = client.post(
        LOGIN,
        {"username": "town_a", "password": "pw"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.1.1.1",
    )
    assert blocked.status_code == 429
    other = client.post(
        LOGIN,
        {"username": "town_a", "password": "pw"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.2.2.2",
    )
    assert other.status_code == 302


def _lock(client, username):
    for _ in range(5):
        _try(client, username)
    client.cookies.clear()


@pytest.mark.django_db
def test_county_office_unlocks_its_own_township_user(client, world):
    _lock(client, "town_a")
    client.force_login(world.users.county_a)
    page = client.get(reverse("accounts:locked"))
    assert "town_a" in page.content.decode() and "已锁定" in page.content.decode()
    response = client.post(reverse("accounts:locked"), {"username": "town_a"}, follow=True)
    assert "已解锁账号 town_a" in response.content.decode()
    client.logout()
    assert _try(client, "town_a", password="pw").status_code == 302


@pytest.mark.django_db
def test_home_links_the_unlock_page_for_offices_only(client, world):
    for username, shown in (("county_a", True), ("province", True), ("town_a", False), ("unit_a", False)):
        client.force_login(getattr(world.users, username))
        home = client.get("/").content.decode()
        assert (reverse("accounts:locked") in home) is shown, username
        assert reverse("accounts:otp_setup") in home


@pytest.mark.django_db
def test_an_office_cannot_see_or_unlock_another_countys_user(client, world):
    _lock(client, "town_b")
    client.force_login(world.users.county_a)
    assert "town_b" not in client.get(reverse("accounts:locked")).content.decode()
    response = client.post(reverse("accounts:locked"), {"username": "town_b"}, follow=True)
    assert "没有可解锁的该账号" in response.content.decode()
    client.logout()
    assert _try(client, "town_b", password="pw").status_code == 429


@pytest.mark.django_db
def test_managed_by_follows_region_and_unit_seat(world):
    managed = set(User.objects.managed_by(world.users.county_a).values_list("username", flat=True))
    assert {"county_a", "town_a", "unit_a"} <= managed
    assert not managed & {"town_b", "unit_b", "county_b", "city_a", "province", "admin"}
    assert not User.objects.managed_by(world.users.town_a).exists()
    assert set(User.objects.managed_by(world.users.admin)) == set(User.objects.all())


@pytest.mark.django_db
def test_idle_session_ends(client, world, monkeypatch):
    client.force_login(world.users.town_a)
    assert client.get("/").status_code == 200
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 2 * 3600 + 61)
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith(LOGIN)


@pytest.mark.django_db
def test_active_session_is_kept_and_bounded(client, world, monkeypatch, settings):
    client.force_login(world.users.town_a)
    client.get("/")
    start = time.time()
    for hours in (1.5, 3, 4.5):
        monkeypatch.setattr(time, "time", lambda h=hours: start + h * 3600)
        assert client.get("/").status_code == 200
    # The absolute limit: the session's expiry was set at login and is not pushed on.
    assert settings.SESSION_COOKIE_AGE == 12 * 3600 and not settings.SESSION_SAVE_EVERY_REQUEST
    assert client.session.get_expiry_age() <= 12 * 3600
