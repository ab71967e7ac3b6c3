from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shuanglian import indicators
from shuanglian.access import (
    REGION_ROLES,
    can_write,
    may_see_whole_ids,
    require_roles,
    require_whole_ids,
    require_write,
)
from shuanglian.lib import params
from shuanglian.lib.pagination import page_of, query_without
from shuanglian.lib.versions import StaleVersion
from shuanglian.lib.widgets import lookup_response

from . import floors, moves, reveal, selectors
from .forms import HouseholdFilterForm, HouseholdForm
from .models import Household, Member, Region
from .selectors import get_household_for_user


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
    return render(
        request,
        "households/household_list.html",
        {
            "form": form,
            "page": page_of(request, households),
            "query": query_without(request),
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
                if "village" in form.changed_data and not form.replayed:
                    moves.moved([household.pk])
        except StaleVersion as refusal:  # saved by someone else since the form's own check
            form.add_error(None, refusal)
        else:
            if form.replayed:
                messages.info(request, _("这份修改刚才已经保存，重复的提交未再保存"))
            else:
                messages.success(request, _("已保存 %(name)s 的信息") % {"name": household})
            return redirect("households:detail", pk=household.pk)
    return render(request, "households/household_form.html", {"form": form, "household": household})


@require_roles(*REGION_ROLES)
def region_browse(request, code=None):
    """Drill down from the user's scope to villages, with counts aggregated in the database."""
    region = selectors.start_region(request.user, code)
    children = list(region.children.order_by("code"))
    rows, totals = selectors.region_rows(region, children)
    context = {
        "region": region,
        "crumbs": region.breadcrumbs(request.user),
        "rows": rows,
        "totals": totals,
        "indicators": {key: indicators.get(key) for key in selectors.REGION_KEYS},
    }
    return render(request, "households/region_browse.html", context)
