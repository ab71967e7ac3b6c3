"""The admin is scoped like the pages, roles decide who writes, and its lists run a fixed
number of queries."""

import datetime
import io
import itertools

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from openpyxl import load_workbook

from households.models import Household, Member, Region
from pairing.models import Cadre, CountyRules, Pairing, PairingException, RankLimit, VillageLink
from shuanglian.lib import idcard
from tests import factories as f
from tests.queries import count_queries

CHANGELISTS = [
    "households_region",
    "households_household",
    "households_member",
    "pairing_unit",
    "pairing_cadre",
    "pairing_villagelink",
    "pairing_pairing",
    "pairing_countyrules",
    "pairing_ranklimit",
    "pairing_pairingexception",
    "visits_visit",
    "visits_lockedmonth",
]
ROLES = ["admin", "province", "city_a", "county_a", "town_a", "unit_a"]


def changelist(model):
    return reverse(f"admin:{model}_changelist")


# --- Who gets in --------------------------------------------------------------------------------


@pytest.mark.parametrize("model", CHANGELISTS)
@pytest.mark.parametrize("username", ROLES)
def test_every_changelist_opens_for_every_role(client, world, model, username):
    client.force_login(getattr(world.users, username))
    assert client.get(changelist(model)).status_code == 200


def test_index_lists_the_models_but_not_users_for_staff(client, world):
    client.force_login(world.users.town_a)
    body = client.get(reverse("admin:index")).content.decode()
    assert "农户" in body and "联户关系" in body
    assert reverse("admin:accounts_user_changelist") not in body


def test_staff_without_a_role_is_refused(client, world):
    client.force_login(f.user("nobody"))
    assert client.get(changelist("households_household")).status_code == 403


def test_users_are_for_superusers_only(client, world):
    for name in ("province", "town_a"):
        client.force_login(getattr(world.users, name))
        assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
        change = reverse("admin:accounts_user_change", args=[world.users.admin.pk])
        assert client.get(change).status_code == 403
        assert client.get(reverse("admin:accounts_user_add")).status_code == 403
    client.force_login(world.users.admin)
    body = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "town_a" in body and "马营镇" in body


def test_superuser_gives_an_account_its_scope(client, world):
    client.force_login(world.users.admin)
    url = reverse("admin:accounts_user_change", args=[world.users.town_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and "角色与管辖范围" in page.content.decode()
    data = {
        "username": "town_a",
        "password": "unused",
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": "2024-01-01",
        "date_joined_1": "08:00:00",
        "role": "township",
        "region": "",
        "unit": "",
    }
    # The role/scope rule is a database constraint; the form reports it instead of failing.
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    data["region"] = world.town_a2.code
    assert client.post(url, data).status_code == 302
    world.users.town_a.refresh_from_db()
    assert world.users.town_a.region == world.town_a2


# --- What each role sees ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "username", "shown", "hidden"),
    [
        ("households_household", "town_a", ["王建国"], ["妥有福", "赵德胜"]),
        ("households_household", "county_a", ["王建国", "赵德胜"], ["妥有福"]),
        ("households_household", "unit_b", ["妥有福"], ["王建国", "赵德胜"]),
        ("households_household", "admin", ["王建国", "赵德胜", "妥有福"], []),
        ("households_member", "town_a", ["王小1", "王小2"], ["妥小1", "赵小1"]),
        ("households_region", "town_a", ["东关村民委员会", "马营镇"], ["鸡川村", "达板村", "通渭县"]),
        ("households_region", "unit_a", ["东关村民委员会"], ["鸡川村民委员会", "达板村民委员会"]),
        ("pairing_unit", "town_a", ["通渭县农业农村局"], ["东乡县财政局"]),
        ("pairing_cadre", "town_a", ["李文华"], ["马志刚"]),
        ("pairing_cadre", "unit_b", ["马志刚"], ["李文华"]),
        ("pairing_villagelink", "town_a", ["东关村民委员会"], ["达板村民委员会"]),
        ("pairing_pairing", "town_a", ["王建国户"], ["妥有福户"]),
        ("pairing_pairing", "unit_a", ["王建国户"], ["妥有福户"]),
    ],
)
def test_changelists_show_only_the_scope(client, world, model, username, shown, hidden):
    client.force_login(getattr(world.users, username))
    body = client.get(changelist(model)).content.decode()
    for text in shown:
        assert text in body
    for text in hidden:
        assert text not in body


def test_ids_and_phones_are_masked_in_lists(client, world):
    client.force_login(world.users.town_a)
    body = client.get(changelist("households_household")).content.decode()
    assert world.household_a.head_id_number not in body
    assert idcard.mask(world.household_a.head_id_number) in body
    body = client.get(changelist("households_member")).content.decode()
    assert world.household_a.head_id_number not in body
    body = client.get(changelist("pairing_cadre")).content.decode()
    assert world.cadre_a.phone not in body and world.cadre_a.phone[-4:] in body


def test_household_search_by_member_name_and_id_tail_counts_members_once(client, world):
    client.force_login(world.users.county_a)
    # "小" matches both children of 王建国: a join on members would double the count.
    response = client.get(changelist("households_household"), {"q": "王小"})
    rows = list(response.context["cl"].result_list)
    assert [(row.head_name, row.member_count) for row in rows] == [("王建国", 3)]
    tail = world.household_a2.members.exclude(relation="户主").get().id_number[-6:]
    rows = list(client.get(changelist("households_household"), {"q": tail}).context["cl"].result_list)
    assert [row.head_name for row in rows] == ["赵德胜"]
    # A township sees nothing of another's household, even by its full ID.
    client.force_login(world.users.town_a)
    response = client.get(changelist("households_household"), {"q": world.household_b.head_id_number})
    assert response.context["cl"].result_count == 0


def test_region_search_by_code_prefix(client, world):
    client.force_login(world.users.province)
    rows = client.get(changelist("households_region"), {"q": "621121101"}).context["cl"].result_list
    assert {row.code for row in rows} == {world.town_a.code, world.village_a.code}


def test_relations_filter_open_and_ended(client, world):
    pairing = Pairing.objects.get(household=world.household_a)
    pairing.ended_on, pairing.end_reason = datetime.date(2024, 6, 1), "调动"
    pairing.save()
    f.pairing(world.cadre_a, world.household_a2)
    client.force_login(world.users.county_a)
    response = client.get(changelist("pairing_pairing"), {"open": "yes"})
    assert [p.household for p in response.context["cl"].result_list] == [world.household_a2]
    body = response.content.decode()
    assert "进行中" in body and "已结束" in body
    response = client.get(changelist("pairing_pairing"), {"open": "no"})
    assert [p.household for p in response.context["cl"].result_list] == [world.household_a]


# --- Objects outside the scope do not exist -----------------------------------------------------


def test_another_townships_household_is_not_reachable(client, world):
    client.force_login(world.users.town_b)
    url = reverse("admin:households_household_change", args=[world.household_a.pk])
    response = client.get(url)
    # Django's admin answers a missing object with a redirect to the index and a message.
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    response = client.get(url, follow=True)
    body = response.content.decode()
    assert "不存在" in body and "王建国" not in body
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == [] or all("王建国" not in m for m in messages)
    history = client.get(reverse("admin:households_household_history", args=[world.household_a.pk]))
    assert history.status_code == 302 and history["Location"] == reverse("admin:index")


def test_a_writer_cannot_change_another_townships_household(client, world):
    client.force_login(world.users.town_b)
    url = reverse("admin:households_household_change", args=[world.household_a.pk])
    response = client.post(url, {"head_name": "改名"})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    world.household_a.refresh_from_db()
    assert world.household_a.head_name == "王建国"


def test_member_of_another_township_is_not_reachable(client, world):
    member = world.household_b.members.first()
    client.force_login(world.users.town_a)
    response = client.get(reverse("admin:households_member_change", args=[member.pk]), follow=True)
    assert "不存在" in response.content.decode() and member.name not in response.content.decode()


# --- Roles decide who writes --------------------------------------------------------------------


def test_read_only_role_can_view_but_not_change_or_add(client, world):
    client.force_login(world.users.county_a)
    url = reverse("admin:households_household_change", args=[world.household_a.pk])
    page = client.get(url)
    assert page.status_code == 200 and "王建国" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert client.post(url, {"head_name": "改名"}).status_code == 403
    add = reverse("admin:households_household_add")
    assert client.get(add).status_code == 403
    assert client.post(add, _household_post(world.village_a, f.resident_id())).status_code == 403
    world.household_a.refresh_from_db()
    assert world.household_a.head_name == "王建国"
    assert client.get(changelist("households_household")).context["has_add_permission"] is False


def test_regions_are_read_only_below_the_province(client, world):
    url = reverse("admin:households_region_change", args=[world.village_a.code])
    data = {"name": "东关村", "is_poor": "on"}
    for name in ("county_a", "town_a"):
        client.force_login(getattr(world.users, name))
        assert client.get(url).status_code == 200
        assert client.post(url, data).status_code == 403
    client.force_login(world.users.province)
    assert client.post(url, data).status_code == 302
    world.village_a.refresh_from_db()
    assert world.village_a.name == "东关村"


def test_province_adds_a_region_under_its_parent(client, world):
    client.force_login(world.users.province)
    add = reverse("admin:households_region_add")
    bad = {"code": "622926101202", "name": "新村", "level": "village", "parent": world.town_a.code}
    response = client.post(add, bad)
    assert response.status_code == 200 and "code" in response.context["adminform"].form.errors
    good = {**bad, "code": "621121101202"}
    assert client.post(add, good).status_code == 302
    assert Region.objects.get(code="621121101202").parent == world.town_a


@pytest.mark.parametrize("username", ["town_a", "county_a", "province"])
def test_only_superusers_delete_and_relations_never(client, world, username):
    client.force_login(getattr(world.users, username))
    delete = reverse("admin:households_household_delete", args=[world.household_a.pk])
    assert client.get(delete).status_code == 403
    client.force_login(world.users.admin)
    assert client.get(delete).status_code == 200
    pairing = Pairing.objects.get(household=world.household_a)
    link = VillageLink.objects.get(village=world.village_a)
    assert client.get(reverse("admin:pairing_pairing_delete", args=[pairing.pk])).status_code == 403
    assert client.get(reverse("admin:pairing_villagelink_delete", args=[link.pk])).status_code == 403
    assert "delete_selected" not in client.get(changelist("pairing_pairing")).content.decode()


def test_pairing_is_ended_not_rewritten(client, world):
    pairing = Pairing.objects.get(household=world.household_a)
    other = f.cadre(world.unit_a, "周其他")
    url = reverse("admin:pairing_pairing_change", args=[pairing.pk])
    client.force_login(world.users.town_a)
    assert client.get(reverse("admin:pairing_pairing_add")).status_code == 403  # pages check the rules
    response = client.post(url, {"ended_on": "2024-01-01", "end_reason": "调动"})
    assert response.status_code == 200
    assert "结束日期不能早于开始日期" in response.content.decode()
    response = client.post(url, {"ended_on": "2024-09-30", "end_reason": "", "cadre": other.pk})
    assert "end_reason" in response.context["adminform"].form.errors
    response = client.post(url, {"ended_on": "2024-09-30", "end_reason": "户已脱贫", "cadre": other.pk})
    assert response.status_code == 302
    pairing.refresh_from_db()
    assert (pairing.cadre, pairing.ended_on) == (world.cadre_a, datetime.date(2024, 9, 30))
    assert pairing.end_reason == "户已脱贫"
    # An ended relation is history: view only.
    assert client.get(url).status_code == 200
    assert client.post(url, {"ended_on": "2024-10-31", "end_reason": "其他"}).status_code == 403


def test_county_links_a_village_of_its_own(client, world):
    client.force_login(world.users.county_a)
    add = reverse("admin:pairing_villagelink_add")
    data = {"unit": world.unit_a.pk, "village": world.village_b.code, "started_on": "2024-05-01"}
    response = client.post(add, data)
    assert response.status_code == 200 and "village" in response.context["adminform"].form.errors
    data["village"] = world.village_a2.code
    assert client.post(add, data).status_code == 302
    link = VillageLink.objects.get(village=world.village_a2)
    assert (link.unit, link.created_by) == (world.unit_a, world.users.county_a)
    client.force_login(world.users.town_a)
    assert client.get(add).status_code == 403


# --- Township staff enter households ------------------------------------------------------------


def _member_rows(members):
    data = {
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    for index, (name, id_number, relation) in enumerate(members):
        data.update(
            {
                f"members-{index}-name": name,
                f"members-{index}-id_number": id_number,
                f"members-{index}-relation": relation,
                f"members-{index}-ethnicity": "汉族",
                f"members-{index}-schooling": "非在校生",
                f"members-{index}-health": "健康",
                f"members-{index}-has_medical_insurance": "on",
            }
        )
    return data


def _household_post(village, head_id, members=None):
    data = {
        "village": village.code,
        "group": "2社",
        "head_name": "新户主",
        "head_id_number": head_id,
        "category": "一般贫困户",
        "main_cause": "因病",
        "status": "在册",
        "income_per_head": "",
        "housing": "",
        "phone": "",
    }
    data.update(_member_rows(members if members is not None else [("新户主", head_id, "户主")]))
    return data


def _id_ending_in_x():
    for sequence in itertools.count(1):
        number = idcard.make("621121", datetime.date(1980, 2, 29), sequence)
        if number.endswith("X") and not Member.objects.filter(id_number=number).exists():
            return number


def test_township_adds_a_household_with_its_members(client, world):
    client.force_login(world.users.town_a)
    head_id = _id_ending_in_x()
    child_id = idcard.make("621121", datetime.date(2015, 3, 8), 2)  # even sequence: a girl
    members = [("新户主", head_id.lower(), "户主"), ("新小", "  " + child_id + " ", "之女")]
    # Typed by hand: a lowercase x and stray spaces are normalised.
    data = _household_post(world.village_a, f" {head_id.lower()}", members)
    response = client.post(reverse("admin:households_household_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    household = Household.objects.get(head_id_number=head_id)
    assert household.village == world.village_a
    head, child = household.members.order_by("birth_date")
    head_sex = "M" if int(head_id[16]) % 2 else "F"
    assert (head.id_number, head.sex, head.birth_date) == (head_id, head_sex, datetime.date(1980, 2, 29))
    assert (child.id_number, child.sex, child.birth_date) == (child_id, "F", datetime.date(2015, 3, 8))


def test_township_cannot_add_a_household_in_another_township(client, world):
    client.force_login(world.users.town_a)
    add = reverse("admin:households_household_add")
    for village in (world.village_b, world.village_a2, world.town_a):  # not ours, not ours, not a village
        head_id = f.resident_id()
        response = client.post(add, _household_post(village, head_id))
        assert response.status_code == 200
        assert "选择一个有效的选项" in str(response.context["adminform"].form.errors["village"])
        assert not Household.objects.filter(head_id_number=head_id).exists()


def test_the_village_chooser_offers_only_villages_in_scope(client, world):
    client.force_login(world.users.town_a)
    page = client.get(reverse("admin:households_household_add")).content.decode()
    form = client.get(reverse("admin:households_household_add")).context["adminform"].form
    assert list(form.fields["village"].queryset) == [world.village_a]
    assert "admin-autocomplete" in page


def test_invalid_id_gets_a_chinese_message(client, world):
    client.force_login(world.users.town_a)
    good = f.resident_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    add = reverse("admin:households_household_add")
    response = client.post(add, _household_post(world.village_a, bad, [("新户主", good, "户主")]))
    assert response.status_code == 200
    assert "校验位错误" in str(response.context["adminform"].form.errors["head_id_number"])
    members = [("新户主", good, "户主"), ("某", "12345", "之子")]
    response = client.post(add, _household_post(world.village_a, good, members))
    assert response.status_code == 200
    assert "应为18位" in response.content.decode()
    assert not Household.objects.filter(head_id_number=good).exists()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ([], "请在家庭成员中填写户主本人"),
        ([("甲", "HEAD", "户主"), ("乙", "OTHER", "户主")], "每户只能有一名户主"),
        ([("甲", "OTHER", "户主")], "户主的身份证号码应与户主身份证号码一致"),
    ],
)
def test_the_head_is_the_one_head_member(client, world, members, message):
    client.force_login(world.users.town_a)
    head_id, other_id = f.resident_id(), f.resident_id()
    rows = [(name, {"HEAD": head_id, "OTHER": other_id}[ref], relation) for name, ref, relation in members]
    data = _household_post(world.village_a, head_id, rows)
    response = client.post(reverse("admin:households_household_add"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Household.objects.filter(head_id_number=head_id).exists()


def test_the_head_changes_within_one_form(client, world):
    """The old head is demoted before the new one is promoted, so the one-head index holds."""
    household = world.household_a
    members = list(household.members.order_by("-birth_date"))  # the new head (a child) saves first
    new_head = members[0]
    client.force_login(world.users.town_a)
    data = {
        "village": household.village_id,
        "group": household.group,
        "head_name": new_head.name,
        "head_id_number": new_head.id_number,
        "category": household.category,
        "main_cause": "",
        "status": household.status,
        "income_per_head": "",
        "housing": "",
        "phone": "",
        "version": household.version,
        "members-TOTAL_FORMS": str(len(members)),
        "members-INITIAL_FORMS": str(len(members)),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    for index, member in enumerate(members):
        relation = "户主" if member == new_head else ("之父" if member.relation == "户主" else "兄弟姐妹")
        data.update(
            {
                f"members-{index}-id": member.pk,
                f"members-{index}-household": household.pk,
                f"members-{index}-name": member.name,
                f"members-{index}-id_number": member.id_number,
                f"members-{index}-relation": relation,
                f"members-{index}-ethnicity": "汉族",
                f"members-{index}-schooling": "非在校生",
                f"members-{index}-health": "健康",
                f"members-{index}-version": member.version,
            }
        )
    response = client.post(reverse("admin:households_household_change", args=[household.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert household.members.get(relation="户主") == new_head
    assert client.get(reverse("admin:households_household_change", args=[household.pk])).status_code == 200


def test_township_staff_cannot_delete_members_inline(client, world):
    client.force_login(world.users.town_a)
    response = client.get(reverse("admin:households_household_change", args=[world.household_a.pk]))
    formset = response.context["inline_admin_formsets"][0].formset
    assert not formset.can_delete


def test_a_member_edited_alone_keeps_sex_and_birth_date_from_the_id(client, world):
    member = world.household_a.members.exclude(relation="户主").first()
    new_id = idcard.make("621121", datetime.date(2014, 6, 1), 8)  # even sequence: a girl
    data = {
        "household": world.household_a.pk,
        "name": member.name,
        "id_number": f" {new_id} ",
        "relation": "之女",
        "ethnicity": "汉族",
        "schooling": "小学",
        "health": "健康",
        "version": member.version,
    }
    url = reverse("admin:households_member_change", args=[member.pk])
    client.force_login(world.users.town_a)
    assert client.post(url, {**data, "household": world.household_b.pk}).status_code == 200  # not ours
    assert client.post(url, {**data, "relation": "户主"}).status_code == 200  # 王建国 is the head
    assert client.post(url, data).status_code == 302
    member.refresh_from_db()
    assert (member.id_number, member.sex, member.birth_date) == (new_id, "F", datetime.date(2014, 6, 1))


def test_a_unit_liaison_adds_cadres_to_its_own_unit_only(client, world):
    client.force_login(world.users.unit_a)
    add = reverse("admin:pairing_cadre_add")
    data = {
        "unit": world.unit_b.pk,
        "name": "新干部",
        "phone": "",
        "post": "",
        "rank": "一般",
        "category": "公务员",
        "status": "在岗",
    }
    response = client.post(add, data)
    assert response.status_code == 200 and "unit" in response.context["adminform"].form.errors
    assert client.post(add, {**data, "unit": world.unit_a.pk}).status_code == 302
    assert Cadre.objects.get(name="新干部").unit == world.unit_a


def test_cadre_export_writes_the_listed_cadres_of_the_users_scope_to_xlsx(client, world):
    f.cadre(world.unit_a, "=HYPERLINK(\"x\")", phone="13800001111")
    f.cadre(world.unit_b, "他县干部")
    client.force_login(world.users.county_a)
    response = client.get(reverse("admin:pairing_cadre_export"))
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("单位", "姓名", "手机号码")
    names = {row[1] for row in rows[1:]}
    assert "他县干部" not in names  # another county's cadre
    assert "'=HYPERLINK(\"x\")" in names  # escaped by the app's one writer: never a live formula
    assert not any(str(value).startswith("=") for row in rows for value in row if value)
    assert "13800001111" in {row[2] for row in rows[1:]}
    searched = client.get(reverse("admin:pairing_cadre_export"), {"q": "他县"})
    assert len(list(load_workbook(io.BytesIO(searched.content)).active.iter_rows())) == 1  # the header only


# --- Autocomplete answers from the same scope ---------------------------------------------------


def _autocomplete(client, app_label, model_name, field_name, term=""):
    return client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
    )


@pytest.mark.parametrize(
    ("username", "term", "expected"),
    [
        ("town_a", "村", ["621121101201"]),
        ("town_a", "", ["621121101201"]),
        ("town_a", "622926", []),
        ("county_a", "村", ["621121101201", "621121102201"]),
        ("unit_b", "", ["622926101201"]),
        ("admin", "村民委员会", ["621121101201", "621121102201", "622926101201"]),
    ],
)
def test_village_autocomplete_is_scoped(client, world, username, term, expected):
    client.force_login(getattr(world.users, username))
    response = _autocomplete(client, "households", "household", "village", term)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == expected


def test_other_autocompletes_are_scoped_too(client, world):
    client.force_login(world.users.town_a)
    households = _autocomplete(client, "pairing", "pairing", "household").json()["results"]
    assert [item["text"] for item in households] == ["王建国户"]
    cadres = _autocomplete(client, "pairing", "pairing", "cadre").json()["results"]
    assert [item["text"] for item in cadres] == ["李文华"]
    units = _autocomplete(client, "pairing", "cadre", "unit").json()["results"]
    assert [item["text"] for item in units] == ["通渭县农业农村局"]
    # The endpoint answers for any foreign key, not only the admin's own: still scoped.
    regions = _autocomplete(client, "accounts", "user", "region").json()["results"]
    assert {item["id"] for item in regions} == {world.town_a.code, world.village_a.code}
    # Accounts are for superusers: no autocomplete over them either.
    assert _autocomplete(client, "pairing", "villagelink", "created_by").status_code == 403


# --- Fixed query counts ---------------------------------------------------------------------------


def _grow(world, rows):
    """`rows` more of everything each changelist shows, all inside city A."""
    for _ in range(rows):
        number = 30 + Region.objects.filter(level="county", code__startswith="6211").count()
        tag = f"{number:02d}"
        county = f.region(f"6211{number:02d}000000", f"测试县{tag}", "county")
        village = f.region(f"{county.code[:6]}100201", f"测试村{tag}", "village")
        unit = f.unit(county, f"测试单位{tag}", level="county")
        cadre = f.cadre(unit, f"干部{tag}")
        household = f.household(world.village_a, f"批量{tag}", members=2)
        f.link(unit, village)
        f.pairing(cadre, household)
        CountyRules.objects.create(county=county)
        RankLimit.objects.create(county=county, rank=Cadre.Rank.STAFF, max_households=5, max_poor=2)
        PairingException.objects.create(
            cadre=cadre, village=world.village_a, reason="测试", created_by=world.users.admin
        )
        f.user(f"user{tag}", "township", region=village.parent)


COUNTED = [name for name in CHANGELISTS if not name.startswith("visits_")] + ["accounts_user"]


@pytest.mark.parametrize(
    ("username", "model"),
    [("admin", model) for model in COUNTED]
    + [("city_a", model) for model in COUNTED if model != "accounts_user"],
)
def test_changelist_query_count_does_not_grow(client, world, username, model):
    client.force_login(getattr(world.users, username))
    url = changelist(model)
    _grow(world, 3)
    client.get(url)  # warm the per-process caches (content types) so that both counts are steady
    few = count_queries(client, url)
    shown_few = client.get(url).context["cl"].result_count
    _grow(world, 27)
    many = count_queries(client, url)
    assert client.get(url).context["cl"].result_count >= shown_few + 27
    assert many == few, f"{model}: {few} queries with a few rows, {many} with many"


def test_household_change_page_query_count_does_not_grow_with_members(client, world):
    client.force_login(world.users.town_a)
    small = f.household(world.village_a, "小户", members=3)
    large = f.household(world.village_a, "大户", members=30)
    client.get(reverse("admin:households_household_change", args=[small.pk]))  # warm the caches
    few = count_queries(client, reverse("admin:households_household_change", args=[small.pk]))
    many = count_queries(client, reverse("admin:households_household_change", args=[large.pk]))
    assert many == few
