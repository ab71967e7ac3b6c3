"""What the signed-in user may do, for templates: role rules stay in access.py, not in templates.

Templates test `nav.<rule>`, never a role: base.html's menu, the home page and the household
page show a link only to those who may follow it.
"""

from . import access


def nav(request):
    user = request.user
    signed_in = bool(user.is_authenticated and user.is_active)
    return {
        "nav": {
            # The region-scoped pages (区划, 结对方案, 覆盖情况): a unit liaison's scope is its unit.
            "reads_regions": signed_in and access.reads_regions(user),
            "may_import": access.may_open_imports(user),
            "may_open_admin": signed_in and user.is_staff,
            "may_unlock_users": access.may_unlock_users(user),
            # The household page and the home page (apps below visits) show 录入走访 with it.
            "may_enter_visits": access.may_enter_visits(user),
        }
    }
