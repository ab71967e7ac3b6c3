"""The search of the history of every change (操作记录) for offices, within their scope.

Each tracked model's history is read through the model's own scope (`visible_to`, or for
accounts `managed_by`): a row of a household the office may not see is not found, as the
household itself is not. A superuser sees every row, those of deleted objects included.
"""

import datetime

from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone

from accounts.models import User
from demands.models import Demand
from households.models import Household, Member
from pairing.models import Cadre, Pairing, Unit, VillageLink
from plans.models import HouseholdPlan, VillagePlan
from shuanglian.access import HISTORY_ROLES, require_roles
from shuanglian.lib import history, params
from shuanglian.lib.pagination import page_of, query_without
from visits.models import LockedMonth, Visit

PAGE_SIZE = 50

# Object types, in the order the filter lists them: model name → (model, the objects the user may see).
# The 操作记录 section of an object's page links here with ?type=<model name>&object=<id>.
TRACKED = {
    model._meta.model_name: (model, scope)
    for model, scope in [
        (Household, lambda user: Household.objects.visible_to(user)),
        (Member, lambda user: Member.objects.visible_to(user)),
        (Unit, lambda user: Unit.objects.visible_to(user)),
        (Cadre, lambda user: Cadre.objects.visible_to(user)),
        (VillageLink, lambda user: VillageLink.objects.visible_to(user)),
        (Pairing, lambda user: Pairing.objects.visible_to(user)),
        (Visit, lambda user: Visit.objects.visible_to(user)),
        (Demand, lambda user: Demand.objects.visible_to(user)),
        (VillagePlan, lambda user: VillagePlan.objects.visible_to(user)),
        (HouseholdPlan, lambda user: HouseholdPlan.objects.visible_to(user)),
        (LockedMonth, lambda user: LockedMonth.objects.visible_to(user)),
        (User, lambda user: User.objects.managed_by(user)),
    ]
}
TYPE_CHOICES = [(key, model._meta.verbose_name) for key, (model, _scope) in TRACKED.items()]


def search_history(user, *, kind: str, who: str = "", object_id=None, since=None, until=None):
    """History rows of one object type in `user`'s scope, newest first, filtered; each row
    carries `previous_id` for its old values (shuanglian.lib.history)."""
    model, scope = TRACKED[kind]
    rows = model.history.all()
    if not user.is_superuser:
        rows = rows.filter(id__in=scope(user).values("pk"))
    if who:
        rows = rows.filter(
            Q(history_user__username=who)
            | Q(history_user__first_name__contains=who)
            | Q(history_user__last_name__contains=who)
        )
    if object_id is not None:
        rows = rows.filter(id=object_id)
    zone = timezone.get_current_timezone()
    if since is not None:
        rows = rows.filter(history_date__gte=datetime.datetime.combine(since, datetime.time.min, zone))
    if until is not None:
        after = until + datetime.timedelta(days=1)
        rows = rows.filter(history_date__lt=datetime.datetime.combine(after, datetime.time.min, zone))
    return history.newest(history.annotate_previous(rows))


@require_roles(*HISTORY_ROLES)
def search(request):
    get = request.GET
    kind = params.parse_choice(get.get("type"), TRACKED, default="household")
    filters = {
        "who": params.parse_text(get.get("user"), max_length=64),
        "object_id": params.parse_int(get.get("object"), min_value=1, max_value=2**62),
        "since": params.parse_date(get.get("since")),
        "until": params.parse_date(get.get("until")),
    }
    rows = search_history(request.user, kind=kind, **filters)
    page = page_of(request, rows, per_page=PAGE_SIZE)
    records = list(page.object_list)
    entries = history.entries(history.with_previous(records), TRACKED[kind][0]) if records else []
    context = {
        "page": page,
        "entries": entries,
        "types": TYPE_CHOICES,
        "kind": kind,
        "query": query_without(request),
        **filters,
    }
    return render(request, "history/search.html", context)
