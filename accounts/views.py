from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from shuanglian.access import UNLOCK_ROLES, require_roles

from . import lockout


@require_roles(*UNLOCK_ROLES)
@require_http_methods(["GET", "POST"])
def locked_list(request):
    """账号解锁: the office's accounts with failed logins on record, and a button to clear them."""
    if request.method == "POST":
        username = request.POST.get("username", "")
        if lockout.unlock(office=request.user, username=username):
            messages.success(request, f"已解锁账号 {username}，其登录失败记录已清除。")
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
