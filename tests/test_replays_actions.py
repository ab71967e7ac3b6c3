"""Every other state-changing button of the app pressed twice (issue 16 item 4): the second press
writes nothing, shows no error and lands on the result the first press made, with a neutral
message. The visit, demand, proposal and import presses are in test_replays.py.
"""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from evaluation.models import Round
from households.models import Household
from imports.models import ImportBatch
from pairing.models import Cadre, Handover, Pairing, Proposal
from plans.models import HouseholdPlan, HouseholdPlanVersion, VillagePlan
from tests import factories as f
from tests.test_import_households import family, household_workbook
from tests.test_replays import flash
from tests.test_versions import household_post

pytestmark = pytest.mark.django_db

DAY = "2025-07-01"


def twice(client, url, data=None, **extra):
    """Press a button twice; both presses must land on one page, the second with a neutral message."""
    first = client.post(url, data or {}, **extra)
    second = client.post(url, data or {}, **extra)
    assert first.status_code == second.status_code == 302, second.content.decode()[:2000]
    assert first.url == second.url
    level, text = flash(second)
    assert level == "info", text
    assert client.get(second.url).status_code == 200
    return first, second, text


@pytest.fixture
def unpaired(world):
    return [f.household(world.village_a, f"待帮{i}", members=1) for i in range(3)]


# --- pairing ----------------------------------------------------------------------------------


def test_pairing_a_household_twice_pairs_once(client, world, unpaired):
    helper = f.cadre(world.unit_a, "周新来")
    client.force_login(world.users.town_a)
    url = reverse("pairing:pair_household", args=[unpaired[0].pk])
    _, second, text = twice(client, url, {"cadre": helper.pk, "role": "帮扶责任人", "started_on": DAY})
    assert second.url == reverse("households:detail", args=[unpaired[0].pk])
    assert text == "已安排 周新来 联系本户，重复的提交未再办理"
    assert Pairing.objects.filter(cadre=helper).count() == 1


def test_pairing_from_the_cadre_page_twice_pairs_once(client, world, unpaired):
    helper = f.cadre(world.unit_a, "周新来", rank=Cadre.Rank.SECTION)
    client.force_login(world.users.town_a)
    data = {
        "households": [unpaired[0].pk, unpaired[1].pk],
        "cadre": helper.pk,
        "role": "帮扶责任人",
        "started_on": DAY,
    }
    _, second, text = twice(client, reverse("pairing:pair_cadre", args=[helper.pk]), data)
    assert second.url == reverse("pairing:cadre_detail", args=[helper.pk])
    assert text == "已安排 周新来 联系这 2 户，重复的提交未再办理"
    assert Pairing.objects.filter(cadre=helper).count() == 2


def test_bulk_pairing_twice_pairs_once(client, world, unpaired):
    staff = f.cadre(world.unit_a, "科员乙")
    client.force_login(world.users.town_a)
    url = reverse("pairing:bulk_pair") + f"?village={world.village_a.code}"
    data = {"households": [unpaired[0].pk], "cadre": staff.pk, "role": "帮扶责任人", "started_on": DAY}
    _, second, _text = twice(client, url, data)
    assert second.url == url
    assert Pairing.objects.filter(cadre=staff).count() == 1


def test_a_pairing_of_another_township_is_not_taken_for_a_replay(client, world):
    """The replay check reads only households the user sees: no confirmation that one is paired."""
    client.force_login(world.users.town_a)
    url = reverse("pairing:bulk_pair") + f"?village={world.village_a.code}"
    data = {"households": [world.household_b.pk], "cadre": world.cadre_b.pk, "role": "帮扶责任人"}
    started_on = Pairing.objects.get(household=world.household_b).started_on
    response = client.post(url, {**data, "started_on": str(started_on)})
    assert response.status_code == 200 and not list(response.context["messages"])


def test_applying_a_proposal_twice_applies_once(client, world, unpaired):
    proposal = Proposal.objects.create(region=world.town_a, started_on=DAY, proposed_by=world.users.town_a)
    proposal.lines.create(household=unpaired[0], suggested_cadre=world.cadre_a, cadre=world.cadre_a)
    client.force_login(world.users.county_a)
    _, second, text = twice(client, reverse("pairing:proposal_apply", args=[proposal.pk]))
    assert second.url == reverse("pairing:proposal_detail", args=[proposal.pk])
    assert text == "方案已实施，重复的提交未再办理"
    assert Pairing.objects.filter(household=unpaired[0]).count() == 1


def test_discarding_a_proposal_twice(client, world, unpaired):
    proposal = Proposal.objects.create(region=world.town_a, started_on=DAY, proposed_by=world.users.town_a)
    client.force_login(world.users.town_a)
    _, _second, text = twice(client, reverse("pairing:proposal_discard", args=[proposal.pk]))
    assert text == "方案已作废，重复的提交未再办理"


def start_handover(client, world):
    f.cadre(world.unit_a, "接任者")
    client.force_login(world.users.unit_a)
    return client.post(
        reverse("pairing:handover_start", args=[world.cadre_a.pk]),
        {"new_status": "调离", "effective_on": "2025-09-01"},
    )


def test_starting_a_handover_twice_opens_one(client, world):
    first = start_handover(client, world)
    second = client.post(
        reverse("pairing:handover_start", args=[world.cadre_a.pk]),
        {"new_status": "调离", "effective_on": "2025-09-01"},
    )
    assert first.url == second.url and flash(second)[0] == "info"
    assert Handover.objects.count() == 1 and Handover.objects.get().lines.count() == 1


def test_applying_a_handover_twice_applies_once(client, world):
    handover_url = start_handover(client, world).url
    handover = Handover.objects.get()
    client.force_login(world.users.county_a)
    _, second, text = twice(client, reverse("pairing:handover_apply", args=[handover.pk]))
    assert second.url == handover_url
    assert text == "交接已实施，重复的提交未再办理"
    assert (
        Pairing.objects.filter(household=world.household_a).count() == 2
    )  # the ended one and its successor's
    assert Pairing.objects.open().filter(household=world.household_a).count() == 1


def test_applying_ones_share_of_a_handover_twice(client, world):
    """A handover with a household of another county: the second press of the county that applied its
    own share is told so, not refused with 「没有您辖区内待实施的农户」."""
    elsewhere = f.household(world.village_b, "外县户", members=1)
    f.pairing(world.cadre_a, elsewhere)
    start_handover(client, world)
    handover = Handover.objects.get()
    client.force_login(world.users.county_a)
    _, _second, text = twice(client, reverse("pairing:handover_apply", args=[handover.pk]))
    assert text == "本辖区的交接已实施，重复的提交未再办理"
    handover.refresh_from_db()
    assert handover.status == Handover.Status.PARTIAL


# --- households and plans ---------------------------------------------------------------------


def test_saving_a_household_twice_saves_once(client, world):
    household = world.household_a
    client.force_login(world.users.town_a)
    url = reverse("households:edit", args=[household.pk])
    _, second, text = twice(client, url, household_post(household, group="9社"))
    assert second.url == reverse("households:detail", args=[household.pk])
    assert text == "这份修改刚才已经保存，重复的提交未再保存"
    saved = Household.objects.get(pk=household.pk)
    assert (saved.group, saved.version) == ("9社", household.version + 1)


def test_a_household_form_racing_its_own_first_press_lands_too(world):
    """Both presses pass the form's check at one version; the second's write finds the first's."""
    from households.forms import HouseholdForm

    household = world.household_a
    first, second = (
        HouseholdForm(
            household_post(household, group="7社"),
            instance=Household.objects.get(pk=household.pk),
            user=world.users.town_a,
        )
        for _ in range(2)
    )
    assert first.is_valid() and second.is_valid()
    first.save()
    second.save()
    assert second.replayed and not first.replayed
    assert Household.objects.get(pk=household.pk).version == household.version + 1


def plan_post(version, **changes):
    return {
        "year": 2025,
        "causes": ["缺技术"],
        "measures": ["产业"],
        "targets": "养羊二十只",
        "income_last_year": "",
        "income_this_year": "",
        "outcome": "",
        "version": version,
        **changes,
    }


@pytest.mark.parametrize("version", [0, 1], ids=["new plan", "existing plan"])
def test_saving_a_household_plan_twice_saves_once(client, world, version):
    if version:
        from plans import services

        services.save_household_plan(
            household=world.household_a,
            year=2025,
            data={"causes": ["缺技术"], "measures": ["产业"], "targets": "旧"},
            by=world.users.town_a,
        )
    client.force_login(world.users.town_a)
    url = reverse("plans:household_edit", args=[world.household_a.pk])
    _, second, text = twice(client, url, plan_post(version))
    assert second.url == reverse("plans:household", args=[world.household_a.pk]) + "?year=2025"
    assert text == "与已保存的计划相同，未再保存"
    plan = HouseholdPlan.objects.get()
    assert plan.targets == "养羊二十只" and HouseholdPlanVersion.objects.count() == version + 1


def test_saving_a_village_plan_twice_saves_once(client, world):
    client.force_login(world.users.town_a)
    url = reverse("plans:village_edit", args=[world.village_a.code])
    data = {
        "year": 2025,
        "development_path": "草畜为主",
        "leading_industry": "肉羊",
        "projects": "",
        "version": 0,
    }
    twice(client, url, data)
    assert VillagePlan.objects.get().versions.count() == 1


# --- imports, evaluation, accounts ------------------------------------------------------------


def test_uploading_a_roster_twice_makes_one_batch(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(world.users.town_a)
    data = household_workbook([family(1)])
    presses = [
        client.post(
            reverse("imports:list"), {"kind": "households", "file": SimpleUploadedFile("花名册.xlsx", data)}
        )
        for _ in range(2)
    ]
    batch = ImportBatch.objects.get()
    assert [p.url for p in presses] == [reverse("imports:detail", args=[batch.pk])] * 2
    assert flash(presses[1]) == ("info", "同一文件刚才已上传，未重复上传，已打开该批次")
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.count() == 1
    # Another file, or the same one once the batch is done with, is a new batch.
    client.post(
        reverse("imports:list"),
        {"kind": "households", "file": SimpleUploadedFile("花名册.xlsx", household_workbook([family(2)]))},
    )
    assert ImportBatch.objects.count() == 2


def round_post(world, **changes):
    return {
        "region": world.county_a.code,
        "name": "2025年度群众评议",
        "year": 2025,
        "period": Round.Period.YEAR,
        "starts_on": "2025-11-01",
        "ends_on": "2025-12-31",
        "sample_method": Round.SampleMethod.ALL,
        "sample_parameter": "",
        "seed": "",
        "weight_masses": 60,
        **changes,
    }


def test_opening_an_evaluation_round_twice_opens_one(client, world):
    client.force_login(world.users.county_a)
    _, second, text = twice(client, reverse("evaluation:round_create"), round_post(world))
    assert second.url == reverse("evaluation:round_detail", args=[Round.objects.get().pk])
    assert text == "已发起同样的评议，未重复发起，已打开该轮评议"
    # Another name is another round.
    client.post(reverse("evaluation:round_create"), round_post(world, name="2025年度补充评议"))
    assert Round.objects.count() == 2


def test_closing_a_round_twice(client, world):
    client.force_login(world.users.county_a)
    client.post(reverse("evaluation:round_create"), round_post(world))
    round_ = Round.objects.get()
    _, _second, text = twice(client, reverse("evaluation:round_close", args=[round_.pk]))
    assert text == "本轮评议已结束，重复的提交未再办理"


def test_unlocking_an_account_twice(client, world):
    from tests.test_login_security import _lock

    _lock(client, "town_a")
    client.force_login(world.users.county_a)
    url = reverse("accounts:locked")
    _, _second, text = twice(client, url, {"username": "town_a"})
    assert text == "账号 town_a 已解锁，重复的提交未再办理"
    assert get_user_model().objects.filter(username="town_a").exists()


def test_assigning_a_village_twice(client, world):
    from tests.test_evaluation import _collector, _open

    round_ = _open(world)
    collector = _collector(world, "vol")
    client.force_login(world.users.county_a)
    url = reverse("evaluation:assign", args=[round_.pk])
    _, _second, text = twice(client, url, {"collector": collector.pk, "village": world.village_a.code})
    assert text == "该村的样本户已指派，重复的提交未再办理"
    assert round_.samples.filter(household__village=world.village_a, collector=collector).exists()


def test_a_ballot_pressed_twice_is_saved_once(client, world):
    from evaluation.models import Ballot
    from tests.test_evaluation import _assigned, _collector, _open

    round_ = _open(world)
    collector = _collector(world, "vol")
    sample = _assigned(world, round_, collector, household=world.household_a)[0]
    client.force_login(collector.user)
    form = {
        "mode": "入户",
        "satisfaction": "基本满意",
        "visits": "1–2次",
        "violation": "无",
        "deeds": ["危房改造"],
    }
    _, second, text = twice(client, reverse("evaluation:ballot", args=[sample.pk]), form)
    assert second.url == reverse("evaluation:collect")
    assert text == "这张评议票刚才已经保存，重复的提交未再保存"
    assert Ballot.objects.count() == 1


def test_retrying_a_failed_batch_twice_checks_it_once(client, world):
    from django_tasks_db.models import DBTaskResult

    from tests.test_import_pages import upload
    from tests.test_import_upkeep import stuck

    client.force_login(world.users.town_a)
    batch = stuck(upload(client, household_workbook([family(1)])), status=ImportBatch.Status.FAILED)
    DBTaskResult.objects.all().delete()
    _, second, text = twice(client, reverse("imports:retry", args=[batch.pk]))
    assert second.url == reverse("imports:detail", args=[batch.pk])
    assert text == "该批次当前状态为“排队中”，未重复检查"
    assert DBTaskResult.objects.count() == 1
