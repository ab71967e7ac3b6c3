from django import template

from shuanglian.lib import idcard, phone

register = template.Library()


@register.filter
def mask_id(value):
    return idcard.mask(value or "")


@register.filter
def mask_phone(value):
    return phone.mask(value or "")
