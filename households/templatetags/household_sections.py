"""The pages' parts that apps above households registered with households.sections."""

from django import template
from django.utils.safestring import mark_safe

from households import sections

register = template.Library()


@register.simple_tag(takes_context=True)
def household_sections(context, household):
    """Each registered section of the household page, in order."""
    parts = []
    for section in sections.SECTIONS:
        page = context.template.engine.get_template(section.template)
        parts.append(page.render(context.new(section.data(context, household))))
    return mark_safe("".join(parts))


@register.simple_tag(takes_context=True)
def page_links(context, place, obj):
    """The registered links at `place` (households.sections.PLACES) the user may follow: (label, URL)."""
    return sections.links_for(place, context["user"], obj)
