"""The TOTP second factor (django-otp): binding, logging in with a code, and the setting that
requires it for office and superuser accounts."""

import time

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

LOGIN = "/accounts/login/"


def code(device, offset_steps=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():06d}"


def bind(client, user):
    """Bind an authenticator for `user` through the page, as a person would."""
    client.force_login(user)
    page = client.get(reverse("accounts:otp_setup"))
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(reverse("accounts:otp_setup"), {"token": code(device)})
    assert response.status_code == 302
    client.logout()
    device.refresh_from_db()
    assert device.confirmed
    return device


def login(client, username, token="", password="pw"):
    return client.post(
        LOGIN, {"username": username, "password": password, "otp_token": token}, REMOTE_ADDR="10.3.3.3"
    )


@pytest.mark.django_db
def test_binding_refuses_a_wrong_code_and_keeps_the_key_across_reloads(client, world):
    client.force_login(world.users.town_a)
    client.get(reverse("accounts:otp_setup"))
    client.get(reverse("accounts:otp_setup"))
    device = TOTPDevice.objects.get(user=world.users.town_a)
    wrong = "000000" if code(device) != "000000" else "111111"
    response = client.post(reverse("accounts:otp_setup"), {"token": wrong})
    assert "动态验证码不正确" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=world.users.town_a, confirmed=True).exists()


@pytest.mark.django_db
def test_a_bound_account_needs_its_code_to_log_in(client, world):
    device = bind(client, world.users.town_a)
    missing = login(client, "town_a")
    assert missing.status_code == 200 and "请填写其中显示的 6 位动态验证码" in missing.content.decode()
    wrong = login(client, "town_a", token="999999" if code(device, 5) != "999999" else "888888")
    assert wrong.status_code == 200 and "动态验证码不正确" in wrong.content.decode()
    assert "_auth_user_id" not in client.session
    # django-otp slows guessing down after a wrong code (1 s, doubling); a person retyping takes longer.
    device.refresh_from_db()
    device.throttle_reset()
    # A fresh code (the one used to bind is spent): the next time step's.
    ok = login(client, "town_a", token=code(device, 1))
    assert ok.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_lockout(client, world):
    device = bind(client, world.users.town_a)
    for _ in range(5):
        login(client, "town_a", token="000000" if code(device) != "000000" else "111111")
    device.refresh_from_db()
    device.throttle_reset()
    assert login(client, "town_a", token=code(device, 1)).status_code == 429


@pytest.mark.django_db
def test_unbound_accounts_log_in_with_a_password_when_not_required(client, world):
    assert login(client, "county_a").status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_required_setting_sends_an_office_to_bind_first(client, world, settings):
    settings.OTP_REQUIRED = True
    assert login(client, "county_a").status_code == 302
    response = client.get("/")
    assert response.status_code == 302 and response.url == reverse("accounts:otp_setup")
    page = client.get(reverse("accounts:otp_setup"))
    assert "必须使用动态验证码登录" in page.content.decode()
    device = TOTPDevice.objects.get(user=world.users.county_a)
    client.post(reverse("accounts:otp_setup"), {"token": code(device)})
    assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_required_setting_leaves_township_and_unit_accounts_alone(client, world, settings):
    settings.OTP_REQUIRED = True
    for username in ("town_a", "unit_a"):
        client.logout()
        assert login(client, username).status_code == 302
        assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_required_setting_covers_superusers_and_the_admin(client, world, settings):
    settings.OTP_REQUIRED = True
    client.force_login(world.users.admin)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url == reverse("accounts:otp_setup")


@pytest.mark.django_db
def test_the_admin_logs_in_through_the_same_page(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url == "/accounts/login/?next=/admin/"
