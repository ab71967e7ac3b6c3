from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("counted_at.html")
def counted_at(when, query=""):
    """The note under city- or province-wide figures served from the cache
    (shuanglian/lib/cached_counts.py): when they were counted, and a recount link that keeps
    the page's own query string. Nothing for live figures (when is None)."""
    return {"when": when, "minutes": max(1, settings.COVERAGE_CACHE_SECONDS // 60), "query": query}
