import datetime
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Household, Region
from households.selectors import get_household_for_user
from pairing.models import Cadre, Pairing
from shuanglian.access import LEVEL_DIGITS, can_write, is_unit_liaison, require_write, scope_prefix
from shuanglian.lib import params
from shuanglian.lib.codes import prefix_range_q
from shuanglian.lib.excel import xlsx_response
from shuanglian.lib.pagination import page_of, query_without

from . import services, timeline, worklists

# Sections other apps add to the entry page (the demand rows): visits must not import them.
from .entry import all_valid, build_all
from .forms import UnitVisitForm, VisitForm
from .models import UnitVisit, Visit, village_links_in_scope


@require_write(Visit)
def visit_new(request):
    """Keyboard-first entry; "save and next" keeps the village and cadre for the next page of the diary."""
    village = params.parse_code(request.GET.get("village"))
    cadre = params.parse_int(request.GET.get("cadre"), min_value=1, max_value=2**31 - 1)
    # A worklist row's link names the household too. Like the cadre it is only an initial value:
    # the chooser's queryset is the user's visible households, so an outsider's id shows nothing.
    household = params.parse_int(request.GET.get("household"), min_value=1, max_value=2**31 - 1)

    def households():
        return Household.objects.visible_to(request.user).select_related("village")

    def cadres():
        return Cadre.objects.visible_to(request.user).active().select_related("unit")

    initial = {name: str(value) for name, value in (("cadre", cadre), ("household", household)) if value}
    form = VisitForm(
        request.POST or None, households=households, cadres=cadres, initial=initial, village=village
    )
    sections = build_all(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and all_valid(sections):
        data = dict(form.cleaned_data)
        household = data.pop("household")
        try:
            # The service saves the sections too, and only if this press saved the visit. No cadre
            # chosen: it takes the household's responsible cadre that day, in the query that checks
            # the pairing.
            visit, created = services.submit_visit(
                household=household, cadre=data.pop("cadre"), by=request.user, sections=sections, **data
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
            if error.code == "key_reused":  # a deliberate second save of this page is a new record
                form.data = form.data.copy()
                form.data["submission_key"] = str(uuid.uuid4())
        else:
            if created:
                messages.success(
                    request,
                    _("已保存 %(cadre)s 对 %(household)s 的走访")
                    % {"cadre": visit.cadre.name, "household": household},
                )
            else:
                messages.info(request, _("这份走访刚才已经保存，重复的提交未再保存"))
            if "next" in request.POST:
                return redirect(
                    f"{reverse('visits:new')}?village={household.village_id}&cadre={visit.cadre_id}"
                )
            return redirect("visits:household", household_pk=visit.household_id)
    return render(request, "visits/visit_form.html", {"form": form, "sections": sections})


def _responsible_cadre(household, day):
    pairing = (
        Pairing.objects.on(day)
        .responsible()
        .filter(household=household)
        .select_related("cadre__unit")
        .first()
    )
    return pairing.cadre if pairing else None


@require_write(Visit)
def responsible_cadre(request, household_pk):
    """Whom an empty 走访干部 means on the entry page: the household's responsible cadre on
    ?on=YYYY-MM-DD (the visit's date; today if absent or not a date), shown before saving."""
    household = get_household_for_user(request.user, household_pk)
    day = params.parse_date(request.GET.get("on"), default=timezone.localdate(), latest=datetime.date.max)
    cadre = _responsible_cadre(household, day)
    return JsonResponse({"cadre": cadre.choice_label if cadre else None})


def _page(request, queryset):
    """A page of `queryset` and the query string to keep in the pagination links."""
    return page_of(request, queryset), query_without(request)


@login_required
def visit_list(request):
    visits = Visit.objects.visible_to(request.user)
    prefix = scope_prefix(request.user)
    if prefix and len(prefix) >= LEVEL_DIGITS["township"]:
        # The range beside visible_to's LIKE: PostgreSQL then estimates a township's households
        # right and reads them without parallel workers, whose start-up was most of the query
        # (issue 18). Not for a county or wider: there the tighter estimate chose worse plans.
        visits = visits.filter(prefix_range_q("household__village_id", prefix))
    month = params.parse_month(request.GET.get("month"))
    if month:
        visits = visits.in_month(*month)
    mode = params.parse_choice(request.GET.get("mode"), Visit.Mode.values)
    if mode:
        visits = visits.filter(mode=mode)
    kind = params.parse_choice(request.GET.get("kind"), ("home", "contact"))
    if kind == "home":
        visits = visits.home_visits()
    elif kind == "contact":
        visits = visits.contacts()
    order = ("-visited_on", "-pk")
    page, query = _page(request, visits.order_by(*order).values_list("pk", flat=True))
    # The page's ids are picked from the scope alone, and only those rows are joined to their
    # household, village, cadre and clerk (still one query: the page is a subquery). Joining first
    # read the cadre of every visit in the township (2.5k at scale 1.0) to show 50 (issue 18).
    page.object_list = (
        Visit.objects.filter(pk__in=page.object_list)
        .select_related("household__village", "cadre", "recorded_by")
        .order_by(*order)
    )
    context = {
        "page": page,
        "query": query,
        "modes": Visit.Mode.choices,
        "month": _month_text(month),
        "can_add": can_write(request.user, Visit),
    }
    return render(request, "visits/visit_list.html", context)


@login_required
def household_visits(request, household_pk):
    household = get_household_for_user(request.user, household_pk)
    visits = household.visits.select_related("cadre__unit", "recorded_by").order_by("-visited_on", "-pk")
    return render(
        request,
        "visits/household_visits.html",
        {"household": household, "visits": timeline.with_extras(visits), "extras": timeline.templates()},
    )


@require_write(UnitVisit)
def unit_visit_new(request):
    """Unit liaisons enter their unit's village visits; township staff those of units linked to their
    villages."""
    links = (
        village_links_in_scope(request.user)
        .select_related("unit", "village")
        .order_by("ended_on", "unit__name", "village_id")
    )
    cadres = (
        Cadre.objects.visible_to(request.user).active().select_related("unit").order_by("unit_id", "name")
    )
    form = UnitVisitForm(request.POST or None, links=links, cadres=cadres)
    if request.method == "POST" and form.is_valid():
        link = form.cleaned_data["link"]
        try:
            _visit, created = services.submit_unit_visit(
                unit=link.unit,
                village=link.village,
                visited_on=form.cleaned_data["visited_on"],
                cadres=form.cleaned_data["cadres"],
                activities=form.cleaned_data["activities"],
                by=request.user,
                submission_key=form.cleaned_data["submission_key"],
            )
        except ValidationError as error:
            form.add_error(None, error)
            if error.code == "key_reused":  # a deliberate second save of this page is a new record
                form.data = form.data.copy()
                form.data["submission_key"] = str(uuid.uuid4())
        else:
            if created:
                messages.success(
                    request,
                    _("已保存 %(unit)s 到 %(village)s 的走访")
                    % {"unit": link.unit.name, "village": link.village.name},
                )
            else:
                messages.info(request, _("这次联村走访刚才已经保存，重复的提交未再保存"))
            return redirect("visits:unit_visit_list")
    return render(request, "visits/unit_visit_form.html", {"form": form})


@login_required
def unit_visit_list(request):
    visits = UnitVisit.objects.visible_to(request.user).select_related("unit", "village", "recorded_by")
    month = params.parse_month(request.GET.get("month"))
    if month:
        visits = visits.filter(visited_on__year=month[0], visited_on__month=month[1])
    page, query = _page(request, visits.prefetch_related("cadres").order_by("-visited_on", "-pk"))
    context = {
        "page": page,
        "query": query,
        "month": _month_text(month),
        "can_add": can_write(request.user, UnitVisit),
    }
    return render(request, "visits/unit_visit_list.html", context)


def _month_text(month: tuple[int, int] | None) -> str:
    """The month filter as the <input type="month"> shows it."""
    return f"{month[0]:04d}-{month[1]:02d}" if month else ""


def _as_of(request) -> datetime.date:
    """The worklists' date: ?on=YYYY-MM-DD from the campaign's floor to today, else today."""
    today = timezone.localdate()
    on = request.GET.get("on", "")
    return min(params.parse_date(on, default=today, latest=datetime.date.max), today)


@login_required
def worklist_summary(request):
    on = _as_of(request)
    counts, counted_at = worklists.counts_cached(request.user, on, refresh="refresh" in request.GET)
    context = {
        "on": on,
        "counts": counts,
        "stale_days": settings.VISIT_STALE_DAYS,
        "quarter_start": worklists.quarter_start(on),
        "explicit_date": "on" in request.GET,
        "counted_at": counted_at,
    }
    return render(request, "visits/worklists.html", context)


def _narrowed_to(request) -> Region | None:
    """?region=<county or township code> narrows a wide worklist to one place of the user's scope
    (404 outside)."""
    code = params.parse_code(request.GET.get("region"))
    if not code:
        return None
    places = Region.objects.visible_to(request.user).filter(
        level__in=(Region.Level.COUNTY, Region.Level.TOWNSHIP)
    )
    return get_object_or_404(places, code=code)


@login_required
def worklist(request, kind):
    if kind not in worklists.KINDS:
        raise Http404
    on = _as_of(request)
    place = _narrowed_to(request)
    within = place.prefix if place else ""
    context = {
        "kind": kind,
        "on": on,
        "stale_days": settings.VISIT_STALE_DAYS,
        "quarter_start": worklists.quarter_start(on),
    }
    if worklists.shows_breakdown(request.user) and not within:
        return _worklist_by_county(request, kind, on, context)
    rows = {  # the county quotas are read only by the two lists that need them
        "stale": lambda: worklists.stale_households(request.user, on, within),
        "quarter": lambda: worklists.uncontacted_this_quarter(request.user, on, within),
        "cadres": lambda: worklists.cadres_behind(request.user, on, worklists.Quotas.load(), within),
        "units": lambda: worklists.links_behind(request.user, on, worklists.Quotas.load(), within),
    }[kind]()
    # A county's (or wider, narrowed) list spans townships: it names each row's township.
    prefix = within or scope_prefix(request.user)
    show_township = is_unit_liaison(request.user) or prefix is None or len(prefix) < LEVEL_DIGITS["township"]
    if params.parse_choice(request.GET.get("format"), ("xlsx",)):
        return _worklist_xlsx(kind, on, place, rows, show_township)
    page, query = _page(request, rows)
    return render(
        request,
        "visits/worklist.html",
        context
        | {
            "page": page,
            "query": query,
            "place": place,
            "show_township": show_township,
            "can_add": can_write(request.user, Visit),
        },
    )


def _worklist_xlsx(kind, on, place, rows, show_township):
    """The whole list (every page) as a workbook, with the page's columns."""
    township = [_("乡镇")] if show_township else []
    if kind in ("stale", "quarter"):
        headers = [_("户主"), *township, _("村"), _("村民小组"), _("帮扶责任人"), _("最近走访")]
        lines = (
            [
                h.head_name,
                *([h.village.parent.name if h.village.parent_id else ""] if show_township else []),
                h.village.name,
                h.group,
                h.cadre_name or "",
                h.last_visit or _("从未走访"),
            ]
            for h in rows
        )
    elif kind == "cadres":
        headers = [_("干部"), _("单位"), _("未达标的联系户")]
        lines = ([r["cadre__name"], r["cadre__unit__name"], r["households_behind"]] for r in rows)
    else:
        headers = [_("单位"), *township, _("联系村"), _("今年已走访"), _("截至该日应走访")]
        lines = (
            [
                link.unit.name,
                *([link.village.parent.name if link.village.parent_id else ""] if show_township else []),
                link.village.name,
                link.done,
                link.owed,
            ]
            for link in rows
        )
    title = render_to_string(
        "visits/_worklist_name.html", {"kind": kind, "stale_days": settings.VISIT_STALE_DAYS}
    )
    title = title.strip() + (f"_{place.name}" if place else "")
    return xlsx_response(f"{title}_{on:%Y%m%d}.xlsx", title, [str(h) for h in headers], lines)


def _worklist_by_county(request, kind, on, context):
    """A city's or the province's worklist: the figure per county, each linking to that county's list."""
    counts, counted_at = worklists.per_county_cached(request.user, on, kind, refresh="refresh" in request.GET)
    counties = Region.objects.select_related("parent").in_bulk(
        [prefix.ljust(12, "0") for prefix, _ in counts]
    )
    rows = [(counties[prefix.ljust(12, "0")], n) for prefix, n in counts]
    context |= {"by_county": rows, "total": sum(n for _, n in counts), "counted_at": counted_at}
    return render(request, "visits/worklist_by_county.html", context)
