"""Password-guessing lockout (django-axes): the Chinese answer, the client address, and unlocking.

Axes counts failures per username and, separately, per address (AXES_LOCKOUT_PARAMETERS); this
module only words its answer and lets an office lift a lock on its own users.
"""

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum
from django.shortcuts import render

from .models import User


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the one a trusted proxy chain put in X-Forwarded-For.

    SHUANGLIAN_PROXY_COUNT says how many proxies of ours stand in front; the address they saw is
    that many entries from the right. Entries further left come from the client and are not trusted.
    """
    proxies = settings.PROXY_COUNT
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def locked_out(request, original_response=None, credentials=None):
    """Axes' lockout response: the login page again, saying why and for how long (HTTP 429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = (
        f"登录失败次数过多（{settings.AXES_FAILURE_LIMIT} 次），该账号或本机地址已被锁定 {minutes} 分钟。"
        "请稍后再试，或请本级双联办在「账号解锁」中解锁。"
    )
    return render(request, "registration/login.html", {"lockout_message": message}, status=429)


def locked_users(office):
    """Accounts that `office` manages and that have failed logins on record, most failures first.

    Each row: the user, the failures counted and the last failure's time; `locked` says whether the
    count has reached the limit (a lock lapses by itself after the cool-off time).
    """
    failures = {
        row["username"]: row
        for row in AccessAttempt.objects.values("username").annotate(
            failures=Sum("failures_since_start"), last=Max("attempt_time")
        )
    }
    users = (
        User.objects.managed_by(office).filter(username__in=list(failures)).select_related("region", "unit")
    )
    rows = [
        {
            "user": user,
            "failures": failures[user.username]["failures"],
            "last": failures[user.username]["last"],
            "locked": failures[user.username]["failures"] >= settings.AXES_FAILURE_LIMIT,
        }
        for user in users
    ]
    return sorted(rows, key=lambda row: (-row["failures"], row["user"].username))


def unlock(*, office, username: str) -> int | None:
    """Clear the failures of `username` if `office` manages that account: how many records were
    cleared (0 when none was left, as for a second press); None when `office` does not manage it."""
    if not User.objects.managed_by(office).filter(username=username).exists():
        return None
    return reset(username=username)
