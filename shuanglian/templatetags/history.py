from django import template
from django.urls import reverse

from shuanglian.access import may_search_history
from shuanglian.lib import history

register = template.Library()


@register.inclusion_tag("history/change_log.html", takes_context=True)
def change_log(context, obj, *related, limit=10):
    """The 操作记录 section of an object's page: its last changes, and its related rows' (say a
    household's "members"), who made them and each field's old → new, IDs and phones masked.

    Related rows are reached through the object's own _meta, so a lower app's page names them
    without importing anything."""
    histories = [obj.history.all()]
    for name in related:
        field = obj._meta.get_field(name)
        histories.append(field.related_model.history.filter(**{field.field.attname: obj.pk}))
    user = context["request"].user
    return {
        "entries": history.recent(*histories, limit=limit),
        "limit": limit,
        "many": bool(related),
        # Offices search the whole history (dashboard/history.py) from here.
        "search": may_search_history(user)
        and f"{reverse('history')}?type={obj._meta.model_name}&object={obj.pk}",
    }
