from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from shuanglian.access import LEVEL_DIGITS, may_see_whole_ids
from shuanglian.admin_scope import ScopedAdmin, ScopedInline
from shuanglian.admin_versions import VersionedAdminMixin, VersionedInlineMixin
from shuanglian.lib import idcard, phone
from shuanglian.lib.versions import VersionedModelForm

from . import moves
from .choices import PovertyCause, Relation
from .forms import refuse_main_cause_again
from .models import Household, Member, Region, RevealLog


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = "__all__"

    def clean(self):
        # Only checked when a region is added; afterwards code, level and parent are read-only.
        cleaned = super().clean()
        code, level, parent = cleaned.get("code"), cleaned.get("level"), cleaned.get("parent")
        if "code" not in self.fields or not code or not level:
            return cleaned
        if len(code) != 12 or not code.isdigit():
            self.add_error("code", _("统计用区划代码应为12位数字"))
            return cleaned
        levels = list(LEVEL_DIGITS)
        if level == "province":
            if parent is not None:
                self.add_error("parent", _("省级区划没有上级"))
        elif parent is None or parent.level != levels[levels.index(level) - 1]:
            self.add_error("parent", _("上级区划应为上一级"))
        elif not code.startswith(parent.prefix):
            self.add_error("code", _("区划代码应以上级代码 %(prefix)s 开头") % {"prefix": parent.prefix})
        if code[LEVEL_DIGITS[level] :].strip("0"):
            message = _("该级别的区划代码在第%(digits)d位之后应全为0") % {"digits": LEVEL_DIGITS[level]}
            self.add_error("code", message)
        return cleaned


@admin.register(Region)
class RegionAdmin(ScopedAdmin):
    form = RegionForm
    list_display = ["code", "name", "level", "is_poor"]
    list_filter = ["level", "is_poor"]
    search_fields = ["name", "=code"]
    fields = ["code", "name", "level", "parent", "is_poor"]
    autocomplete_fields = ["parent"]

    def get_readonly_fields(self, request, obj=None):
        # A code is an identity that every located row points at: it is never rewritten.
        return ["code", "level", "parent"] if obj else []

    def get_search_results(self, request, queryset, search_term):
        # A code prefix finds the region's whole subtree (6211 → 定西市 and everything in it).
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(code__startswith=term), False
        return super().get_search_results(request, queryset, search_term)


class MemberForm(VersionedModelForm):
    """Sex and birth date are read from the ID, which is validated and normalised here."""

    class Meta:
        model = Member
        fields = "__all__"

    def clean_id_number(self):
        parsed = idcard.parse(self.cleaned_data["id_number"])
        self.instance.sex, self.instance.birth_date = parsed.sex, parsed.birth_date
        return parsed.number


class MemberFormSet(forms.BaseInlineFormSet):
    """The head is a member too: exactly one 户主 row, carrying the household's head ID."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        heads = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("relation") == Relation.HEAD
        ]
        if not heads:
            raise ValidationError(_("请在家庭成员中填写户主本人（与户主关系：户主）。"))
        if len(heads) > 1:
            raise ValidationError(_("每户只能有一名户主。"))
        head_id = self.instance.head_id_number
        if head_id and heads[0]["id_number"] != head_id:
            raise ValidationError(_("户主的身份证号码应与户主身份证号码一致。"))

    def save_existing_objects(self, commit=True):
        # The one-head index is checked row by row: when the head changes, save the
        # old head's new relation before the new head's.
        count = self.initial_form_count()
        self.forms[:count] = sorted(
            self.forms[:count], key=lambda form: (form.cleaned_data or {}).get("relation") == Relation.HEAD
        )
        return super().save_existing_objects(commit)


class MaskedForLiaisons:
    """Whole IDs and phones are for the roster-keeping offices (shuanglian.access.may_see_whole_ids);
    anyone else (a unit liaison reading its villages' households) gets masked read-only values,
    as on the pages. Those users may not change households, so no form loses a field it needs."""

    whole_fields: dict[str, str] = {}  # field → the read-only method that shows it masked

    def _masks(self, request) -> bool:
        return not may_see_whole_ids(request.user)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        return exclude + list(self.whole_fields) if self._masks(request) else exclude

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly + list(self.whole_fields.values()) if self._masks(request) else readonly

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self._masks(request):
            fields = [self.whole_fields.get(name, name) for name in fields]
            fields = list(dict.fromkeys(fields))  # a masked field declared and added once only
        return fields

    @admin.display(description=_("身份证号码"))
    def masked_id(self, obj):
        return idcard.mask(getattr(obj, "head_id_number", None) or getattr(obj, "id_number", ""))

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj):
        return phone.mask(obj.phone)


class MemberInline(MaskedForLiaisons, VersionedInlineMixin, ScopedInline):
    whole_fields = {"id_number": "masked_id"}
    model = Member
    form = MemberForm
    formset = MemberFormSet
    fields = [
        "name",
        "id_number",
        "relation",
        "sex",
        "birth_date",
        "ethnicity",
        "education",
        "schooling",
        "health",
        "disability",
        "labour",
        "has_medical_insurance",
        "has_pension_insurance",
        "version",
    ]  # hidden; each member row is checked on its own
    readonly_fields = ["sex", "birth_date"]


class HouseholdForm(VersionedModelForm):
    other_causes = forms.MultipleChoiceField(
        label=_("其他致贫原因"),
        choices=PovertyCause.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Household
        fields = "__all__"

    def clean_head_id_number(self):
        return idcard.parse(self.cleaned_data["head_id_number"]).number

    def clean(self):
        cleaned = super().clean()
        refuse_main_cause_again(self, cleaned)
        return cleaned


def _member_count():
    # A correlated subquery rather than Count("members"): no GROUP BY over the
    # whole scope, the paginator's COUNT(*) drops it, and a search across
    # members (a second join) cannot multiply it.
    members = Member.objects.filter(household=OuterRef("pk")).order_by().values("household")
    counted = members.annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@admin.register(Household)
class HouseholdAdmin(MaskedForLiaisons, VersionedAdminMixin, ScopedAdmin):
    whole_fields = {"head_id_number": "masked_id", "phone": "masked_phone"}
    form = HouseholdForm
    inlines = [MemberInline]
    list_display = ["head_name", "masked_id", "village", "group", "category", "main_cause", "status", "size"]
    list_filter = ["category", "main_cause", "status", "housing"]
    # Shown as the search box's scope; the search itself is HouseholdQuerySet.search
    # (names contain the text, IDs end with the digits), like the household pages.
    search_fields = ["head_name", "members__name", "head_id_number", "members__id_number"]
    search_help_text = _("户主或成员姓名，或身份证号码（可只输后几位）")
    list_select_related = ["village"]
    autocomplete_fields = ["village"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=_member_count())

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "village" in form.changed_data:
            moves.moved([obj.pk])  # in the admin's transaction

    def get_search_results(self, request, queryset, search_term):
        return queryset.search(search_term), False

    @admin.display(description=_("户主身份证号码"))
    def masked_id(self, household):
        return idcard.mask(household.head_id_number)

    @admin.display(description=_("人口"), ordering="member_count")
    def size(self, household):
        return household.member_count


@admin.register(Member)
class MemberAdmin(MaskedForLiaisons, VersionedAdminMixin, ScopedAdmin):
    whole_fields = {"id_number": "masked_id"}
    form = MemberForm
    list_display = ["name", "masked_id", "relation", "sex", "birth_date", "household"]
    list_filter = ["relation", "sex", "health", "schooling", "disability", "labour", "has_medical_insurance"]
    search_fields = ["name", "id_number"]
    list_select_related = ["household"]
    autocomplete_fields = ["household"]
    readonly_fields = ["sex", "birth_date"]

    @admin.display(description=_("身份证号码"))
    def masked_id(self, member):
        return idcard.mask(member.id_number)


@admin.register(RevealLog)
class RevealLogAdmin(admin.ModelAdmin):
    """Who saw which whole ID or phone (显示完整), for superusers to audit: never written here."""

    list_display = ["at", "user", "subject", "object_type", "object_id", "field"]
    list_filter = ["object_type", "field"]
    search_fields = ["user__username", "subject"]
    list_select_related = ["user"]
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
