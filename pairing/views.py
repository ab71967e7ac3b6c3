from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from households import reveal
from households.models import Household, Region
from households.selectors import get_household_for_user, start_region
from shuanglian import indicators
from shuanglian.access import (
    REGION_ROLES,
    can_approve,
    can_write,
    may_see_whole_ids,
    require_approve,
    require_roles,
    require_whole_ids,
    require_write,
)
from shuanglian.lib import idcard, params
from shuanglian.lib.excel import xlsx_response
from shuanglian.lib.pagination import page_of, query_without
from shuanglian.lib.widgets import lookup_response

from . import coverage as coverage_counts
from . import matching, selectors, services
from .forms import (
    CadreFilterForm,
    HandoverForm,
    HandoverLineFormSet,
    PairForm,
    PairHouseholdsForm,
    ProposalForm,
    ProposalLineFormSet,
)
from .models import Cadre, Handover, Pairing, Proposal
from .rules import CadreFacts


@login_required
def cadre_lookup(request):
    """The cadre chooser's answers: active cadres within scope, by name, unit or phone tail."""
    text = params.parse_text(request.GET.get("q"))
    cadres = Cadre.objects.visible_to(request.user).active().search(text).select_related("unit")
    return lookup_response(cadres.order_by("unit_id", "name", "pk") if text.strip() else cadres.none())


@login_required
def cadre_list(request):
    form = CadreFilterForm(request.GET or None)
    cadres = form.filter(Cadre.objects.visible_to(request.user)).select_related("unit")
    cadres = cadres.annotate(
        households=Count("pairings", filter=Q(pairings__ended_on__isnull=True)),
        responsible=Count(
            "pairings", filter=Q(pairings__ended_on__isnull=True, pairings__role=Pairing.Role.RESPONSIBLE)
        ),
    )
    # Aggregating queries drop Meta.ordering; pages need a stable order.
    page = page_of(request, cadres.order_by("unit_id", "name", "pk"))
    return render(
        request, "pairing/cadre_list.html", {"form": form, "page": page, "query": query_without(request)}
    )


@login_required
def cadre_detail(request, pk, revealed=None):
    cadre = selectors.get_cadre_for_user(request.user, pk)
    # Households outside the viewer's scope are only counted: their names and links are not theirs to see.
    pairings = (
        cadre.pairings.of_visible_households(request.user)
        .select_related("household__village")
        .order_by("ended_on", "-started_on")
    )
    current = [p for p in pairings if p.is_open]
    past = [p for p in pairings if not p.is_open]
    totals = cadre.pairings.aggregate(
        current=Count("pk", filter=Q(ended_on__isnull=True)),
        past=Count("pk", filter=Q(ended_on__isnull=False)),
    )
    context = {
        "cadre": cadre,
        "current_pairings": current,
        "current_elsewhere": totals["current"] - len(current),
        "past_pairings": past,
        "past_elsewhere": totals["past"] - len(past),
        "handover_form": HandoverForm() if totals["current"] and can_write(request.user, Handover) else None,
        "can_pair": can_write(request.user, Pairing) and cadre.status == Cadre.Status.ACTIVE,
        "handovers": cadre.handovers.order_by("-created_at")[:5],
        "can_reveal": may_see_whole_ids(request.user),
        "revealed": revealed or {},
    }
    return render(request, "pairing/cadre_detail.html", context)


@require_whole_ids
@require_POST
@never_cache
def cadre_reveal(request, pk):
    """显示完整: the cadre page again, with the whole phone (and a log row)."""
    cadre = selectors.get_cadre_for_user(request.user, pk)
    return cadre_detail(request, pk, revealed=reveal.from_post(request, cadre, reveal.CADRE_FIELDS))


# --- Pairing a household, proposals and handovers -------------------------------------------------


def _rule_errors(request, error):
    for message in error.messages:
        messages.error(request, message)


def _replayed(request, household_ids) -> bool:
    """The second press of a pairing form: what it asks for is open already (the first press opened
    it, and its own check would now refuse it as taken). Nothing is written again."""
    post = request.POST
    cadre_id = params.parse_int(post.get("cadre"), min_value=1)
    role = params.parse_choice(post.get("role"), Pairing.Role.values)
    started_on = params.parse_date(post.get("started_on"))
    if not (cadre_id and role and started_on):
        return False
    return services.opened_already(
        user=request.user, household_ids=household_ids, cadre_id=cadre_id, role=role, started_on=started_on
    )


def _posted_households(request) -> list[int]:
    ids = [params.parse_int(raw, min_value=1) for raw in request.POST.getlist("households")]
    return [pk for pk in ids if pk]


def _cadre_name(request) -> str:
    cadre = Cadre.objects.filter(pk=params.parse_int(request.POST.get("cadre"), min_value=1)).first()
    return cadre.name if cadre else ""


@require_write(Pairing)
def pair_household(request, household_pk):
    household = get_household_for_user(request.user, household_pk)
    if request.method == "POST" and _replayed(request, [household.pk]):
        messages.info(
            request, _("已安排 %(cadre)s 联系本户，重复的提交未再办理") % {"cadre": _cadre_name(request)}
        )
        return redirect("households:detail", pk=household.pk)
    candidates = matching.candidate_cadres({household.village_id})[0][household.village_id]
    form = PairForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        try:
            services.pair(household=household, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _rule_errors(request, error)
        else:
            messages.success(
                request, _("已安排 %(cadre)s 联系本户") % {"cadre": form.cleaned_data["cadre"].name}
            )
            return redirect("households:detail", pk=household.pk)
    current = household.pairings.open().select_related("cadre__unit")
    context = {"household": household, "form": form, "current": current, "candidates": candidates}
    return render(request, "pairing/pair_household.html", context)


@login_required
def proposal_list(request):
    proposals = Proposal.objects.visible_to(request.user).select_related(
        "region", "proposed_by", "reviewed_by"
    )
    # The office's inbox of handovers: lines of its households that another office's handover left waiting.
    waiting = (
        Handover.objects.waiting_for(request.user)
        .select_related("cadre__unit")
        .order_by("effective_on", "pk")
    )
    proposals = proposals.annotate(
        households=Count("lines"),
        placed=Count("lines", filter=Q(lines__cadre__isnull=False, lines__removed=False)),
    )
    form = ProposalForm(user=request.user) if can_write(request.user, Proposal) else None
    page = page_of(request, proposals.order_by("-proposed_at", "-pk"))
    context = {
        "page": page,
        "form": form,
        "can_bulk": can_write(request.user, Pairing),
        "waiting_handovers": waiting,
    }
    return render(request, "pairing/proposal_list.html", context)


@require_write(Proposal)
@require_POST
def proposal_create(request):
    form = ProposalForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("请选择本辖区内的乡镇或村"))
        return redirect("pairing:proposal_list")
    try:
        proposal, created = services.generate_proposal(
            region=form.cleaned_data["region"], started_on=form.cleaned_data["started_on"], by=request.user
        )
    except services.NothingToPlace as error:
        messages.error(request, "；".join(error.messages))
        return redirect("pairing:proposal_list")
    if not created:  # a double click, or a second try while the first draft waits for review
        messages.info(request, _("该范围、该结对日期已有待审核的方案，未重复生成，已打开该方案"))
    return redirect("pairing:proposal_detail", pk=proposal.pk)


@login_required
def proposal_detail(request, pk):
    proposal = get_object_or_404(Proposal.objects.visible_to(request.user).select_related("region"), pk=pk)
    lines = list(
        proposal.lines.select_related(
            "household__village", "suggested_cadre__unit", "cadre__unit", "changed_by"
        )
    )
    editable = proposal.status == Proposal.Status.DRAFT and can_write(request.user, Proposal)
    if request.method == "POST" and not editable:
        raise PermissionDenied
    candidates = (
        matching.candidate_cadres({line.household.village_id for line in lines})[0] if editable else {}
    )
    formset = ProposalLineFormSet(
        request.POST if request.method == "POST" else None,
        lines=lines if editable else [],
        form_kwargs={"candidates": candidates},
    )
    if request.method == "POST" and formset.is_valid():
        try:
            changed = services.change_lines(changes=formset.edits(), by=request.user)
        except ValidationError as error:
            _rule_errors(request, error)
        else:
            messages.success(request, _("已保存 %(count)d 处修改") % {"count": changed})
        return redirect("pairing:proposal_detail", pk=proposal.pk)
    for form in formset:
        form.line.form = form
    context = {
        "proposal": proposal,
        "lines": lines,
        "editable": editable,
        "can_apply": proposal.status == Proposal.Status.DRAFT and can_approve(request.user, Proposal),
        "can_discard": editable,
        "placed": sum(1 for line in lines if line.cadre_id and not line.removed),
    }
    return render(request, "pairing/proposal_detail.html", context)


@require_approve(Proposal)
@require_POST
def proposal_apply(request, pk):
    proposal = get_object_or_404(Proposal.objects.visible_to(request.user), pk=pk)
    try:
        created = services.apply_proposal(proposal=proposal, by=request.user)
        if created is None:
            messages.info(request, _("方案已实施，重复的提交未再办理"))
        else:
            messages.success(request, _("方案已实施，新建帮扶关系 %(count)d 条") % {"count": created})
    except ValidationError as error:
        _rule_errors(request, error)
    return redirect("pairing:proposal_detail", pk=proposal.pk)


@require_write(Proposal)
@require_POST
def proposal_discard(request, pk):
    """作废 a draft; a second press finds it discarded and says so."""
    proposal = get_object_or_404(Proposal.objects.visible_to(request.user), pk=pk)
    try:
        if services.discard_proposal(proposal=proposal, by=request.user):
            messages.success(request, _("方案已作废"))
        else:
            messages.info(request, _("方案已作废，重复的提交未再办理"))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
    return redirect("pairing:proposal_detail", pk=proposal.pk)


@require_write(Handover)
@require_POST
def handover_start(request, cadre_pk):
    cadre = selectors.get_cadre_for_user(request.user, cadre_pk)
    form = HandoverForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写离岗原因和交接日期"))
        return redirect("pairing:cadre_detail", pk=cadre.pk)
    if Handover.objects.pending().filter(cadre=cadre).exists():
        messages.info(request, _("该干部已有待办的交接，已打开该交接"))
    handover = services.start_handover(cadre=cadre, by=request.user, **form.cleaned_data)
    return redirect("pairing:handover_detail", pk=handover.pk)


@login_required
def handover_detail(request, pk):
    handover = get_object_or_404(
        Handover.objects.visible_to(request.user).select_related("cadre__unit"), pk=pk
    )
    # Only the lines of households the user sees; the others are counted, and wait for their office.
    lines = list(
        handover.lines.visible_to(request.user).select_related(
            "pairing__household__village", "successor__unit", "applied_by"
        )
    )
    pending = [line for line in lines if line.applied_at is None]
    editable = bool(pending) and can_write(request.user, Handover)
    if request.method == "POST" and not editable:
        raise PermissionDenied
    villages = {line.pairing.household.village_id for line in pending}
    candidates = matching.candidate_cadres(villages, excluding={handover.cadre_id})[0] if editable else {}
    formset = HandoverLineFormSet(
        request.POST if request.method == "POST" else None,
        lines=pending if editable else [],
        form_kwargs={"candidates": candidates},
    )
    if request.method == "POST" and formset.is_valid():
        try:
            services.set_successors(choices=formset.edits(), by=request.user)
        except ValidationError as error:
            _rule_errors(request, error)
        else:
            messages.success(request, _("已保存接任安排"))
        return redirect("pairing:handover_detail", pk=handover.pk)
    for form in formset:
        form.line.form = form
    context = {
        "handover": handover,
        "lines": lines,
        "elsewhere": handover.lines.count() - len(lines),
        "editable": editable,
        "can_apply": bool(pending) and can_approve(request.user, Handover),
    }
    return render(request, "pairing/handover_detail.html", context)


@require_approve(Handover)
@require_POST
def handover_apply(request, pk):
    handover = get_object_or_404(Handover.objects.visible_to(request.user), pk=pk)
    try:
        applied = services.apply_handover(handover=handover, by=request.user)
        handover.refresh_from_db(fields=["status"])
        if applied is None:  # the second press of a double click
            if handover.status == Handover.Status.APPLIED:
                messages.info(request, _("交接已实施，重复的提交未再办理"))
            else:
                messages.info(request, _("本辖区的交接已实施，重复的提交未再办理"))
        elif handover.status == Handover.Status.APPLIED:
            messages.success(request, _("交接已实施"))
        else:
            messages.success(
                request,
                _("已实施本辖区 %(count)d 户的交接，其他乡镇/县的农户待其所在地的双联办实施")
                % {"count": applied},
            )
    except ValidationError as error:
        _rule_errors(request, error)
    return redirect("pairing:handover_detail", pk=handover.pk)


# --- Coverage -----------------------------------------------------------------------------------

# Units seated at a region's own level: the coverage table's 本级 row.
OWN_LEVEL_UNITS = {
    "province": _("省直单位"),
    "city": _("市直单位"),
    "county": _("县直单位"),
    "township": _("乡镇单位"),
}

COVERAGE_LISTS = {
    "unpaired": _("未落实帮扶责任人的贫困户"),
    "villages_without_unit": _("无联系单位的贫困村"),
    "cadres_over": _("超过联户上限的干部"),
    "cadres_under": _("低于帮扶下限的干部"),
    "units_without_village": _("未联系村的单位"),
}


@require_roles(*REGION_ROLES)
def coverage(request, code=None):
    region = start_region(request.user, code)
    children = list(region.children.order_by("code"))
    rows, own, totals, counted_at = selectors.coverage_rows_cached(
        region, children, refresh="refresh" in request.GET
    )
    context = {
        "region": region,
        "crumbs": region.breadcrumbs(request.user),
        "rows": rows,
        "own": own if any(own.values()) else None,
        "own_label": OWN_LEVEL_UNITS.get(region.level),
        "totals": totals,
        "lists": COVERAGE_LISTS,
        "counted_at": counted_at,
        "indicators": {key: indicators.get(key) for key in (*selectors.COVERAGE_KEYS, "coverage_rate")},
    }
    return render(request, "pairing/coverage.html", context)


@require_roles(*REGION_ROLES)
def coverage_list(request, code, kind):
    if kind not in COVERAGE_LISTS:
        raise Http404
    region = start_region(request.user, code)
    export = params.parse_choice(request.GET.get("format"), ("xlsx",)) == "xlsx"
    headers, rows = _coverage_rows(kind, region.prefix, full_ids=export)
    title = f"{region.name}{COVERAGE_LISTS[kind]}"
    if export:
        return xlsx_response(f"{title}.xlsx", str(COVERAGE_LISTS[kind]), headers, (row[1:] for row in rows))
    page = page_of(request, rows)
    context = {"region": region, "kind": kind, "title": title, "headers": headers, "page": page}
    return render(request, "pairing/coverage_list.html", context)


def _coverage_rows(kind: str, prefix: str, *, full_ids: bool):
    """Headers and rows (each led by the URL of its object, or None) for one coverage list.

    Pages mask resident IDs; the export keeps them whole so that it can be worked on and re-imported.
    """
    if kind == "unpaired":
        households = (
            coverage_counts.unpaired_poor(prefix)
            .select_related("village")
            .order_by("village_id", "group", "pk")
        )
        headers = [_("户主"), _("身份证号码"), _("村"), _("社"), _("户属性"), _("主要致贫原因")]
        rows = [
            (
                reverse("households:detail", args=[h.pk]),
                h.head_name,
                h.head_id_number if full_ids else idcard.mask(h.head_id_number),
                h.village.name,
                h.group,
                h.category,
                h.main_cause,
            )
            for h in households
        ]
    elif kind == "villages_without_unit":
        villages = (
            coverage_counts.poor_villages_without_unit(prefix).select_related("parent").order_by("code")
        )
        headers = [_("村"), _("统计用区划代码"), _("乡镇")]
        rows = [(None, v.name, v.code, v.parent.name if v.parent else "") for v in villages]
    elif kind in ("cadres_over", "cadres_under"):
        condition = coverage_counts.OVER_LIMIT if kind == "cadres_over" else coverage_counts.UNDER_LIMIT
        cadres = coverage_counts.cadres_by_limit(prefix, condition)
        headers = [
            _("姓名"),
            _("单位"),
            _("职级"),
            _("联系户"),
            _("联系户上限"),
            _("帮扶贫困户"),
            _("帮扶上限"),
            _("帮扶下限"),
        ]
        rows = [
            (
                reverse("pairing:cadre_detail", args=[c.pk]),
                c.name,
                c.unit.name,
                c.get_rank_display(),
                c.total_load,
                c.max_households,
                c.poor_load,
                c.max_poor,
                c.min_poor,
            )
            for c in cadres
        ]
    else:
        units = (
            coverage_counts.units_without_village(prefix)
            .select_related("region")
            .order_by("region_id", "name")
        )
        headers = [_("单位"), _("层级"), _("所在地")]
        rows = [(None, u.name, u.get_level_display(), u.region.name) for u in units]
    return headers, rows


def _pairing_replayed(cadre_name: str, count: int) -> str:
    return _("已安排 %(cadre)s 联系这 %(count)d 户，重复的提交未再办理") % {
        "cadre": cadre_name,
        "count": count,
    }


def _pair_households(request, form):
    """Pair the ticked households with the chosen cadre; True when written."""
    try:
        created = services.pair_many(
            cadre=form.cleaned_data["cadre"],
            households=list(form.cleaned_data["households"].select_related("village")),
            role=form.cleaned_data["role"],
            started_on=form.cleaned_data["started_on"],
            by=request.user,
        )
    except ValidationError as error:
        _rule_errors(request, error)
        return False
    messages.success(
        request,
        _("已安排 %(cadre)s 联系 %(count)d 户")
        % {"cadre": form.cleaned_data["cadre"].name, "count": len(created)},
    )
    return True


@require_write(Pairing)
def pair_cadre(request, cadre_pk):
    """From a cadre's page: households in the villages the cadre's unit links (or excepted ones)."""
    cadre = selectors.get_cadre_for_user(request.user, cadre_pk)
    chosen = _posted_households(request) if request.method == "POST" else []
    if chosen and _replayed(request, chosen):
        messages.info(request, _pairing_replayed(cadre.name, len(chosen)))
        return redirect("pairing:cadre_detail", pk=cadre.pk)
    facts = CadreFacts.load([cadre])
    villages = facts.linked_villages[cadre.unit_id] | facts.exceptions[cadre.pk]
    already = Pairing.objects.open().filter(cadre=cadre, household_id=OuterRef("pk"))
    households = (
        Household.objects.visible_to(request.user)
        .filter(village_id__in=villages)
        .on_register()
        .exclude(Exists(already))
        .select_related("village")
        .order_by("village_id", "group", "head_name")
    )
    cadres = Cadre.objects.filter(pk=cadre.pk).select_related("unit")
    form = PairHouseholdsForm(
        request.POST or None, households=households, cadres=cadres, initial={"cadre": cadre}
    )
    if request.method == "POST" and form.is_valid() and _pair_households(request, form):
        return redirect("pairing:cadre_detail", pk=cadre.pk)
    return render(request, "pairing/pair_households.html", {"form": form, "cadre": cadre})


@require_write(Pairing)
def bulk_pair(request):
    """Tick unpaired poor households of one village and give them to one cadre."""
    villages = Region.objects.visible_to(request.user).villages()
    code = params.parse_code(request.GET.get("village"))
    village = get_object_or_404(villages, code=code) if code else None
    context = {"villages": villages.filter(is_poor=True).order_by("code"), "village": village}
    chosen = _posted_households(request) if village and request.method == "POST" else []
    if chosen and _replayed(request, chosen):
        messages.info(request, _pairing_replayed(_cadre_name(request), len(chosen)))
        return redirect(f"{reverse('pairing:bulk_pair')}?village={village.code}")
    if village:
        households = matching.unpaired_poor_households(village.code).filter(
            pk__in=Household.objects.visible_to(request.user).values("pk")
        )
        cadres = Cadre.objects.filter(
            pk__in=[c.pk for c in matching.candidate_cadres({village.code})[0][village.code]]
        ).select_related("unit")
        form = PairHouseholdsForm(request.POST or None, households=households, cadres=cadres)
        if request.method == "POST" and form.is_valid() and _pair_households(request, form):
            return redirect(f"{reverse('pairing:bulk_pair')}?village={village.code}")
        context["form"] = form
    return render(request, "pairing/pair_households.html", context)
