"""Lost updates: every edit form of a shared record (households, members, units, cadres, plans, on
the pages and in the admin) saves only at the version it was opened on, and requires it."""

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import F
from django.test import Client
from django.urls import reverse

from households.admin import HouseholdAdmin
from households.forms import HouseholdForm
from households.models import Household, Member
from pairing import services as pairing_services
from pairing.models import Cadre
from plans import services as plan_services
from plans.models import HouseholdPlan, VillagePlan
from shuanglian.lib.versions import StaleVersion
from tests.test_plans import YEAR, household_data, village_data

STALE = "此记录已被他人修改"
MISSING = "缺少版本号"


def household_post(household, **changes):
    data = {
        "village": household.village_id,
        "group": household.group,
        "category": household.category,
        "main_cause": household.main_cause,
        "income_per_head": "",
        "housing": "",
        "phone": household.phone,
        "status": household.status,
        "version": household.version,
    }
    data.update(changes)
    return data


def someone_else_saves(obj, **changes):
    """Another user's save, landing after our form was opened."""
    fresh = type(obj).objects.get(pk=obj.pk)
    for name, value in changes.items():
        setattr(fresh, name, value)
    fresh.save()
    return fresh


# --- The version moves on ---------------------------------------------------------------------


def test_every_save_moves_the_version_on_even_a_partial_one(world):
    cadre = Cadre.objects.get(pk=world.cadre_b.pk)
    start = cadre.version
    cadre.post = "科员"
    cadre.save()
    assert Cadre.objects.get(pk=world.cadre_b.pk).version == start + 1
    before = world.cadre_a.version
    pairing_services.set_cadre_status(cadre=world.cadre_a, status=Cadre.Status.ACTIVE)  # saves update_fields
    assert Cadre.objects.get(pk=world.cadre_a.pk).version == before + 1


# --- The household page ------------------------------------------------------------------------


class TestHouseholdPage:
    def url(self, household):
        return reverse("households:edit", args=[household.pk])

    def test_the_form_carries_the_version_it_was_opened_on(self, client, world):
        client.force_login(world.users.town_a)
        page = client.get(self.url(world.household_a)).content.decode()
        assert f'<input type="hidden" name="version" value="{world.household_a.version}"' in page

    @pytest.mark.parametrize("version", [None, "", "abc", "-1"])
    def test_a_save_without_a_version_is_refused_not_taken_as_fresh(self, client, world, version):
        household = world.household_a
        data = household_post(household, group="9社")
        if version is None:
            del data["version"]
        else:
            data["version"] = version
        client.force_login(world.users.town_a)
        response = client.post(self.url(household), data)
        assert response.status_code == 200
        assert MISSING in response.content.decode()
        assert Household.objects.get(pk=household.pk).group == household.group

    def test_a_stale_save_is_refused_with_a_message_and_writes_nothing(self, client, world):
        household = world.household_a
        data = household_post(household, group="9社", phone="13900000000")
        someone_else_saves(household, group="5社")
        client.force_login(world.users.town_a)
        response = client.post(self.url(household), data)
        assert response.status_code == 200
        assert STALE in response.content.decode()
        saved = Household.objects.get(pk=household.pk)
        assert (saved.group, saved.phone, saved.version) == ("5社", household.phone, household.version + 1)

    def test_a_save_landing_between_the_check_and_the_write_is_refused(self, world):
        """Both forms pass their check at the same version; the write checks again, atomically."""
        household = world.household_a
        first, second = (
            HouseholdForm(
                household_post(household, group=group),
                instance=Household.objects.get(pk=household.pk),
                user=world.users.town_a,
            )
            for group in ("7社", "8社")
        )
        assert first.is_valid() and second.is_valid()
        first.save()
        with pytest.raises(StaleVersion):
            second.save()
        saved = Household.objects.get(pk=household.pk)
        assert (saved.group, saved.version) == ("7社", household.version + 1)

    def test_a_fresh_save_goes_through_and_moves_the_version(self, client, world):
        household = world.household_a
        client.force_login(world.users.town_a)
        assert client.post(self.url(household), household_post(household, group="3社")).status_code == 302
        saved = Household.objects.get(pk=household.pk)
        assert (saved.group, saved.version) == ("3社", household.version + 1)
        # The same form sent again (a double press) is now stale, not a second write.
        response = client.post(self.url(household), household_post(household, group="4社"))
        assert STALE in response.content.decode()
        assert Household.objects.get(pk=household.pk).group == "3社"


# --- Plans -------------------------------------------------------------------------------------


class TestPlanPages:
    def household_plan_post(self, version, **changes):
        data = {
            "year": YEAR,
            "causes": ["缺技术"],
            "measures": ["产业"],
            "targets": "养羊二十只",
            "income_last_year": "",
            "income_this_year": "",
            "outcome": "",
        }
        if version is not None:
            data["version"] = version
        data.update(changes)
        return data

    def test_a_new_plan_is_opened_on_version_0(self, client, world):
        client.force_login(world.users.town_a)
        url = reverse("plans:household_edit", args=[world.household_a.pk])
        assert client.get(url, {"year": YEAR}).context["form"].initial["version"] == 0

    @pytest.mark.parametrize("version", [None, "", "x"])
    def test_a_plan_save_without_a_version_is_refused(self, client, world, version):
        client.force_login(world.users.town_a)
        url = reverse("plans:household_edit", args=[world.household_a.pk])
        response = client.post(url, self.household_plan_post(version))
        assert response.status_code == 200 and MISSING in response.content.decode()
        assert not HouseholdPlan.objects.exists()
        plan, _ = plan_services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        response = client.post(url, self.household_plan_post(version, targets="改"))
        assert response.status_code == 200 and MISSING in response.content.decode()
        assert HouseholdPlan.objects.get().targets == plan.targets

    def test_a_stale_plan_save_is_refused_and_writes_nothing(self, client, world):
        plan, _ = plan_services.save_household_plan(
            household=world.household_a, year=YEAR, data=household_data(), by=world.users.town_a
        )
        plan_services.save_household_plan(
            household=world.household_a,
            year=YEAR,
            data=household_data(targets="新"),
            by=world.users.town_a,
            expected_version=plan.version,
        )
        client.force_login(world.users.town_a)
        url = reverse("plans:household_edit", args=[world.household_a.pk])
        response = client.post(url, self.household_plan_post(plan.version, targets="旧页面"))
        assert response.status_code == 200 and STALE in response.content.decode()
        saved = HouseholdPlan.objects.get()
        assert (saved.targets, saved.version, saved.versions.count()) == ("新", 2, 2)

    def test_a_form_opened_on_no_plan_cannot_overwrite_one_made_meanwhile(self, client, world):
        client.force_login(world.users.town_a)
        url = reverse("plans:village_edit", args=[world.village_a.code])
        plan_services.save_village_plan(
            village=world.village_a, year=YEAR, data=village_data(), by=world.users.town_a
        )
        data = {
            "year": YEAR,
            "development_path": "另一条路",
            "leading_industry": "苹果",
            "projects": "",
            "version": 0,
        }
        response = client.post(url, data)
        assert response.status_code == 200 and STALE in response.content.decode()
        assert VillagePlan.objects.get().leading_industry == village_data()["leading_industry"]
        # And a version for a plan that does not exist is no way to create one.
        VillagePlan.objects.all().delete()
        assert STALE in client.post(url, {**data, "version": 3}).content.decode()
        assert not VillagePlan.objects.exists()


# --- The admin ---------------------------------------------------------------------------------


def posted(form) -> dict:
    """What the browser sends for `form` as the page shows it."""
    data = {}
    for bound in form:
        value = bound.value()
        if isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = value
    return data


def admin_form_data(response, **changes) -> dict:
    """The change page's form and inlines as opened, with `changes` to the main form."""
    data = posted(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        data.update(posted(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(posted(form))
    data.update(changes)
    return data


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def admin_cases(world):
    """(the writer, an object it may change, a change to make)."""
    member = world.household_a.members.exclude(relation="户主").first()
    return [
        (world.users.town_a, world.household_a, {"group": "9社"}),
        (world.users.town_a, member, {"name": "改名"}),
        (world.users.county_a, world.unit_a, {"name": "通渭县农业农村局（新）"}),
        (world.users.unit_a, world.cadre_a, {"post": "副局长"}),
    ]


CASES = ["household", "member", "unit", "cadre"]


@pytest.mark.parametrize("case", range(len(CASES)), ids=CASES)
class TestAdminChangeForms:
    def test_the_form_as_opened_saves(self, client, world, case):
        user, obj, changes = admin_cases(world)[case]
        client.force_login(user)
        opened = client.get(change_url(obj))
        assert 'name="version"' in opened.content.decode()
        response = client.post(change_url(obj), admin_form_data(opened, **changes))
        assert response.status_code == 302, response.context["adminform"].form.errors
        saved = type(obj).objects.get(pk=obj.pk)
        name, value = next(iter(changes.items()))
        assert (getattr(saved, name), saved.version) == (value, obj.version + 1)

    def test_a_stale_admin_edit_is_refused(self, client, world, case):
        user, obj, changes = admin_cases(world)[case]
        client.force_login(user)
        opened = client.get(change_url(obj))
        name, value = next(iter(changes.items()))
        someone_else_saves(obj)  # a page edit, say
        response = client.post(change_url(obj), admin_form_data(opened, **changes))
        assert response.status_code == 200 and STALE in response.content.decode()
        saved = type(obj).objects.get(pk=obj.pk)
        assert (getattr(saved, name), saved.version) == (getattr(obj, name), obj.version + 1)

    def test_an_admin_edit_without_a_version_is_refused(self, client, world, case):
        user, obj, changes = admin_cases(world)[case]
        client.force_login(user)
        data = admin_form_data(client.get(change_url(obj)), **changes)
        del data["version"]
        response = client.post(change_url(obj), data)
        assert response.status_code == 200 and MISSING in response.content.decode()
        name, _value = next(iter(changes.items()))
        assert getattr(type(obj).objects.get(pk=obj.pk), name) == getattr(obj, name)


def test_a_stale_member_row_refuses_the_whole_household_page(client, world):
    household = world.household_a
    client.force_login(world.users.town_a)
    opened = client.get(change_url(household))
    member = household.members.exclude(relation="户主").first()
    someone_else_saves(member, name="别人改的")
    data = admin_form_data(opened, group="9社")
    row = next(
        key[: -len("-id")] for key, value in data.items() if key.endswith("-id") and value == member.pk
    )
    data[f"{row}-name"] = "我改的"
    response = client.post(change_url(household), data)
    assert response.status_code == 200 and STALE in response.content.decode()
    assert Household.objects.get(pk=household.pk).group == household.group
    assert Member.objects.get(pk=member.pk).name == "别人改的"


def test_an_admin_save_overtaken_after_its_check_writes_nothing(client, world, monkeypatch):
    """Someone saves between the form's check and the write: the claim refuses, and the whole change
    page (members included) rolls back."""
    household = world.household_a
    client.force_login(world.users.town_a)
    opened = client.get(change_url(household))
    original = HouseholdAdmin.save_form

    def overtaken(self, request, form, change):
        # (In the one connection of a test this other save is rolled back with ours.)
        Household.objects.filter(pk=household.pk).update(version=F("version") + 1)
        return original(self, request, form, change)

    monkeypatch.setattr(HouseholdAdmin, "save_form", overtaken)
    data = admin_form_data(opened, group="9社")
    row = next(key[: -len("-name")] for key in data if key.startswith("members-") and key.endswith("-name"))
    data[f"{row}-name"] = "我改的"
    response = client.post(change_url(household), data)
    assert response.status_code == 302 and response["Location"] == change_url(household)
    assert [str(m) for m in get_messages(response.wsgi_request)][0].startswith(STALE)
    saved = Household.objects.get(pk=household.pk)
    assert (saved.group, saved.version) == (household.group, household.version)
    assert not Member.objects.filter(name="我改的").exists()


# --- Two saves at once (PostgreSQL: SQLite runs one writer at a time) ---------------------------


def _post_together(posts):
    """Send the (client, url, data) posts at once, each from its own thread and connection."""
    start = threading.Barrier(len(posts))
    answers = [None] * len(posts)

    def send(index, client, url, data):
        try:
            start.wait()
            answers[index] = client.post(url, data)
        except Exception as error:  # noqa: BLE001 - asserted below
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(index, *post)) for index, post in enumerate(posts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs one writer at a time")
@pytest.mark.parametrize("second", ["page", "admin"])
def test_two_saves_of_one_household_at_once_exactly_one_wins(world, second):
    household = world.household_a
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(world.users.town_a)
    for attempt in range(10):
        current = Household.objects.get(pk=household.pk)
        page = (
            clients[0],
            reverse("households:edit", args=[household.pk]),
            household_post(current, group=f"{attempt}页"),
        )
        if second == "page":
            other = (clients[1], page[1], household_post(current, group=f"{attempt}另"))
        else:
            opened = clients[1].get(change_url(household))
            other = (clients[1], change_url(household), admin_form_data(opened, group=f"{attempt}另"))
        answers = _post_together([page, other])
        assert all(not isinstance(answer, Exception) for answer in answers), answers
        # A save redirects onwards; a refusal shows the form again, or (the admin, when overtaken
        # after its form's check) sends the user back to the change page with the message.
        won = [
            answer.status_code == 302 and answer["Location"] != url
            for answer, (_c, url, _d) in zip(answers, [page, other])
        ]
        assert won.count(True) == 1, (attempt, [answer.status_code for answer in answers])
        loser = answers[won.index(False)]
        shown = (
            loser.content.decode()
            if loser.status_code == 200
            else " ".join(str(m) for m in get_messages(loser.wsgi_request))
        )
        assert STALE in shown
        saved = Household.objects.get(pk=household.pk)
        assert saved.group == [f"{attempt}页", f"{attempt}另"][won.index(True)]
        assert saved.version == current.version + 1
