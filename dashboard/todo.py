"""What waits for each role (待办事项): the figures on the home page and the inbox page.

One definition per figure, read by both pages, so the count on the home page is the number of
rows the inbox lists. Each figure is one query (the households not visited come from the
worklists' own counts, cached for a city or the province), so neither page grows with the data.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _

from demands.models import Demand, at_level_of_q, overdue_q, unattended_q
from inspections import selectors as inspection_selectors
from pairing.models import Handover, Proposal
from reports.selectors import due_counts
from shuanglian.access import OFFICE_ROLES, is_office, is_unit_liaison, may_enter_visits, waits_on_handovers
from visits import worklists


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    count: int
    url: str
    hint: str = ""


def _demand_figures(user, today: datetime.date) -> dict[str, int]:
    """Open demands at the user's level (an office's includes those it acts for), those of them
    overdue, and the open demands of the scope waiting at a level with no account: one query."""
    scoped = Demand.objects.visible_to(user).open()
    # Row filters over the scoped demands, not `pk IN (…)` subqueries, which would read every
    # demand of the province (tests/test_scope_plans.py).
    mine = at_level_of_q(user)
    return scoped.order_by().aggregate(
        mine=Count("pk", filter=mine),
        mine_overdue=Count("pk", filter=mine & overdue_q(today)),
        unattended=Count("pk", filter=unattended_q()),
    )


def proposals_to_review(user):
    """Drafts (待审核) of the user's scope: an approving office reviews them."""
    return Proposal.objects.visible_to(user).filter(status=Proposal.Status.DRAFT)


def handovers_waiting(user):
    """Handovers with lines of the user's households still to apply (Handover.objects.waiting_for)."""
    return Handover.objects.waiting_for(user)


def items(user, today: datetime.date) -> list[Item]:
    """The role's to-do figures, in the order the home page shows them."""
    demands = _demand_figures(user, today)
    ledger = reverse("demands:list")
    found = []
    if may_enter_visits(user):
        stale = worklists.counts_cached(user, today)[0]["stale"]
        found.append(
            Item(
                "stale",
                _("%(days)d 天未走访的农户") % {"days": settings.VISIT_STALE_DAYS},
                stale,
                reverse("visits:worklist", args=["stale"]),
            )
        )
    found += [
        Item("demands", _("本级待办诉求"), demands["mine"], f"{ledger}?mine=on"),
        Item("overdue", _("本级逾期诉求"), demands["mine_overdue"], f"{ledger}?mine=on&overdue=on"),
    ]
    if not is_unit_liaison(user):
        found.append(
            Item(
                "unattended",
                _("无人可办理层级的诉求"),
                demands["unattended"],
                f"{ledger}?unattended=on",
                _("所在层级没有可办理的账号，由上一级双联办代为办理"),
            )
        )
    inbox = reverse("inbox")
    if is_office(user):
        found.append(
            Item("proposals", _("待审核的结对方案"), proposals_to_review(user).count(), f"{inbox}#proposals")
        )
    if waits_on_handovers(user):
        found.append(
            Item("handovers", _("待实施的干部交接"), handovers_waiting(user).count(), f"{inbox}#handovers")
        )
    return found + _report_items(user, today) + _inspection_items(user, today)


def _report_items(user, today: datetime.date) -> list[Item]:
    """Last month's report: the office's own while not yet submitted (overdue past its due day), and
    for a reviewing office the reports below waiting for review and those overdue."""
    due = due_counts(user, today)
    month = due["month"]
    found = []
    if due["own"] is not None:
        office = due["own"]
        url = reverse("reports:detail", args=[office.key, month.year, month.month])
        if due["own_overdue"]:
            found.append(
                Item("report_overdue", _("%(month)d月月报告已逾期") % {"month": month.month}, 1, url)
            )
        else:
            found.append(Item("report_due", _("%(month)d月月报告待报送") % {"month": month.month}, 1, url))
    if "board" in due:
        board = f"{reverse('reports:board')}?month={month:%Y-%m}"
        found.append(Item("reports_to_review", _("待审核的月报告"), due["to_review"], board))
        found.append(Item("reports_overdue", _("逾期未报的下级月报告"), due["overdue_below"], board))
    return found


def _inspection_items(user, today: datetime.date) -> list[Item]:
    """Flags to review (reviewing offices), rectification items to answer (townships, units), to close
    (offices) and overdue on either side."""
    figures = inspection_selectors.todo_figures(user, today)
    items_url = reverse("inspections:rectification_list")
    reviews = user.is_superuser or user.role in OFFICE_ROLES
    found = []
    if reviews:
        found.append(Item("flags", _("待核查的疑点"), figures["flags"], reverse("inspections:flag_list")))
        found.append(Item("rectify_close", _("待销号的整改事项"), figures["to_close"], items_url))
    else:
        found.append(Item("rectify", _("待整改事项"), figures["to_answer"], items_url))
    found.append(Item("rectify_overdue", _("逾期的整改事项"), figures["overdue"], f"{items_url}?overdue=on"))
    if reviews:
        found.append(Item("cases", _("待审核的典型"), figures["cases"], reverse("inspections:case_list")))
    return found
