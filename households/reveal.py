"""显示完整: a whole resident ID or phone, shown on request to those who may see it, each time logged.

Every page masks IDs and phones (templatetags `mask_id`, `mask_phone`). The offices that keep the
rosters (shuanglian.access.may_see_whole_ids, the same rule as the roster export) may ask for one
whole value with a POST; the page is rendered again with that value, and a RevealLog row says
who saw what of whom, when.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from shuanglian.access import may_see_whole_ids

from .models import RevealLog

# The values a page may reveal, per object type.
HOUSEHOLD_FIELDS = ("head_id_number", "phone")
CADRE_FIELDS = ("phone",)


def reveal(*, user, obj, field: str) -> str:
    """The whole value of `obj.field` for `user`, logged.

    The caller found `obj` through its `visible_to(user)` queryset (outsiders get 404 there);
    a role that may not see whole values gets 403 here."""
    if not may_see_whole_ids(user):
        raise PermissionDenied
    RevealLog.objects.create(
        user=user, object_type=obj._meta.label_lower, object_id=obj.pk, subject=str(obj)[:64], field=field
    )
    return getattr(obj, field)


def from_post(request, obj, fields: tuple[str, ...]) -> dict[str, str]:
    """{field: whole value} for the field a 显示完整 button posted; an unknown field is a 404."""
    field = request.POST.get("field", "")
    if field not in fields:
        raise Http404
    return {field: reveal(user=request.user, obj=obj, field=field)}
