from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice


class LoginForm(AuthenticationForm):
    """Username and password, then the authenticator's code for an account that has bound one."""

    otp_token = forms.CharField(label="动态验证码", required=False, max_length=8)

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "用户名或密码不正确，请重新输入。",
        "otp_missing": "该账号已绑定身份验证器：请填写其中显示的 6 位动态验证码。",
        "otp_invalid": "动态验证码不正确或已过期，请看身份验证器中当前的 6 位数字。",
    }

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is None or not user_has_device(user):
            return cleaned
        token = (cleaned.get("otp_token") or "").strip()
        device = next(
            (
                device
                for device in TOTPDevice.objects.devices_for_user(user)
                if token and device.verify_token(token)
            ),
            None,
        )
        if device is None:
            # Counted by django-axes like a wrong password: a second factor can be guessed too.
            user_login_failed.send(
                sender=__name__, credentials={"username": user.get_username()}, request=self.request
            )
            raise forms.ValidationError(self.error_messages["otp_invalid" if token else "otp_missing"])
        # django-otp marks the session verified when the login happens with this attribute set.
        user.otp_device = device
        return cleaned


class ConfirmDeviceForm(forms.Form):
    token = forms.CharField(label="动态验证码", max_length=8)
