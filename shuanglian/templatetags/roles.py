"""Role checks for templates, so a page shows a link only to those who may follow it (the rules
themselves live in shuanglian.access)."""

from django import template

from shuanglian import access

register = template.Library()


@register.filter
def reads_regions(user) -> bool:
    return access.reads_regions(user)
