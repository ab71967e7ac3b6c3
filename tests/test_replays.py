"""Every state-changing button is safe to press twice: the second press writes nothing and lands
on the result; a submission key reused with other content is refused, never claimed as saved.

The two presses of a double click are also run as real concurrent requests on PostgreSQL, in the
interleaving that once raised a visit's demand twice (the second press pauses right after its look
at the key until the first has committed) and all at once.
"""

import threading

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse

from demands.models import Demand, DemandAction, Level
from imports.models import ImportBatch
from pairing.models import Proposal
from shuanglian.lib import submission
from tests import factories as f
from tests.test_demand_pages import demand_rows, raise_for
from tests.test_import_households import family, household_workbook
from tests.test_import_pages import upload, work
from tests.test_visit_pages import entry
from visits import services as visit_services
from visits.models import HouseholdContact, UnitVisit, UnitVisitTally, Visit, VisitTally


def flash(response) -> tuple[str, str]:
    """The message the response's request added last (earlier unread ones stay queued before it)."""
    *_earlier, message = get_messages(response.wsgi_request)
    return message.level_tag, str(message)


def timeline(world, household=None):
    return reverse("visits:household", args=[(household or world.household_a).pk])


# --- the visit page ---------------------------------------------------------------------------


def test_a_double_clicked_visit_saves_once_and_both_presses_land_on_the_timeline(client, world):
    client.force_login(world.users.town_a)
    data = entry(world, **demand_rows(("基础设施", "想通自来水")))
    first = client.post(reverse("visits:new"), data)
    second = client.post(reverse("visits:new"), data)
    assert first.url == second.url == timeline(world)
    level, text = flash(first)
    assert level == "success" and text.startswith("已保存 李文华 对 ")
    assert flash(second) == ("info", "这份走访刚才已经保存，重复的提交未再保存")
    assert Visit.objects.count() == 1 and Demand.objects.count() == 1
    assert VisitTally.objects.get().visits == 1


def second_household(world):
    other = f.household(world.village_a, "张有才", members=2)
    f.pairing(world.cadre_a, other)
    return other


def test_a_key_reused_for_another_household_is_refused_and_writes_nothing(client, world):
    """Save, Back, choose another household, save: refused with a message, then saved on purpose."""
    other = second_household(world)
    client.force_login(world.users.town_a)
    data = entry(world)
    assert client.post(reverse("visits:new"), data).status_code == 302
    response = client.post(reverse("visits:new"), {**data, "household": other.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert "本页已保存过一份走访记录" in page and "内容与之不同，未保存" in page
    assert flash(response)[0] == "success"  # the first save's message, not one for this press
    assert list(Visit.objects.values_list("household", flat=True)) == [world.household_a.pk]
    assert not HouseholdContact.objects.filter(household=other).exists()
    # The page now carries a fresh key: pressing save again, having checked, saves the second visit.
    fresh = response.context["form"].data["submission_key"]
    assert fresh != data["submission_key"]
    again = client.post(reverse("visits:new"), {**data, "household": other.pk, "submission_key": fresh})
    assert again.url == timeline(world, other)
    assert Visit.objects.filter(household=other).count() == 1


def test_a_key_reused_with_another_diary_or_other_demands_is_refused(client, world):
    client.force_login(world.users.town_a)
    data = entry(world, **demand_rows(("基础设施", "想通自来水")))
    client.post(reverse("visits:new"), data)
    for changed in (
        {"diary": "另写的日记"},
        demand_rows(("基础设施", "想通自来水"), ("教育", "孩子要上高中")),
    ):
        response = client.post(reverse("visits:new"), {**data, **changed})
        assert response.status_code == 200 and "内容与之不同，未保存" in response.content.decode()
    assert Visit.objects.count() == 1 and Demand.objects.count() == 1


# One visit saved through the page (issue 18 §4), as counted in a test, where the service's
# transaction is a savepoint (2; in production the transaction's BEGIN and COMMIT are no queries):
# session and user (2); the household chosen (1); one look (visits.services.first_look) at the
# pairing that day (the responsible one when no cadre is chosen, with its cadre), the month lock
# and the submission key (1); the insert, with no savepoint of its own (1), and its history row (1,
# shuanglian/lib/history.py); one upsert per tally (shuanglian/lib/tally.py): the household's last
# contact, the pair's year, the village's and the unit's month (4), each month's row counting the
# household once in the same statement. The first visit of a year or a month costs nothing more.
# Was 18, 28 on the first of a month: the responsible cadre and the key were a query each, the
# insert had its savepoint (2), and each tally an UPDATE (an INSERT and the UPDATE again for a
# missing row), plus a look and an UPDATE per household first reached in the month.
QUERIES_PER_SAVE = 12
MONTH_FIRST = 0
# Each demand row: its savepoint (2), the scope and the deadline table (2), the insert in its
# savepoint (3), its history row (1), its action row (1) and the month-lock check (1).
QUERIES_PER_DEMAND = 10


def test_one_visit_save_runs_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    client.force_login(world.users.town_a)
    client.get(reverse("visits:new"))
    with django_assert_num_queries(QUERIES_PER_SAVE + MONTH_FIRST):  # first of the year and month
        assert client.post(reverse("visits:new"), entry(world)).status_code == 302
    with django_assert_num_queries(QUERIES_PER_SAVE):
        assert client.post(reverse("visits:new"), entry(world, mode="电话")).status_code == 302
    with django_assert_num_queries(QUERIES_PER_SAVE + QUERIES_PER_DEMAND):
        data = entry(world, mode="短信", **demand_rows(("基础设施", "想通自来水")))
        assert client.post(reverse("visits:new"), data).status_code == 302


def test_a_double_clicked_unit_visit_saves_once_and_a_reused_key_is_refused(client, world):
    from tests.test_unit_visits import form_data

    client.force_login(world.users.unit_a)
    url = reverse("visits:unit_visit_new")
    key = client.get(url).context["form"].initial["submission_key"]
    data = form_data(world, submission_key=str(key))
    first, second = client.post(url, data), client.post(url, data)  # was: 「…的走访已登记过」 in red
    assert first.url == second.url == reverse("visits:unit_visit_list")
    assert flash(second) == ("info", "这次联村走访刚才已经保存，重复的提交未再保存")
    refused = client.post(url, {**data, "activities": "另一天的工作"})
    assert refused.status_code == 200 and "本页已保存过一份联村走访" in refused.content.decode()
    saved = UnitVisit.objects.get()
    assert saved.activities == "帮助村里谋划马铃薯产业" and UnitVisitTally.objects.get().visits == 1


# --- 提出诉求 on the household page -------------------------------------------------------------


def raise_form(**changes):
    from tests.test_raise_demand import form

    return form(**changes)


def test_a_double_clicked_demand_is_raised_once_and_a_reused_key_refused(client, world):
    client.force_login(world.users.town_a)
    url = reverse("demands:raise", args=[world.household_a.pk])
    data = raise_form()
    first, second = client.post(url, data), client.post(url, data)
    assert first.url == second.url
    assert flash(second) == ("info", "这条诉求刚才已经登记，重复的提交未再登记")
    other = second_household(world)
    refused = client.post(reverse("demands:raise", args=[other.pk]), data)
    assert refused.status_code == 200 and "本页已保存过一份诉求" in refused.content.decode()
    refused = client.post(url, {**data, "text": "另一件事"})
    assert refused.status_code == 200 and "内容与之不同，未保存" in refused.content.decode()
    assert list(Demand.objects.values_list("household", "text")) == [(world.household_a.pk, "老人需要慢病卡")]
    assert DemandAction.objects.count() == 1


# --- the demand page's actions ----------------------------------------------------------------


def act(client, demand, kind, text, seen):
    return client.post(reverse("demands:act", args=[demand.pk]), {"kind": kind, "text": text, "seen": seen})


def test_a_double_clicked_escalation_escalates_once_and_lands_on_the_demand(client, world):
    demand = raise_for(world)
    client.force_login(world.users.town_a)
    page = client.get(reverse("demands:detail", args=[demand.pk]))
    seen = dict((kind, form) for kind, _prompt, form in page.context["forms"])["上报"].initial["seen"]
    first = act(client, demand, "上报", "需单位出资", seen)
    second = act(client, demand, "上报", "需单位出资", seen)  # no longer the township's level: was a 403
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == reverse("demands:detail", args=[demand.pk])
    assert flash(second) == ("info", "已上报，重复的提交未再办理")
    demand.refresh_from_db()
    assert demand.level == Level.UNIT
    assert list(demand.actions.values_list("kind", flat=True)) == ["提出", "上报"]
    assert client.get(second.url).status_code == 200


def test_a_double_clicked_reply_is_written_once(client, world):
    demand = raise_for(world)
    client.force_login(world.users.town_a)
    seen = demand.actions.get().pk
    act(client, demand, "答复", "正在联系住建部门", seen)
    act(client, demand, "答复", "正在联系住建部门", seen)
    assert list(demand.actions.values_list("kind", flat=True)) == ["提出", "答复"]


def test_an_action_on_a_page_someone_else_has_since_moved_is_refused(client, world):
    demand = raise_for(world)
    seen = demand.actions.get().pk
    client.force_login(world.users.unit_a)  # the liaison answers first, from another page
    act(client, demand, "答复", "单位已知悉", seen)
    client.force_login(world.users.town_a)
    response = act(client, demand, "答复", "正在联系住建部门", seen)
    assert flash(response) == ("error", "您打开页面后该诉求已有新的办理，请查看最新进展后再办理")
    assert list(demand.actions.values_list("text", flat=True)) == ["危房需改造", "单位已知悉"]


# --- 生成方案 and 确认导入 ----------------------------------------------------------------------


def test_a_double_clicked_proposal_is_generated_once(client, world):
    f.household(world.village_a, "待结对", members=2)
    client.force_login(world.users.town_a)
    data = {"region": world.town_a.code, "started_on": "2025-05-01"}
    first = client.post(reverse("pairing:proposal_create"), data)
    second = client.post(reverse("pairing:proposal_create"), data)
    proposal = Proposal.objects.get()
    assert first.url == second.url == reverse("pairing:proposal_detail", args=[proposal.pk])
    assert flash(second) == ("info", "该范围、该结对日期已有待审核的方案，未重复生成，已打开该方案")
    # Another date is another proposal; an applied or discarded one no longer stands in the way.
    client.post(reverse("pairing:proposal_create"), {**data, "started_on": "2025-06-01"})
    assert Proposal.objects.count() == 2


def test_a_double_clicked_import_confirmation_imports_once(client, world):
    client.force_login(world.users.town_a)
    batch = upload(client, household_workbook([family(1), family(2, "李四")]))
    work()
    first = client.post(reverse("imports:confirm", args=[batch.pk]))
    second = client.post(reverse("imports:confirm", args=[batch.pk]))
    assert first.url == second.url == reverse("imports:detail", args=[batch.pk])
    assert flash(second) == ("info", "该批次已确认，未重复导入，当前状态为“导入中”")
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.count() == 2  # the check and one apply
    work()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.DONE and len(batch.created_households) == 2
    again = client.post(reverse("imports:confirm", args=[batch.pk]))
    assert flash(again) == ("info", "该批次已确认，未重复导入，当前状态为“已导入”")


# --- two real concurrent presses (PostgreSQL) --------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason=(
        "SQLite's in-memory test database locks whole tables: "
        "the second press's read blocks the first's write"
    ),
)


def press_twice(world, monkeypatch, pause):
    """Post one visit form (with a demand row) from two clients in two threads; `pause(name)` runs
    in each thread right after its first look at the submission key."""
    data = entry(world, **demand_rows(("基础设施", "想通自来水")))
    responses, errors = {}, []
    looked = set()
    original = visit_services.first_look  # the save's one look at the key (with the pairing and lock)

    def look_then_pause(**kwargs):
        found = original(**kwargs)
        name = threading.current_thread().name
        if name not in looked:
            looked.add(name)
            pause(name)
        return found

    monkeypatch.setattr(visit_services, "first_look", look_then_pause)

    def press(name, client):
        try:
            responses[name] = client.post(reverse("visits:new"), data)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    clients = {}
    for name in ("first", "second"):
        clients[name] = Client()
        clients[name].force_login(world.users.town_a)
    threads = {
        name: threading.Thread(target=press, args=(name, clients[name]), name=name) for name in clients
    }
    return threads, responses, errors


def assert_saved_once(world, responses, errors):
    assert errors == []
    assert [r.status_code for r in responses.values()] == [302, 302]
    assert {r.url for r in responses.values()} == {timeline(world)}
    assert sorted(flash(r)[0] for r in responses.values()) == ["info", "success"]
    assert Visit.objects.count() == 1 and Demand.objects.count() == 1
    assert DemandAction.objects.count() == 1
    assert VisitTally.objects.get().visits == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_second_press_pausing_after_its_look_until_the_first_committed_saves_nothing(world, monkeypatch):
    second_looked, first_committed = threading.Event(), threading.Event()

    def pause(name):
        if name == "second":
            second_looked.set()
            assert first_committed.wait(60), "the first press never committed"

    threads, responses, errors = press_twice(world, monkeypatch, pause)
    threads["second"].start()
    assert second_looked.wait(60)  # the second has looked: no visit under its key yet
    threads["first"].start()
    threads["first"].join()  # the first has saved and committed
    first_committed.set()
    threads["second"].join()
    assert_saved_once(world, responses, errors)
    assert flash(responses["first"])[0] == "success" and flash(responses["second"])[0] == "info"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_presses_at_once_save_once(world, monkeypatch):
    both_looked = threading.Barrier(2)

    def pause(_name):
        both_looked.wait(60)  # both found nothing under the key; now both insert

    threads, responses, errors = press_twice(world, monkeypatch, pause)
    for thread in threads.values():
        thread.start()
    for thread in threads.values():
        thread.join()
    assert_saved_once(world, responses, errors)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_demands_raised_at_once_with_one_key_save_once(world, monkeypatch):
    both_looked = threading.Barrier(2)
    original = submission.earlier_submission
    from demands import services as demand_services

    looked = set()

    def look_then_wait(model, key):
        found = original(model, key)
        name = threading.current_thread().name
        if name.startswith("press") and name not in looked:
            looked.add(name)
            both_looked.wait(60)
        return found

    monkeypatch.setattr(demand_services, "earlier_submission", look_then_wait)
    data, flashed, errors = raise_form(), [], []

    def press(client):
        try:
            flashed.append(flash(client.post(reverse("demands:raise", args=[world.household_a.pk]), data)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = []
    for index in range(2):
        client = Client()
        client.force_login(world.users.town_a)
        threads.append(threading.Thread(target=press, args=(client,), name=f"press-{index}"))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(level for level, _text in flashed) == ["info", "success"]
    assert Demand.objects.count() == 1 and DemandAction.objects.count() == 1
