"""A list page's rows: the page that ?page= asks for, and the other parameters its links carry."""

from django.conf import settings
from django.core.paginator import Page, Paginator

from . import params


def page_of(request, rows, *, per_page: int | None = None, count: int | None = None) -> Page:
    """The page of `rows` named by ?page= (parsed; out of range gives the last page). `count`,
    where the caller has counted the rows already, spares the paginator its own COUNT."""
    paginator = Paginator(rows, per_page or settings.PAGE_SIZE)
    if count is not None:
        paginator.count = count
    return paginator.get_page(params.parse_page(request.GET.get("page")))


def query_without(request, *names: str) -> str:
    """The query string of the request without ?page= (and `names`): what page links append to."""
    query = request.GET.copy()
    for name in ("page", *names):
        query.pop(name, None)
    return query.urlencode()
