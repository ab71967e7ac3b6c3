"""Sessions that end when the desk is left: an idle limit on top of Django's absolute one."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from shuanglian.access import second_factor_required

# Writing the session on every request would cost a database write per page; once a minute is
# precise enough for a limit counted in hours.
_TOUCH_EVERY_SECONDS = 60
_LAST_SEEN = "last_seen"


def mark_seen(sender, request, user, **kwargs):
    """At login (a `user_logged_in` receiver): the session starts its idle clock without an extra
    write on the first page."""
    request.session[_LAST_SEEN] = int(time.time())


class IdleSessionMiddleware:
    """Log out a signed-in user whose previous request is older than SESSION_IDLE_SECONDS.

    SESSION_COOKIE_AGE bounds a session from the login on (the session is not refreshed on every
    request), so together the two give "2 idle hours, at most 12 hours".
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(_LAST_SEEN)
            if last_seen is not None and now - last_seen > settings.SESSION_IDLE_SECONDS:
                logout(request)
            elif last_seen is None or now - last_seen >= _TOUCH_EVERY_SECONDS:
                request.session[_LAST_SEEN] = now
        return self.get_response(request)


class SecondFactorMiddleware:
    """Where the second factor is required, a session without it reaches only the binding page.

    An account that has no authenticator yet is sent to bind one; one that has (bound after this
    session began) logs in again with its code.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if second_factor_required(user) and not user.is_verified():
            exempt = {reverse("accounts:otp_setup"), reverse("logout")}
            if request.path not in exempt and not request.path.startswith(
                "/" + settings.STATIC_URL.lstrip("/")
            ):
                if user_has_device(user):
                    logout(request)
                    return redirect(f"{reverse('login')}?next={request.path}")
                return redirect("accounts:otp_setup")
        return self.get_response(request)
