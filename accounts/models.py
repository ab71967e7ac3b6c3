from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shuanglian.lib.history import Tracked


class UserQuerySet(models.QuerySet):
    def managed_by(self, office):
        """Accounts an office answers for: every account seated in its region (unit liaisons by
        their unit's seat), everything for a superuser, nothing for other roles."""
        from shuanglian.access import may_unlock_users, scope_prefix

        if not may_unlock_users(office):
            return self.none()
        prefix = scope_prefix(office)
        if not prefix:
            return self.all() if prefix == "" else self.none()
        return self.filter(Q(region__code__startswith=prefix) | Q(unit__region__code__startswith=prefix))


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    pass


class Role(models.TextChoices):
    """Read as User.Role; what each role may do is in shuanglian.access."""

    TOWNSHIP = "township", _("乡镇双联办")
    UNIT = "unit", _("单位联络员")
    COUNTY = "county", _("县双联办")
    CITY = "city", _("市双联办")
    PROVINCE = "province", _("省双联办")


# The roles whose scope is a region, bottom to top (a unit liaison's scope is its unit).
REGION_ROLES = (Role.TOWNSHIP, Role.COUNTY, Role.CITY, Role.PROVINCE)


class User(AbstractUser):
    """A staff account: one role, one scope (a region, or a unit for liaisons)."""

    Role = Role
    REGION_ROLES = REGION_ROLES

    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, blank=True)
    region = models.ForeignKey(
        "households.Region",
        verbose_name=_("管辖区域"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    unit = models.ForeignKey(
        "pairing.Unit",
        verbose_name=_("所在单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="liaisons",
    )

    objects = UserManager()
    # Old password hashes are not kept: a change of password is recorded, its hash is not.
    history = Tracked(excluded_fields=["password"])

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                name="user_scope_matches_role",
                condition=(
                    Q(role="")
                    | Q(role=Role.UNIT, unit__isnull=False, region__isnull=True)
                    | Q(
                        role__in=list(REGION_ROLES),
                        region__isnull=False,
                        unit__isnull=True,
                    )
                ),
            )
        ]

    def __str__(self):
        # Lists show who entered a record: the person, where the account has a name.
        return self.get_full_name() or self.username

    @property
    def acting_as(self) -> str:
        """Who did something, for histories: the office or unit, then the person (or the login)."""
        return f"{self.scope_label} {self.get_full_name() or self.username}"

    @property
    def scope_label(self) -> str:
        if self.is_superuser:
            return _("全省（系统管理员）")
        if self.role == self.Role.UNIT and self.unit_id:
            return self.unit.name
        if self.region_id:
            return self.region.name
        return _("未分配")
