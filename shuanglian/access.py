"""Access-scope plumbing shared by every app.

A staff account has one role and one scope: a region (its code prefix) for
township staff and the leading-group offices, a unit for unit liaisons.
Querysets call `region_q` to turn that scope into a filter on whatever field
holds a region code; views call `require_write` before changing anything.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q

# Significant digits of a 12-digit statistical code per region level.
LEVEL_DIGITS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}

# Which roles may change which models (superusers may change everything).
# Reading is governed by scope alone; writing also needs the role.
WRITE_ROLES = {
    "households.household": {"township"},
    "households.member": {"township"},
    "households.region": {"province"},
    "pairing.unit": {"county", "city", "province"},
    "pairing.cadre": {"unit"},
    "pairing.villagelink": {"county", "city", "province"},
    "pairing.pairing": {"township"},
    "pairing.proposal": {"township", "county"},
    "pairing.handover": {"township", "unit", "county"},
    "pairing.countyrules": {"county"},
    "pairing.ranklimit": {"county"},
    "pairing.pairingexception": {"county"},
    "visits.visit": {"township"},
    "visits.unitvisit": {"township", "unit"},
    "visits.visitquota": {"county"},
    # Mass evaluation: the leading-group offices open rounds, register collectors and correct ballots.
    "evaluation.round": {"county", "city", "province"},
    "evaluation.collector": {"county", "city", "province"},
    "evaluation.ballot": {"county", "city", "province"},
    # The day of the next month each level's monthly report is due: the province's rule.
    "reports.reportdueday": {"province"},
}

# Who reviews and applies what others prepared (superusers may too).
APPROVE_ROLES = {
    "pairing.proposal": {"county"},
    "pairing.handover": {"county"},
}


# The offices that keep the rosters: they may see whole resident IDs and phones (the roster
# export, 显示完整 on a page). Every page masks them; unit liaisons never see them whole.
WHOLE_VALUE_ROLES = {"township", "county", "city", "province"}


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
    return getattr(user, "role", None) == "unit" and not user.is_superuser


def reads_regions(user) -> bool:
    """May open the region pages (区划 browsing): the offices, whose scope is a region; a unit
    liaison's scope is its unit. Pages link a region only for those who may follow the link."""
    return user.is_superuser or getattr(user, "role", None) in ("township", "county", "city", "province")


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


# Offices that lift a login lockout (django-axes) on the accounts seated in their region.
UNLOCK_ROLES = {"county", "city", "province"}


def may_unlock_users(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in UNLOCK_ROLES


# Offices that search the history of every change (操作记录) in their scope.
HISTORY_ROLES = {"county", "city", "province"}


def may_search_history(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in HISTORY_ROLES


# Accounts that must log in with a second factor when settings.OTP_REQUIRED is on.
SECOND_FACTOR_ROLES = {"county", "city", "province"}


def second_factor_required(user) -> bool:
    from django.conf import settings

    if not settings.OTP_REQUIRED or not user.is_authenticated:
        return False
    return user.is_superuser or user.role in SECOND_FACTOR_ROLES


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
