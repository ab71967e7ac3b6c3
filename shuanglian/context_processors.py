"""What the signed-in user may do, for templates: role rules stay in access.py, not in templates."""

from . import access


def nav(request):
    user = request.user
    # By label: the household page and the home page (apps below visits) show 录入走访 with it.
    may_enter_visits = bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role in access.WRITE_ROLES["visits.visit"])
    )
    return {"nav": {"may_unlock_users": access.may_unlock_users(user), "may_enter_visits": may_enter_visits}}
