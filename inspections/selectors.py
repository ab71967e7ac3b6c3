"""Reads more than one page uses: the flag counts, the to-do figures, the notice states, a case's subject."""

from django.db.models import Count, Q

from .models import Flag, NoticePosting, Rectification, TypicalCase
from .services import may_review, may_review_case


def flag_counts(user) -> dict[str, int]:
    """Open flags of the user's scope by kind, in one query."""
    rows = Flag.objects.visible_to(user).open().order_by().values("kind").annotate(n=Count("pk"))
    found = {kind: 0 for kind in Flag.Kind.values}
    found.update({row["kind"]: row["n"] for row in rows})
    return found


def todo_figures(user, today) -> dict[str, int]:
    """What waits for the user in this app: flags to review, rectification items to answer, to close,
    and overdue (on both sides: the township or unit that answers, the office that closes)."""
    items = Rectification.objects.visible_to(user).exclude(status=Rectification.Status.CLOSED).order_by()
    mine = items.to_answer_by(user)
    closing = items.to_close_by(user)
    figures = {
        "to_answer": mine.count(),
        "to_close": closing.filter(status=Rectification.Status.ANSWERED).count(),
        "overdue": items.filter(
            Q(pk__in=mine.values("pk")) | Q(pk__in=closing.values("pk")), due_on__lt=today
        ).count(),
        "flags": Flag.objects.visible_to(user).open().count() if may_review(user) else 0,
        "cases": sum(
            1
            for case in TypicalCase.objects.visible_to(user)
            .filter(status=TypicalCase.Status.NOMINATED)
            .select_related("region")
            if may_review_case(user, case)
        ),
    }
    return figures


def notice_states(villages) -> dict:
    """The latest posting of each village on a page of villages, in one query."""
    latest = {}
    for posting in NoticePosting.objects.filter(village__in=list(villages)).order_by(
        "village_id", "posted_on", "id"
    ):
        latest[posting.village_id] = posting
    return {"postings": latest}


def _masked_name(name: str) -> str:
    return (name[:1] + "*" * (len(name) - 1)) if name else ""


def case_subject(case: TypicalCase) -> dict:
    """What a case is about, with households' names masked (the page is read across the province)."""
    if case.visit_id:
        visit = case.visit
        return {
            "label": f"{visit.cadre.name}（{visit.cadre.unit.name}）{visit.visited_on} "
            f"走访{_masked_name(visit.household.head_name)}户",
            "text": visit.diary,
        }
    if case.household_plan_id:
        plan = case.household_plan
        return {
            "label": f"{_masked_name(plan.household.head_name)}户 {plan.year}年帮扶计划",
            "text": f"帮扶措施：{'、'.join(plan.measure_labels)}\n"
            f"帮扶目标：{plan.targets}\n帮扶成效：{plan.outcome}",
        }
    if case.village_plan_id:
        plan = case.village_plan
        return {"label": f"{plan.village.name} {plan.year}年村帮扶计划", "text": plan.development_path}
    if case.cadre_id:
        return {"label": f"{case.cadre.name}（{case.cadre.unit.name}）", "text": ""}
    return {"label": case.unit.name if case.unit_id else "", "text": ""}
