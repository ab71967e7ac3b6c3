"""Pages of the mass evaluation: rounds (list, open, detail with progress and results, close), a
cadre's explained score, and the collector's phone pages (assigned households, the ballot form)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from households.models import Region
from pairing.models import Unit
from shuanglian.access import can_write, require_write

from . import scores, services
from .forms import RoundForm
from .models import Ballot, Collector, Round, SampledHousehold


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
    cadre_ids = set(samples.values_list("cadre_id", flat=True))
    manages = (
        round_.is_open
        and can_write(request.user, Round)
        and Round.objects.managed_by(request.user).filter(pk=round_.pk).exists()
    )
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
            "results": scores.round_scores(round_, cadre_ids),
            "questions": round_.questions.all(),
            "can_close": manages,
            "to_assign": to_assign,
            "collectors": Collector.objects.visible_to(request.user).active().select_related("unit")
            if manages
            else [],
        },
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
