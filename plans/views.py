from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from households.models import Region
from households.selectors import get_household_for_user
from shuanglian.access import can_write, require_write
from shuanglian.lib import dates, params
from shuanglian.lib.pagination import page_of, query_without

from . import services
from .forms import HouseholdPlanForm, VillagePlanForm
from .models import HouseholdPlan, VillagePlan


def _year(request) -> int:
    """The plan year asked for (GET or POST), else this year."""
    this_year = timezone.localdate().year
    raw = request.POST.get("year") or request.GET.get("year")
    return params.parse_int(raw, default=this_year, min_value=dates.floor().year, max_value=this_year + 1)


def _years():
    return list(range(timezone.localdate().year + 1, dates.floor().year - 1, -1))


def _village_for_user(user, code) -> Region:
    return get_object_or_404(Region.objects.visible_to(user).villages(), code=code)


@login_required
def plan_list(request):
    year = _year(request)
    kind = params.parse_choice(request.GET.get("kind"), ("village", "household"), default="household")
    if kind == "village":
        plans = (
            VillagePlan.objects.visible_to(request.user)
            .filter(year=year)
            .select_related("village", "updated_by")
        )
        plans = plans.order_by("village_id")
    else:
        plans = HouseholdPlan.objects.visible_to(request.user).filter(year=year)
        plans = plans.select_related("household__village", "updated_by").order_by(
            "household__village_id", "household_id"
        )
    page = page_of(request, plans)
    context = {"page": page, "kind": kind, "year": year, "years": _years(), "query": query_without(request)}
    return render(request, "plans/plan_list.html", context)


@login_required
def village_plan(request, code):
    village = _village_for_user(request.user, code)
    year = _year(request)
    plan = VillagePlan.objects.filter(village=village, year=year).select_related("updated_by").first()
    try:
        services.check_plannable_village(village)
        refusal = None
    except ValidationError as error:
        refusal = error.messages[0]
    context = {
        "village": village,
        "year": year,
        "years": _years(),
        "plan": plan,
        "refusal": refusal,
        "versions": plan.versions.select_related("changed_by") if plan else [],
        "can_edit": can_write(request.user, VillagePlan),
    }
    return render(request, "plans/village_plan.html", context)


@require_write(VillagePlan)
def village_plan_edit(request, code):
    village = _village_for_user(request.user, code)
    year = _year(request)
    plan = VillagePlan.objects.filter(village=village, year=year).first()
    form = VillagePlanForm(request.POST or None, plan=plan)
    return _edit_plan(
        request,
        form,
        year,
        subject=village,
        page=reverse("plans:village", args=[village.code]),
        save=lambda data, version: services.save_village_plan(
            village=village, year=year, data=data, by=request.user, expected_version=version
        ),
        title=_("%(subject)s %(year)s 年村帮扶计划"),
    )


@login_required
def household_plan(request, pk):
    household = get_household_for_user(request.user, pk)
    year = _year(request)
    plan = HouseholdPlan.objects.filter(household=household, year=year).select_related("updated_by").first()
    context = {
        "household": household,
        "year": year,
        "years": _years(),
        "plan": plan,
        "versions": plan.versions.select_related("changed_by") if plan else [],
        "can_edit": can_write(request.user, HouseholdPlan),
    }
    return render(request, "plans/household_plan.html", context)


@require_write(HouseholdPlan)
def household_plan_edit(request, pk):
    household = get_household_for_user(request.user, pk)
    year = _year(request)
    plan = HouseholdPlan.objects.filter(household=household, year=year).first()
    if plan:
        form = HouseholdPlanForm(request.POST or None, plan=plan)
    else:
        form = HouseholdPlanForm.for_new_plan(household, request.POST or None)
    return _edit_plan(
        request,
        form,
        year,
        subject=household,
        page=reverse("plans:household", args=[household.pk]),
        save=lambda data, version: services.save_household_plan(
            household=household, year=year, data=data, by=request.user, expected_version=version
        ),
        title=_("%(subject)s %(year)s 年帮扶计划"),
    )


def _edit_plan(request, form, year, *, subject, page, save, title):
    """The edit flow both plan kinds share: save through the service (which checks the version the
    form was opened at), then back to the plan's page for that year."""
    if request.method == "POST" and form.is_valid():
        try:
            _plan, version = save(form.plan_data(), form.cleaned_data["version"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if version is None:  # a second press, or a save that changed nothing
                messages.info(request, _("与已保存的计划相同，未再保存"))
            else:
                messages.success(
                    request, _("已保存 %(subject)s %(year)s 年帮扶计划") % {"subject": subject, "year": year}
                )
            return redirect(f"{page}?year={year}")
    context = {
        "form": form,
        "title": title % {"subject": subject, "year": year},
        "year": year,
        "cancel": page,
    }
    return render(request, "plans/plan_form.html", context)
