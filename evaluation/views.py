"""Pages of the mass evaluation: rounds (list, open, detail with progress and results, close), a
cadre's explained score, and the collector's phone pages (assigned households, the ballot form)."""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.models import Region
from pairing.models import Unit
from shuanglian.access import can_write, is_unit_liaison, require_write, scope_prefix
from shuanglian.lib.excel import XLSX, append, cell, new_workbook, workbook_bytes_of

from . import paper, scores, services
from .forms import CaseForm, FlagCheckForm, PaperUploadForm, QuestionForm, RoundForm
from .models import Ballot, Collector, Flag, Question, Round, SampledHousehold, Score, ViolationCase


def get_round_for_user(user, pk) -> Round:
    return get_object_or_404(Round.objects.visible_to(user).select_related("region"), pk=pk)


@login_required
def round_list(request):
    rounds = Round.objects.visible_to(request.user).select_related("region")
    return render(
        request,
        "evaluation/round_list.html",
        {
            "rounds": rounds,
            "can_open": can_write(request.user, Round),
            "is_collector": hasattr(request.user, "collector"),
        },
    )


@require_write(Round)
def round_create(request):
    form = RoundForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            round_, opened = services.open_round_once(
                by=request.user, **{**data, "sample_parameter": data["sample_parameter"] or 0}
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            if opened:
                text = _("已发起评议，抽取样本户 %(n)s 户。") % {"n": round_.samples.count()}
                messages.success(request, text)
            else:  # the second press of a double click
                messages.info(request, _("已发起同样的评议，未重复发起，已打开该轮评议"))
            return redirect("evaluation:round_detail", pk=round_.pk)
    return render(request, "evaluation/round_form.html", {"form": form})


@login_required
def round_detail(request, pk):
    """Progress over the sampled households the user may see, and the results of their cadres."""
    round_ = get_round_for_user(request.user, pk)
    samples = SampledHousehold.objects.visible_to(request.user).filter(round=round_)
    progress = samples.aggregate(
        total=Count("pk"),
        collected=Count("pk", filter=Q(status=SampledHousehold.Status.COLLECTED)),
        unreachable=Count("pk", filter=Q(status=SampledHousehold.Status.UNREACHABLE)),
        unassigned=Count("pk", filter=Q(collector__isnull=True, status=SampledHousehold.Status.PENDING)),
    )
    cadres, units = _results(request.user, round_, samples, limit=SHOWN)
    manages_round = (
        can_write(request.user, Round)
        and Round.objects.managed_by(request.user).filter(pk=round_.pk).exists()
    )
    manages = round_.is_open and manages_round
    to_assign = (
        (
            samples.filter(status=SampledHousehold.Status.PENDING, collector__isnull=True)
            .values("household__village_id", "household__village__name")
            .annotate(n=Count("pk"))
            .order_by("household__village_id")
        )
        if manages
        else []
    )
    return render(
        request,
        "evaluation/round_detail.html",
        {
            "round": round_,
            "progress": progress,
            "results": cadres,
            "units": units,
            "questions": round_.questions.all(),
            "can_close": manages,
            "manages_round": manages_round,
            "shown": SHOWN,
            "to_assign": to_assign,
            "collectors": Collector.objects.visible_to(request.user).active().select_related("unit")
            if manages
            else [],
        },
    )


SHOWN = 200  # rows of each table on the round page; the workbook holds them all


def _sees_whole(user, round_) -> bool:
    """Whether the user's region holds the round's whole region (the province office, a city office
    on its city's round): then the part they see is the whole round."""
    prefix = scope_prefix(user)
    return prefix is not None and not is_unit_liaison(user) and round_.region.prefix.startswith(prefix)


def _results(user, round_, samples=None, *, limit=None):
    """The cadres' and units' scores the user may see, ranked in the round and within that part:
    the stored rows once computed (a large round), else computed now (a small or fresh one)."""
    if samples is None:
        samples = SampledHousehold.objects.visible_to(user).filter(round=round_)
    if round_.scored_at and _sees_whole(user, round_):
        return (
            scores.stored(round_, Score.Kind.CADRE, None, limit=limit),
            scores.stored(round_, Score.Kind.UNIT, None, limit=limit),
        )
    if round_.scored_at:
        unit_ids = samples.values("cadre_unit_id")
        if is_unit_liaison(user):
            unit_ids = Unit.objects.filter(Q(pk=user.unit_id) | Q(pk__in=unit_ids)).values("pk")
        return (
            scores.stored(round_, Score.Kind.CADRE, samples.values("cadre_id"), limit=limit),
            scores.stored(round_, Score.Kind.UNIT, unit_ids, limit=limit),
        )
    seen = samples.order_by().values_list("cadre_id", "cadre_unit_id").distinct()
    cadre_ids, unit_ids = {c for c, _u in seen}, {u for _c, u in seen}
    if is_unit_liaison(user):
        unit_ids.add(user.unit_id)
    everyone = scores.round_scores(round_)
    cadres = [s for s in everyone if s.cadre_id in cadre_ids]
    units = scores.unit_scores(round_, everyone, unit_ids)
    scores.rank_within(cadres)
    scores.rank_within(units)
    return (cadres[:limit], units[:limit]) if limit else (cadres, units)


@require_write(Round)
@require_POST
def round_score(request, pk):
    """计算得分: compute and keep the scores now; pressed twice, the same figures twice."""
    round_ = _managed_round(request.user, pk)
    cadres, units = services.compute_scores(by=request.user, round_=round_)
    messages.success(request, _("已计算得分：干部 %(c)s 名，单位 %(u)s 个。") % {"c": cadres, "u": units})
    return redirect("evaluation:round_detail", pk=round_.pk)


@login_required
def unit_score(request, pk, unit_pk):
    """A unit's explained score: the formula, its cadres, the ballots counted (households masked)."""
    round_ = get_round_for_user(request.user, pk)
    samples = SampledHousehold.objects.visible_to(request.user).filter(round=round_)
    mine = is_unit_liaison(request.user) and request.user.unit_id == unit_pk
    if not mine and not samples.filter(cadre_unit_id=unit_pk).exists():
        raise Http404
    explained = scores.explain_unit(round_, unit_pk)
    # A cadre of the unit whose households lie outside the reader's part is named, not linked.
    readable = set(samples.filter(cadre_unit_id=unit_pk).values_list("cadre_id", flat=True))
    return render(
        request,
        "evaluation/unit_score.html",
        {"round": round_, "explained": explained, "score": explained["score"], "readable": readable},
    )


RESULT_HEADERS = ["全轮排名", "本范围排名", "有效票", "群众评议得分", "过程指标得分", "综合得分", "等次"]


def _result_row(score):
    return [
        score.rank,
        score.scope_rank,
        score.counted,
        score.masses,
        score.process,
        score.combined,
        score.grade,
    ]


@login_required
def results_export(request, pk):
    """The results the user may see as a workbook: a sheet of cadres and one of units."""
    round_ = get_round_for_user(request.user, pk)
    cadres, units = _results(request.user, round_)
    book = new_workbook()
    sheet = book.create_sheet("干部")
    append(sheet, [cell(sheet, h, bold=True) for h in ["干部", "单位", *RESULT_HEADERS, "过程指标明细"]])
    for s in cadres:
        detail = "；".join(f"{i.name} {i.value}" for i in s.indicators)
        append(sheet, [s.cadre_name, s.unit_name, *_result_row(s), detail])
    sheet = book.create_sheet("单位")
    append(sheet, [cell(sheet, h, bold=True) for h in ["单位", "评议干部数", *RESULT_HEADERS]])
    for s in units:
        append(sheet, [s.unit_name, s.cadres, *_result_row(s)])
    sheet = book.create_sheet("说明")
    for line in (
        f"{round_.name}（{round_.region.name}，{round_.year}年{round_.get_period_display()}）",
        f"综合得分 = 群众评议得分 × {round_.weight_masses}% + 过程指标得分 × {round_.weight_process}%",
        f"等次：优秀 ≥ {round_.excellent_min}（不超过 {round_.excellent_share}%），良好 ≥ {round_.good_min}，"
        f"合格 ≥ {round_.pass_min}，不合格 < {round_.pass_min}",
        "有效票少于5张的得分仅供参考。",
    ):
        append(sheet, [line])
    response = HttpResponse(workbook_bytes_of(book), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(round_.name + '-评议结果.xlsx')}"
    return response


@login_required
def results_print(request, pk):
    """The results on A4 paper (app.css's print rules hide the menu)."""
    round_ = get_round_for_user(request.user, pk)
    cadres, units = _results(request.user, round_)
    return render(
        request, "evaluation/results_print.html", {"round": round_, "results": cadres, "units": units}
    )


@require_write(Round)
@require_POST
def assign(request, pk):
    """Give a village's households still without a collector to one collector; those whose cadre is
    of the collector's own unit are left for another (the service would refuse them)."""
    round_ = get_object_or_404(Round.objects.managed_by(request.user), pk=pk)
    collector_id, village = request.POST.get("collector", ""), request.POST.get("village", "")
    if not collector_id.isdigit() or not village.isdigit():
        messages.error(request, _("请选择采集员和村。"))
        return redirect("evaluation:round_detail", pk=round_.pk)
    collector = get_object_or_404(Collector.objects.visible_to(request.user).active(), pk=int(collector_id))
    waiting = SampledHousehold.objects.visible_to(request.user).filter(
        round=round_,
        status=SampledHousehold.Status.PENDING,
        collector__isnull=True,
        household__village_id=village,
    )
    own_unit = waiting.filter(cadre_unit_id=collector.unit_id) if collector.unit_id else waiting.none()
    try:
        assigned = services.assign_collector(
            by=request.user,
            round_=round_,
            collector=collector,
            samples=list(waiting.exclude(cadre_unit_id=collector.unit_id) if collector.unit_id else waiting),
        )
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
    else:
        skipped = own_unit.count()
        if not assigned and not skipped:  # the second press of a double click: the first assigned them
            messages.info(request, _("该村的样本户已指派，重复的提交未再办理"))
            return redirect("evaluation:round_detail", pk=round_.pk)
        text = _("已将 %(n)s 户指派给%(name)s。") % {"n": assigned, "name": collector.name}
        if skipped:
            text += _("另有 %(n)s 户的帮扶干部与该采集员同单位，请另派采集员。") % {"n": skipped}
        messages.success(request, text)
    return redirect("evaluation:round_detail", pk=round_.pk)


@require_write(Round)
@require_POST
def round_close(request, pk):
    round_ = get_object_or_404(Round.objects.managed_by(request.user), pk=pk)
    if round_.is_open:
        services.close_round(by=request.user, round_=round_)
        messages.success(request, _("本轮评议已结束。"))
    else:  # the second press of a double click
        messages.info(request, _("本轮评议已结束，重复的提交未再办理"))
    return redirect("evaluation:round_detail", pk=round_.pk)


@login_required
def cadre_score(request, pk, cadre_pk):
    round_ = get_round_for_user(request.user, pk)
    if not SampledHousehold.objects.visible_to(request.user).filter(round=round_, cadre_id=cadre_pk).exists():
        raise Http404
    explained = scores.explain(round_, cadre_pk)
    return render(
        request,
        "evaluation/cadre_score.html",
        {
            "round": round_,
            "explained": explained,
            "score": explained["score"],
            "scored_questions": round_.questions.filter(scored=True),
        },
    )


def _require_collector(user):
    if not hasattr(user, "collector") or not user.collector.active:
        raise PermissionDenied
    return user.collector


@login_required
def collect(request):
    """The collector's phone page: assigned households of open rounds, with progress."""
    _require_collector(request.user)
    samples = (
        SampledHousehold.objects.assigned_to(request.user)
        .filter(round__status=Round.Status.OPEN)
        .select_related("round", "household__village", "cadre")
        .order_by("round_id", "status", "household__village_id", "household__head_name", "pk")
    )
    done = sum(1 for s in samples if s.status != SampledHousehold.Status.PENDING)
    return render(request, "evaluation/collect.html", {"samples": samples, "done": done})


def _assigned_sample(user, pk) -> SampledHousehold:
    return get_object_or_404(
        SampledHousehold.objects.assigned_to(user).select_related("round", "household__village", "cadre"),
        pk=pk,
    )


@login_required
def ballot(request, pk):
    """A few taps: one choice per question, the mode, and save (pressed twice, saved once)."""
    sample = _assigned_sample(request.user, pk)
    questions = list(sample.round.questions.all())
    error = None
    if request.method == "POST":
        answers = {}
        for question in questions:
            if question.kind == question.Kind.MULTIPLE:
                answers[question.code] = request.POST.getlist(question.code)
            else:
                answers[question.code] = request.POST.get(question.code, "")
            answers[f"{question.code}__text"] = request.POST.get(f"{question.code}__text", "")
        try:
            _ballot, created = services.record_ballot(
                by=request.user, sample=sample, mode=request.POST.get("mode", ""), answers=answers
            )
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            if created:
                text = _("已保存 %(household)s 的评议票。") % {"household": sample.household}
                messages.success(request, text)
            else:  # the second press of a double click
                messages.info(request, _("这张评议票刚才已经保存，重复的提交未再保存"))
            return redirect("evaluation:collect")
    existing = Ballot.objects.filter(sample=sample).first()
    return render(
        request,
        "evaluation/ballot.html",
        {
            "sample": sample,
            "questions": questions,
            "error": error,
            "existing": existing,
            "posted": request.POST,
            "modes": Ballot.Mode.choices,
            "reasons": SampledHousehold.Unreachable.choices,
        },
    )


@login_required
@require_POST
def unreachable(request, pk):
    sample = _assigned_sample(request.user, pk)
    try:
        substitute = services.mark_unreachable(
            by=request.user,
            sample=sample,
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect("evaluation:ballot", pk=sample.pk)
    if substitute is None:
        messages.warning(request, _("已登记无法联系；本组已无可替补的农户。"))
    elif substitute.collector_id:
        messages.success(request, _("已登记无法联系，替补农户：%(h)s。") % {"h": substitute.household})
    else:
        messages.success(request, _("已登记无法联系，替补农户已抽出，待双联办指派采集员。"))
    return redirect("evaluation:collect")


@require_write(Collector)
def collectors(request):
    """The office's collectors, and registering one by the account's login name."""
    error = None
    if request.method == "POST":
        account = get_user_model().objects.filter(username=request.POST.get("username", "").strip()).first()
        unit_id = request.POST.get("unit", "")
        unit = (
            Unit.objects.visible_to(request.user).filter(pk=int(unit_id)).first()
            if unit_id.isdigit()
            else None
        )
        region = (
            Region.objects.visible_to(request.user)
            .filter(pk=request.POST.get("region", ""), level__in=services.OFFICE_LEVELS)
            .first()
        )
        try:
            if account is None:
                raise ValidationError(_("没有这个登录账号。"))
            if region is None:
                raise ValidationError(_("请选择登记的辖区。"))
            if unit_id and unit is None:
                raise ValidationError(_("请选择您管辖范围内的单位。"))
            services.register_collector(
                by=request.user,
                user=account,
                region=region,
                kind=request.POST.get("kind", ""),
                name=request.POST.get("name", ""),
                phone=request.POST.get("phone", ""),
                unit=unit,
            )
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(
                request, _("已登记采集员 %(name)s。") % {"name": request.POST.get("name", "").strip()}
            )
            return redirect("evaluation:collectors")
    return render(
        request,
        "evaluation/collectors.html",
        {
            "collectors": Collector.objects.visible_to(request.user).select_related("unit", "region", "user"),
            "regions": Region.objects.visible_to(request.user).filter(level__in=services.OFFICE_LEVELS),
            "units": Unit.objects.visible_to(request.user).order_by("name"),
            "kinds": Collector.Kind.choices,
            "error": error,
            "posted": request.POST,
        },
    )


# --- The office's pages: paper sheets, integrity flags, 八个不准 cases -------------------------------


def _managed_round(user, pk) -> Round:
    return get_object_or_404(Round.objects.managed_by(user).select_related("region"), pk=pk)


@require_write(Round)
def paper_sheet(request, pk, village):
    """The village's paper sheet (one row per sampled household still in the sample)."""
    round_ = _managed_round(request.user, pk)
    place = get_object_or_404(Region.objects.visible_to(request.user), pk=village, level="village")
    samples = paper.village_samples(round_, request.user, place.pk)
    if not samples.exists():
        raise Http404
    response = HttpResponse(paper.sheet_bytes(round_, place, samples), content_type=XLSX)
    filename = f"{round_.name}-{place.name}-纸质评议表.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@require_write(Round)
def paper_import(request, pk):
    """Download a village's sheet, and upload filled ones: all or nothing, errors by row and column.
    Uploading the same sheet twice adds nothing the second time."""
    round_ = _managed_round(request.user, pk)
    form = PaperUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = paper.import_sheet(by=request.user, round_=round_, data=form.cleaned_data["file"].read())
        if not result.errors:
            messages.success(
                request,
                _("已导入评议票 %(n)s 张（此前已导入 %(same)s 张，空行 %(blank)s 行）。")
                % {"n": result.created, "same": result.unchanged, "blank": result.blank},
            )
            return redirect("evaluation:paper_import", pk=round_.pk)
    villages = (
        SampledHousehold.objects.visible_to(request.user)
        .in_sample()
        .filter(round=round_)
        .values("household__village_id", "household__village__name")
        .annotate(
            n=Count("pk"),
            done=Count("pk", filter=Q(status=SampledHousehold.Status.COLLECTED)),
            unassigned=Count("pk", filter=Q(collector__isnull=True)),
        )
        .order_by("household__village_id")
    )
    return render(
        request,
        "evaluation/paper.html",
        {"round": round_, "form": form, "result": result, "villages": villages},
    )


@require_write(Round)
def flag_list(request, pk):
    """The round's integrity flags; 重新检查 looks at the ballots again, 已核实 marks one checked."""
    round_ = _managed_round(request.user, pk)
    if request.method == "POST":
        count = services.refresh_flags(by=request.user, round_=round_)
        messages.success(request, _("已重新检查，现有疑点 %(n)s 条。") % {"n": count})
        return redirect("evaluation:flag_list", pk=round_.pk)
    flags = Flag.objects.visible_to(request.user).filter(round=round_).select_related("checked_by", "village")
    return render(
        request,
        "evaluation/flags.html",
        {"round": round_, "flags": flags, "form": FlagCheckForm(), "kinds": Flag.Kind.choices},
    )


@require_write(Round)
@require_POST
def flag_check(request, pk):
    flag = get_object_or_404(Flag.objects.visible_to(request.user), pk=pk)
    form = FlagCheckForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    services.check_flag(by=request.user, flag=flag, note=note)
    messages.success(request, _("已标记为已核实。"))
    return redirect("evaluation:flag_list", pk=flag.round_id)


@require_write(Round)
def case_list(request, pk):
    """八个不准 reports of the round: who is named, what was said, where the check stands."""
    round_ = _managed_round(request.user, pk)
    cases = (
        ViolationCase.objects.visible_to(request.user)
        .filter(round=round_)
        .select_related("cadre__unit", "ballot__household__village", "updated_by")
    )
    rows = [
        {"case": case, "household": f"{scores.mask(case.ballot.household.head_name)}户"} for case in cases
    ]
    return render(request, "evaluation/cases.html", {"round": round_, "rows": rows})


@require_write(Round)
def case_detail(request, pk):
    case = get_object_or_404(
        ViolationCase.objects.visible_to(request.user).select_related(
            "round", "cadre__unit", "ballot__household__village", "ballot__collector", "updated_by"
        ),
        pk=pk,
    )
    form = CaseForm(request.POST or None, initial={"status": case.status, "outcome": case.outcome})
    if request.method == "POST" and form.is_valid():
        try:
            services.settle_violation_case(by=request.user, case=case, **form.cleaned_data)
        except ValidationError as refusal:
            for field_name, errors in refusal.message_dict.items():
                form.add_error(field_name if field_name in form.fields else None, errors)
        else:
            messages.success(request, _("已保存核查情况。"))
            return redirect("evaluation:case_list", pk=case.round_id)
    return render(
        request,
        "evaluation/case_detail.html",
        {"case": case, "form": form, "household": f"{scores.mask(case.ballot.household.head_name)}户"},
    )


# --- The questionnaire, editable until the first ballot ---------------------------------------------


@require_write(Round)
def questionnaire(request, pk):
    """The round's questions, each with 修改; a form to add one. Locked (read only) from the first ballot."""
    round_ = _managed_round(request.user, pk)
    locked = round_.ballots.exists()
    form = QuestionForm(request.POST or None, initial={"kind": Question.Kind.SINGLE, "weight": 1})
    if request.method == "POST" and not locked and form.is_valid():
        data = form.cleaned_data
        try:
            services.add_question(
                by=request.user,
                round_=round_,
                text=data["text"],
                kind=data["kind"],
                choices=data["choices_text"],
                scored=data["scored"],
                weight=data["weight"],
                required=data["required"],
                allow_text=data["allow_text"],
            )
        except ValidationError as refusal:
            form.add_error(None, refusal.messages)
        else:
            messages.success(request, _("已添加题目。"))
            return redirect("evaluation:questionnaire", pk=round_.pk)
    elif request.method == "POST" and locked:
        messages.error(request, _("本轮已收到评议票，问卷已锁定，不能再修改。"))
        return redirect("evaluation:questionnaire", pk=round_.pk)
    return render(
        request,
        "evaluation/questionnaire.html",
        {"round": round_, "questions": round_.questions.all(), "locked": locked, "form": form},
    )


@require_write(Round)
def question_edit(request, pk):
    question = get_object_or_404(
        Question.objects.filter(round__in=Round.objects.managed_by(request.user)).select_related("round"),
        pk=pk,
    )
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_of(question), locked_kind=True)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_question(
                by=request.user,
                question=question,
                text=data["text"],
                choices=data["choices_text"],
                scored=data["scored"] and question.kind == Question.Kind.SINGLE,
                weight=data["weight"],
                required=data["required"],
                allow_text=data["allow_text"],
            )
        except ValidationError as refusal:
            form.add_error(None, refusal.messages)
        else:
            messages.success(request, _("已保存题目。"))
            return redirect("evaluation:questionnaire", pk=question.round_id)
    return render(
        request,
        "evaluation/question_form.html",
        {
            "question": question,
            "round": question.round,
            "form": form,
            "locked": question.round.ballots.exists(),
        },
    )
