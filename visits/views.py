from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from households.models import Household
from households.views import get_household_for_user
from pairing.models import Cadre, Pairing
from shuanglian.access import can_write, require_write

from . import services
from .forms import VisitForm
from .models import Visit


@require_write(Visit)
def visit_new(request):
    """Keyboard-first entry; "save and next" keeps the village and cadre for the next page of the diary."""
    village = request.GET.get("village", "")
    households = Household.objects.visible_to(request.user).select_related("village").order_by(
        "village_id", "group", "head_name"
    )
    if village.isdigit():
        households = households.filter(village_id=village)
    elif request.user.is_superuser:
        households = households.none()  # the whole province is no drop-down: pick a village first
    cadres = Cadre.objects.visible_to(request.user).active().select_related("unit").order_by("unit_id", "name")
    initial = {"cadre": request.GET.get("cadre")} if request.GET.get("cadre", "").isdigit() else {}
    form = VisitForm(request.POST or None, households=households, cadres=cadres, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        household = data.pop("household")
        cadre = data.pop("cadre") or _responsible_cadre(household, data["visited_on"])
        try:
            if cadre is None:
                raise ValidationError(_("%(household)s 在该日没有帮扶责任人，请选择走访干部") % {"household": household})
            visit = services.record_visit(household=household, cadre=cadre, by=request.user, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已保存 %(cadre)s 对 %(household)s 的走访") % {"cadre": cadre.name, "household": household})
            if "next" in request.POST:
                return redirect(f"{reverse('visits:new')}?village={household.village_id}&cadre={cadre.pk}")
            return redirect("visits:household", household_pk=visit.household_id)
    return render(request, "visits/visit_form.html", {"form": form})


def _responsible_cadre(household, day):
    pairing = Pairing.objects.on(day).responsible().filter(household=household).select_related("cadre").first()
    return pairing.cadre if pairing else None


@login_required
def visit_list(request):
    visits = Visit.objects.visible_to(request.user).select_related(
        "household__village", "cadre__unit", "recorded_by"
    )
    month = request.GET.get("month", "")
    if len(month) == 7 and month[:4].isdigit() and month[5:].isdigit():
        visits = visits.in_month(int(month[:4]), int(month[5:]))
    if request.GET.get("mode") in Visit.Mode.values:
        visits = visits.filter(mode=request.GET["mode"])
    kind = request.GET.get("kind")
    if kind == "home":
        visits = visits.home_visits()
    elif kind == "contact":
        visits = visits.contacts()
    page = Paginator(visits.order_by("-visited_on", "-pk"), settings.PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page, "query": query.urlencode(), "modes": Visit.Mode.choices, "month": month,
        "can_add": can_write(request.user, Visit),
    }
    return render(request, "visits/visit_list.html", context)


@login_required
def household_visits(request, household_pk):
    household = get_household_for_user(request.user, household_pk)
    visits = household.visits.select_related("cadre__unit", "recorded_by").order_by("-visited_on", "-pk")
    return render(request, "visits/household_visits.html", {"household": household, "visits": visits})
