"""Binding an authenticator app (TOTP, django-otp) to an account."""

import io

import segno
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

DEVICE_NAME = "身份验证器"


def pending_device(user) -> TOTPDevice:
    """The account's unconfirmed device, made on first use: reloading the page keeps the same key,
    so a code scanned a moment ago still matches."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def qr_svg(device: TOTPDevice) -> str:
    """The device's otpauth:// address as an inline SVG QR code (segno: no image library needed)."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m").save(out, kind="svg", scale=4, xmldecl=False, svgns=True)
    return out.getvalue().decode()


def secret_for_typing(device: TOTPDevice) -> str:
    """The base32 key in groups of four, for an app that cannot scan."""
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@transaction.atomic
def confirm(*, user, token: str) -> TOTPDevice | None:
    """Confirm the pending device with a code from the app; None when the code does not match.

    A second press with the same code finds the device already confirmed and returns it.
    """
    existing = confirmed_device(user)
    if existing:
        return existing
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("pk").first()
    if device is None or not device.verify_token(token.strip()):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return device
