from django import template

from shuanglian.lib import history

register = template.Library()


@register.inclusion_tag("history/change_log.html")
def change_log(obj, *related, limit=10):
    """The 操作记录 section of an object's page: its last changes, and its related rows' (say a
    household's "members"), who made them and each field's old → new, IDs and phones masked.

    Related rows are reached through the object's own _meta, so a lower app's page names them
    without importing anything."""
    histories = [obj.history.all()]
    for name in related:
        field = obj._meta.get_field(name)
        histories.append(field.related_model.history.filter(**{field.field.attname: obj.pk}))
    return {"entries": history.recent(*histories, limit=limit), "limit": limit, "many": bool(related)}
