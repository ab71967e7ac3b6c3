"""Access-scope plumbing shared by every app, and every rule of who may do what.

A staff account has one role and one scope: a region (its code prefix) for
township staff and the leading-group offices, a unit for unit liaisons.
Querysets call `region_q` to turn that scope into a filter on whatever field
holds a region code; views call `require_write` before changing anything.

Every role rule lives here, by `User.Role` constants: apps, templates (through
shuanglian.context_processors.nav) and the admin ask these functions and sets, and
never compare a role themselves.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from accounts.models import User

Role = User.Role

# Significant digits of a 12-digit statistical code per region level (a region role's scope is
# a region of the level of the same name).
LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}

# The roles whose scope is a region (the offices), bottom to top; a unit liaison's is its unit.
REGION_ROLES = User.REGION_ROLES
# The leading-group offices above the township (县、市、省双联办).
OFFICE_ROLES = frozenset({Role.COUNTY, Role.CITY, Role.PROVINCE})

# Which roles may change which models (superusers may change everything).
# Reading is governed by scope alone; writing also needs the role.
WRITE_ROLES = {
    "households.household": {Role.TOWNSHIP},
    "households.member": {Role.TOWNSHIP},
    "households.region": {Role.PROVINCE},
    "pairing.unit": OFFICE_ROLES,
    "pairing.cadre": {Role.UNIT},
    "pairing.villagelink": OFFICE_ROLES,
    "pairing.pairing": {Role.TOWNSHIP},
    "pairing.proposal": {Role.TOWNSHIP, Role.COUNTY},
    "pairing.handover": {Role.TOWNSHIP, Role.UNIT, Role.COUNTY},
    "pairing.countyrules": {Role.COUNTY},
    "pairing.ranklimit": {Role.COUNTY},
    "pairing.pairingexception": {Role.COUNTY},
    "visits.visit": {Role.TOWNSHIP},
    "visits.unitvisit": {Role.TOWNSHIP, Role.UNIT},
    "visits.visitquota": {Role.COUNTY},
    # The township office keeps the plans with the register they are made for.
    "plans.villageplan": {Role.TOWNSHIP},
    "plans.householdplan": {Role.TOWNSHIP},
    # Each county's office sets how long each level has to answer a demand.
    "demands.demanddeadlines": {Role.COUNTY},
    # Mass evaluation: the leading-group offices open rounds, register collectors and correct ballots.
    "evaluation.round": OFFICE_ROLES,
    "evaluation.collector": OFFICE_ROLES,
    "evaluation.ballot": OFFICE_ROLES,
    # The day of the next month each level's monthly report is due: the province's rule.
    "reports.reportdueday": {Role.PROVINCE},
}

# Who reviews and applies what others prepared (superusers may too).
APPROVE_ROLES = {
    "pairing.proposal": {Role.COUNTY},
    "pairing.handover": {Role.COUNTY},
}


# The offices that keep the rosters: they may see whole resident IDs and phones (the roster
# export, 显示完整 on a page). Every page masks them; unit liaisons never see them whole.
WHOLE_VALUE_ROLES = frozenset(REGION_ROLES)

# Who may put a demand in the ledger: those who enter visits or act for cadres.
RAISING_ROLES = frozenset({Role.TOWNSHIP, Role.UNIT})


def _active(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def _has_role(user, roles) -> bool:
    """An active account that is a superuser or holds one of `roles`."""
    return _active(user) and (user.is_superuser or user.role in roles)


def scope_prefix(user) -> str | None:
    """The region-code prefix a user sees: '' for everything, None for no region scope."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return ""
    if user.role in LEVEL_DIGITS and user.region_id:
        return user.region_id[: LEVEL_DIGITS[user.role]]
    return None


def is_unit_liaison(user) -> bool:
    """Unit liaisons are scoped by their unit, not by a region."""
    return getattr(user, "role", None) == Role.UNIT and not user.is_superuser


def reads_regions(user) -> bool:
    """May open the region pages (区划 browsing): the offices, whose scope is a region; a unit
    liaison's scope is its unit. Pages link a region only for those who may follow the link."""
    return user.is_superuser or getattr(user, "role", None) in REGION_ROLES


def region_q(user, field: str) -> Q:
    """A filter keeping rows whose region code `field` lies in the user's region scope.

    Unit liaisons have no region scope; their querysets add their own clause.
    """
    prefix = scope_prefix(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == "":
        # Everything, and still everything when OR-ed with another clause: Django drops an empty
        # Q() from `Q() | Q(...)`, which left only the other clause (a superuser lost units that
        # link no village). The negation of an empty IN is a match-all that adds no SQL.
        return ~Q(pk__in=[])
    return Q(**{f"{field}__startswith": prefix})


def can_write(user, model) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return user.role in WRITE_ROLES.get(model._meta.label_lower, set())


def may_see_whole_ids(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in WHOLE_VALUE_ROLES


def can_approve(user, model) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in APPROVE_ROLES.get(model._meta.label_lower, set())


def is_office(user) -> bool:
    """A leading-group office above the township (or a superuser): it oversees its scope."""
    return _has_role(user, OFFICE_ROLES)


# The offices lift a login lockout (django-axes) on the accounts seated in their region, search the
# history of every change (操作记录) in their scope, and must log in with a second factor when
# settings.OTP_REQUIRED is on. The three are one set today; they are named apart so that one can change.
UNLOCK_ROLES = OFFICE_ROLES
HISTORY_ROLES = OFFICE_ROLES
SECOND_FACTOR_ROLES = OFFICE_ROLES


def may_unlock_users(user) -> bool:
    return _has_role(user, UNLOCK_ROLES)


def may_search_history(user) -> bool:
    return _has_role(user, HISTORY_ROLES)


def second_factor_required(user) -> bool:
    from django.conf import settings

    if not settings.OTP_REQUIRED or not user.is_authenticated:
        return False
    return user.is_superuser or user.role in SECOND_FACTOR_ROLES


def may_export_roster(user) -> bool:
    """The roster export carries whole resident IDs and phones, which every page masks: it is for
    the offices that keep the rosters, not for unit liaisons."""
    return may_see_whole_ids(user)


def may_import(user, model) -> bool:
    """May bring rows of `model` in from a workbook: the role that writes `model` on the pages,
    with a scope to import into (a region, or a unit for a liaison)."""
    has_scope = scope_prefix(user) is not None or is_unit_liaison(user)
    return can_write(user, model) and has_scope


def may_open_imports(user) -> bool:
    """Every account with a role and a scope imports something (townships the register and
    pairings, liaisons their cadres, the offices village links): the import pages are theirs."""
    return _active(user) and (scope_prefix(user) is not None or is_unit_liaison(user))


def may_raise_demand(user) -> bool:
    return user.is_superuser or user.role in RAISING_ROLES


def may_enter_visits(user) -> bool:
    """Enters households' visits (the township office): can_write(user, Visit) for the apps below
    visits, which must not import it. The same office is told of households not visited for long."""
    return _has_role(user, WRITE_ROLES["visits.visit"])


def waits_on_handovers(user) -> bool:
    """Is told of handovers waiting for it: the office that applies them, and the township office
    that prepares the successors of its households."""
    return _has_role(user, APPROVE_ROLES["pairing.handover"] | {Role.TOWNSHIP})


def proposes_for_villages(user) -> bool:
    """A pairing proposal covers a township; a township office may also propose for one village."""
    return getattr(user, "role", None) == Role.TOWNSHIP


def is_volunteer(user) -> bool:
    """An active account with no role: a volunteer, who may only collect ballots."""
    return bool(user.is_active and not user.role and not user.is_superuser)


def _require(allowed):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def require_write(model):
    """View decorator: a signed-in user whose role may not change `model` gets 403."""
    return _require(lambda user: can_write(user, model))


def require_approve(model):
    """View decorator: only the reviewing office (or a superuser) may approve `model`."""
    return _require(lambda user: can_approve(user, model))


def require_whole_ids(view):
    """View decorator for what shows whole resident IDs and phones."""
    return _require(may_see_whole_ids)(view)


def require_roles(*roles):
    """View decorator for pages that only some roles read (superusers always may)."""
    return _require(lambda user: user.is_superuser or user.role in roles)
