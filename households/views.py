from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Substr
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shuanglian.access import (
    LEVEL_DIGITS,
    REGION_ROLES,
    can_write,
    may_see_whole_ids,
    require_roles,
    require_whole_ids,
    require_write,
)
from shuanglian.lib import params
from shuanglian.lib.versions import StaleVersion
from shuanglian.lib.widgets import lookup_response

from . import floors, moves, reveal
from .choices import POOR_CATEGORIES
from .forms import HouseholdFilterForm, HouseholdForm
from .models import Household, Member, Region


def get_household_for_user(user, pk) -> Household:
    """The household if the user may see it, else 404 (never tell outsiders it exists)."""
    return get_object_or_404(Household.objects.visible_to(user).select_related("village"), pk=pk)


@login_required
def household_list(request):
    form = HouseholdFilterForm(request.GET or None, user=request.user)
    households = form.filter(Household.objects.visible_to(request.user))
    member_counts = (
        Member.objects.filter(household=OuterRef("pk"))
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values("n")
    )
    households = (
        households.select_related("village")
        # A correlated count, not a GROUP BY over every member: PostgreSQL evaluates it for
        # the page's rows only, after the sort and LIMIT (3 s → ms for a province).
        .annotate(size=Coalesce(Subquery(member_counts), 0))
        # Aggregating queries drop Meta.ordering; pages need a stable order.
        .order_by("village_id", "group", "head_name", "pk")
    )
    page = Paginator(households, settings.PAGE_SIZE).get_page(params.parse_page(request.GET.get("page")))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "households/household_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "can_add": can_write(request.user, Household),
        },
    )


@login_required
def household_lookup(request):
    """The household chooser's answers (name, member name, ID tail or village), within scope."""
    households = Household.objects.visible_to(request.user)
    village = params.parse_code(request.GET.get("village"))
    if village:
        households = households.filter(village_id=village)
    text = params.parse_text(request.GET.get("q"))
    households = (
        households.search(text, villages=True)
        .select_related("village")
        .order_by("village_id", "group", "head_name", "pk")
    )
    return lookup_response(households if text else households.none())


@login_required
def village_lookup(request):
    """The village chooser's answers (village or township name, or the code's leading digits), within
    scope."""
    text = params.parse_text(request.GET.get("q"))
    if not text:
        return lookup_response(Region.objects.none())
    villages = Region.objects.visible_to(request.user).villages().select_related("parent")
    found = (
        Q(code__startswith=text)
        if text.isdigit()
        else Q(name__contains=text) | Q(parent__name__contains=text)
    )
    return lookup_response(villages.filter(found).order_by("code"))


@login_required
def household_detail(request, pk, revealed=None):
    household = get_household_for_user(request.user, pk)
    members = list(household.members.all())
    context = {
        "household": household,
        "members": members,
        "alerts": floors.alerts(household, members),
        "ancestors": household.village.ancestors(),
        "can_edit": can_write(request.user, Household),
        "can_reveal": may_see_whole_ids(request.user),
        "revealed": revealed or {},
    }
    return render(request, "households/household_detail.html", context)


@require_whole_ids
@require_POST
@never_cache
def household_reveal(request, pk):
    """显示完整: the household page again, with the one whole value asked for (and logged)."""
    household = get_household_for_user(request.user, pk)
    return household_detail(
        request, pk, revealed=reveal.from_post(request, household, reveal.HOUSEHOLD_FIELDS)
    )


@require_write(Household)
def household_edit(request, pk):
    household = get_household_for_user(request.user, pk)
    form = HouseholdForm(request.POST or None, instance=household, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                form.save()
                if "village" in form.changed_data:
                    moves.moved([household.pk])
        except StaleVersion as refusal:  # saved by someone else since the form's own check
            form.add_error(None, refusal)
        else:
            messages.success(request, _("已保存 %(name)s 的信息") % {"name": household})
            return redirect("households:detail", pk=household.pk)
    return render(request, "households/household_form.html", {"form": form, "household": household})


@require_roles(*REGION_ROLES)
def region_browse(request, code=None):
    """Drill down from the user's scope to villages, with counts aggregated in the database."""
    user = request.user
    if code is None:
        code = "620000000000" if user.is_superuser else user.region_id
    region = get_object_or_404(Region.objects.visible_to(user), code=code)
    children = list(region.children.order_by("code"))
    rows = _child_counts(region, children)
    return render(
        request,
        "households/region_browse.html",
        {"region": region, "crumbs": region.breadcrumbs(user), "rows": rows},
    )


def _child_counts(region: Region, children: list[Region]) -> list[dict]:
    """Villages, poor villages, households and poor households per child, in two GROUP BY queries.

    Pairing coverage per region is the pairing app's coverage page.
    """
    if not children:
        return []
    digits = LEVEL_DIGITS[children[0].level]
    households = (
        Household.objects.filter(village__code__startswith=region.prefix)
        .annotate(child=Substr("village_id", 1, digits))
        .values("child")
        .annotate(households=Count("pk"), poor=Count("pk", filter=Q(category__in=POOR_CATEGORIES)))
    )
    villages = (
        Region.objects.villages()
        .within(region.prefix)
        .annotate(child=Substr("code", 1, digits))
        .values("child")
        .annotate(villages=Count("code"), poor_villages=Count("code", filter=Q(is_poor=True)))
    )
    rows = {
        child.prefix: {"region": child, "households": 0, "poor": 0, "villages": 0, "poor_villages": 0}
        for child in children
    }
    for counts in (households, villages):
        for row in counts:
            if row["child"] in rows:
                rows[row.pop("child")].update(row)
    return list(rows.values())
