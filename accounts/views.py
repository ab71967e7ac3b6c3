from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login

from shuanglian.access import UNLOCK_ROLES, require_roles, second_factor_required

from . import lockout, second_factor
from .forms import ConfirmDeviceForm


@require_roles(*UNLOCK_ROLES)
@require_http_methods(["GET", "POST"])
def locked_list(request):
    """账号解锁: the office's accounts with failed logins on record, and a button to clear them."""
    if request.method == "POST":
        username = request.POST.get("username", "")
        cleared = lockout.unlock(office=request.user, username=username)
        if cleared:
            messages.success(request, f"已解锁账号 {username}，其登录失败记录已清除。")
        elif cleared == 0:  # nothing left to clear: the second press of a double click
            messages.info(request, f"账号 {username} 已解锁，重复的提交未再办理")
        else:
            # The same answer for an unknown account and another office's: nothing is revealed.
            messages.error(request, "没有可解锁的该账号。")
        return redirect("accounts:locked")
    context = {
        "rows": lockout.locked_users(request.user),
        "limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "accounts/locked_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """动态验证码: bind an authenticator app by scanning a QR code and typing its first code."""
    device = second_factor.confirmed_device(request.user)
    form = ConfirmDeviceForm(request.POST or None)
    if device is None and request.method == "POST" and form.is_valid():
        device = second_factor.confirm(user=request.user, token=form.cleaned_data["token"])
        if device is None:
            form.add_error("token", "动态验证码不正确：请输入身份验证器中当前显示的 6 位数字。")
        else:
            otp_login(request, device)
            messages.success(request, "已绑定身份验证器：今后登录时请同时输入其中的动态验证码。")
            return redirect("home")
    context = {"device": device, "form": form, "required": second_factor_required(request.user)}
    if device is None:
        pending = second_factor.pending_device(request.user)
        # segno's SVG: markup made here from the key, no user input in it.
        context.update(
            qr=mark_safe(second_factor.qr_svg(pending)), secret=second_factor.secret_for_typing(pending)
        )
    return render(request, "accounts/otp_setup.html", context)
