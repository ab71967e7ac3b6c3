"""What the signed-in user may do, for templates: role rules stay in access.py, not in templates."""

from . import access


def nav(request):
    user = request.user
    return {"nav": {"may_unlock_users": access.may_unlock_users(user)}}
