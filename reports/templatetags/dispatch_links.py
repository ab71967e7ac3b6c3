"""{% dispatch_links %}: the quarterly dispatch, bulletins and annual summary, for those who may open them."""

from django import template

from reports.bulletins import office_of

register = template.Library()


@register.inclusion_tag("reports/dispatch_links.html", takes_context=True)
def dispatch_links(context):
    return {"may_dispatch": office_of(context["request"].user) is not None}
