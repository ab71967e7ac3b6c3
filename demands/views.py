import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.selectors import get_household_for_user
from shuanglian.access import may_raise_demand
from shuanglian.lib.excel import xlsx_response
from shuanglian.lib.pagination import page_of, query_without

from . import selectors, services
from .forms import ACTION_PROMPTS, ActionForm, DemandFilterForm, RaiseDemandForm
from .models import Demand


def _outdated_on_last_page(paginator, page, demands) -> bool:
    """Whether a cached count no longer matches the rows, as seen from its last page: that page
    holds fewer rows than the count leaves for it, or a row follows it. Other pages cannot tell,
    and need not: their rows are live and their links lead on."""
    if page.number != paginator.num_pages:
        return False
    expected = paginator.count - (page.number - 1) * paginator.per_page
    return len(page.object_list) != expected or demands[page.end_index() : page.end_index() + 1].exists()


@login_required
def demand_list(request):
    """The ledger for the user's scope; `?mine=1&overdue=1` is the "overdue at my level" worklist."""
    form = DemandFilterForm(request.GET or None)
    scoped = Demand.objects.visible_to(request.user)
    (statuses, overdue_count, total), counted_at = selectors.ledger_summary(
        request.user, form, refresh="refresh" in request.GET
    )
    demands = (
        form.filter(scoped, request.user)
        .select_related("household__village")
        .with_responsible_cadre()
        .order_by("-raised_on", "-pk")
    )
    # The summary has counted this list (all statuses, or the chosen one's figure): a second COUNT
    # over every demand of a province or county would cost as much as the summary itself. For a
    # city or the province that count is as old as the cached summary; the rows are live.
    chosen = form.cleaned_data["status"] if form.is_valid() else ""
    page = page_of(
        request, demands, count=next((n for value, _label, n in statuses if value == chosen), total)
    )
    if counted_at is not None and _outdated_on_last_page(page.paginator, page, demands):
        # Demands moved since the count (raised, escalated here or away): count live, so that
        # the last rows can be reached and 共 N 件 is true.
        page = page_of(request, demands)
    context = {
        "form": form,
        "page": page,
        "query": query_without(request, "refresh"),  # a recount is asked for once, not carried on
        "statuses": statuses,
        "overdue_count": overdue_count,
        "today": timezone.localdate(),
        "counted_at": counted_at,
    }
    return render(request, "demands/demand_list.html", context)


@login_required
def demand_export(request):
    """The filtered ledger as .xlsx, streamed from one query."""
    form = DemandFilterForm(request.GET or None)
    demands = (
        form.filter(Demand.objects.visible_to(request.user), request.user)
        .with_responsible_cadre()
        .order_by("-raised_on", "-pk")
    )
    today = timezone.localdate()
    labels = {"level": dict(Demand.Level.choices), "category": dict(Demand.Category.choices)}
    rows = (
        (
            row["raised_on"],
            row["household__village__name"],
            row["household__head_name"],
            str(labels["category"][row["category"]]),
            row["text"],
            str(labels["level"][row["level"]]),
            row["status"],
            row["due_on"],
            _("是") if row["status"] in Demand.OPEN_STATUSES and row["due_on"] < today else "",
            row["responsible_cadre_name"] or "",
        )
        for row in demands.values(
            "raised_on",
            "household__village__name",
            "household__head_name",
            "category",
            "text",
            "level",
            "status",
            "due_on",
            "responsible_cadre_name",
        ).iterator(chunk_size=2000)
    )
    headers = [
        "提出日期",
        "村",
        "户主",
        "类别",
        "诉求内容",
        "当前层级",
        "状态",
        "办理期限",
        "逾期",
        "帮扶责任人",
    ]
    return xlsx_response(f"诉求台账_{today:%Y%m%d}.xlsx", "诉求台账", headers, rows)


@login_required
def demand_detail(request, pk):
    """The demand and its whole path, with a form for each step the user may take now."""
    demand = selectors.get_demand_for_user(request.user, pk)
    actions = list(demand.actions.select_related("by__region", "by__unit"))
    seen = max((action.pk for action in actions), default=0)
    forms = [
        (
            kind,
            ACTION_PROMPTS[kind],
            ActionForm(initial={"kind": kind, "seen": seen}, auto_id=f"id_{index}_%s"),
        )
        for index, kind in enumerate(services.allowed_actions(request.user, demand))
    ]
    context = {
        "demand": demand,
        "actions": actions,
        "forms": forms,
        "acting_for": services.acting_for(request.user, demand) if forms else "",
        "today": timezone.localdate(),
    }
    return render(request, "demands/demand_detail.html", context)


@require_POST
@login_required
def demand_act(request, pk):
    demand = selectors.get_demand_for_user(request.user, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        if not services.may_act(request.user, demand):
            raise PermissionDenied  # may read the demand, but it is not at this user's level
        messages.error(request, _("无效的办理环节"))
        return redirect("demands:detail", pk=demand.pk)
    kind = form.cleaned_data["kind"]
    try:
        services.ACTIONS[kind](
            demand=demand, by=request.user, text=form.cleaned_data["text"], seen=form.cleaned_data["seen"]
        )
    except services.AlreadyDone:
        # The second press of a double click: the first one did it, and the page shows it.
        messages.info(request, _("已%(action)s，重复的提交未再办理") % {"action": kind})
    except ValidationError as error:
        if getattr(error, "code", None) == "level":
            raise PermissionDenied from None  # may read the demand, but it is not at this user's level
        messages.error(request, "；".join(error.messages))
    else:
        messages.success(request, _("已%(action)s") % {"action": kind})
    return redirect("demands:detail", pk=demand.pk)


@login_required
def demand_raise(request, household_pk):
    """提出诉求 for one household outside a visit. The household page shows this form; this page
    shows it again with the errors, so nothing typed is lost."""
    if not may_raise_demand(request.user):
        raise PermissionDenied
    household = get_household_for_user(request.user, household_pk)
    form = RaiseDemandForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            _demand, created = services.submit_demand(
                household=household,
                category=data["category"],
                text=data["text"],
                raised_on=data["raised_on"],
                submission_key=data["submission_key"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
            if getattr(error, "code", None) == "key_reused":  # a deliberate second save is a new demand
                form.data = form.data.copy()
                form.data["submission_key"] = str(uuid.uuid4())
        else:
            if created:
                messages.success(request, _("已登记 %(household)s 的诉求") % {"household": household})
            else:
                messages.info(request, _("这条诉求刚才已经登记，重复的提交未再登记"))
            return redirect(reverse("households:detail", args=[household.pk]) + "#demands")
    return render(request, "demands/demand_raise.html", {"household": household, "form": form})
