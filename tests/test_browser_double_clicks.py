"""A double click on each action button of the app does it once and lands on the result (issue 16
item 4): one test, parametrized over the actions; each sets up what its button acts on, presses
it twice and checks one effect and the page the second press lands on.

Both presses reach the server, one after the other (see double_click); the second replaces the
first's navigation, so the page shown is the second press's answer. Two presses at once are
tested with real concurrent requests in test_replays.py. Against the code before the fix this
fails at 上报 (a 403 page), 生成方案 (two proposals) and 确认导入 (a red error).
"""

import datetime
import re

import pytest
from django.utils import timezone

from demands.models import Demand, Level
from evaluation.models import Round
from households.models import Household
from imports.models import ImportBatch
from pairing import services as pairing_services
from pairing.models import Handover, Pairing, Proposal
from plans.models import HouseholdPlan
from tests import factories as f
from tests.browser import DESKTOP, log_in, wait_for_chooser_focus
from tests.test_import_households import family, household_workbook
from tests.test_import_pages import work
from visits.models import Visit, VisitTally

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def double_click(page, button, landing: str) -> str:
    """Press `button` twice as a double click does on a real network, and return the messages of
    the page the second press lands on (a URL glob).

    Chromium drops a second submission made before the first request is on its way, so two
    presses in one instant (Playwright's dblclick) send one request. A person's second press comes
    a moment later, while the first request is at the server and the form is still on screen.
    That moment is made here without waiting for time: the browser's first request is held, the
    test sends the very same request to the server and reads its answer, and only then presses
    again; the second press replaces the first's navigation, as in the browser."""
    held = []

    def hold_first(route):
        if route.request.method == "POST" and not held:
            held.append(
                route
            )  # goes no further from the browser: sent below, then dropped by the second press
        else:
            route.continue_()

    page.route("**/*", hold_first)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # The mouse, not locator.click: that would wait for the first press's navigation to finish.
    with page.expect_request(lambda request: request.method == "POST") as first:
        page.mouse.click(x, y)
    answer = page.request.fetch(first.value, max_redirects=0)  # the first press, at the server
    assert answer.status == 302, answer.text()
    with page.expect_response(lambda response: response.request.redirected_from is not None):
        page.mouse.click(x, y)  # the second press: its answer redirects to the landing page
    page.wait_for_url(landing)
    page.unroute("**/*")
    # The page shows the first press's message too (its own page was never shown).
    page.locator("p.flash-success, p.flash-info").first.wait_for()
    return "\n".join(page.locator("p.flash").all_inner_texts())


DAY = datetime.date(2025, 7, 1)


def roster():
    workbook = household_workbook([family(1, "新户甲")])
    return [{"name": "花名册.xlsx", "mimeType": "application/octet-stream", "buffer": workbook}]


def detail(path: str):
    """A landing page's URL by its path with a number in it, e.g. /proposals/<n>/."""
    return re.compile(re.escape("/") + path.replace("<n>", r"[0-9]+") + "$")


# Each action: (role, set up and open its page; returns (button, landing, check(messages))).


def save_visit(page, server, world):
    page.goto(f"{server.url}/visits/new/")
    wait_for_chooser_focus(page)
    page.keyboard.type("王建国")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('id_household').selectedOptions[0].text.startsWith('王建国')"
    )
    page.fill("#id_diary", "户主反映村道不通")
    page.locator("#id_demands-0-category").select_option("基础设施")
    page.fill("#id_demands-0-text", "村道塌方")

    def check(message):
        assert "已保存" in message or "重复的提交未再保存" in message
        assert Visit.objects.count() == 1 and Demand.objects.count() == 1
        assert VisitTally.objects.get().visits == 1

    return page.locator("button:text-is('保存')"), f"**/households/{world.household_a.pk}/visits/", check


def escalate_demand(page, server, world):
    """上报: was a 403 page for the second press."""
    from tests.test_demand_pages import raise_for

    demand = raise_for(world)
    page.goto(f"{server.url}/demands/{demand.pk}/")
    form = page.locator("form", has=page.locator("button:text-is('上报')"))
    form.locator("textarea").fill("需单位协调修路资金")

    def check(message):
        assert "已上报" in message
        demand.refresh_from_db()
        assert demand.level == Level.UNIT and demand.actions.filter(kind="上报").count() == 1

    return form.locator("button"), f"**/demands/{demand.pk}/", check


def generate_proposal(page, server, world):
    """生成方案: was two proposals."""
    page.goto(f"{server.url}/proposals/")
    page.locator("#id_region").select_option(world.town_a.code)

    def check(message):
        assert "未重复生成" in message and Proposal.objects.count() == 1

    return page.locator("button:text-is('生成方案')"), detail("proposals/<n>/"), check


def confirm_import(page, server, world):
    """确认导入: was a red error for the second press."""
    page.goto(f"{server.url}/imports/")
    page.locator("#id_kind").select_option("households")
    page.set_input_files("#id_file", files=roster())
    page.click("button:text-is('上传并检查')")
    page.wait_for_url(detail("imports/<n>/"))
    batch = ImportBatch.objects.get()
    with server.db_lock:  # the page polls the batch's status meanwhile
        work()
    page.reload()

    def check(message):
        from django_tasks_db.models import DBTaskResult

        assert "已确认" in message and "不能导入" not in message
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.APPLYING
        assert DBTaskResult.objects.count() == 2  # the check and one apply

    return page.locator("button:text-is('确认导入')"), f"**/imports/{batch.pk}/", check


def upload_roster(page, server, world):
    page.goto(f"{server.url}/imports/")
    page.locator("#id_kind").select_option("households")
    page.set_input_files("#id_file", files=roster())

    def check(message):
        assert "未重复上传" in message and ImportBatch.objects.count() == 1

    return page.locator("button:text-is('上传并检查')"), detail("imports/<n>/"), check


def apply_proposal(page, server, world):
    household = Household.objects.get(head_name="待结对")
    proposal = pairing_services.create_proposal(region=world.town_a, started_on=DAY, by=world.users.town_a)
    page.goto(f"{server.url}/proposals/{proposal.pk}/")

    def check(message):
        assert "方案已实施" in message and "重复的提交未再办理" in message
        assert Pairing.objects.filter(household=household).count() == 1

    return page.locator("button:text-is('审核通过并实施')"), f"**/proposals/{proposal.pk}/", check


def discard_proposal(page, server, world):
    proposal = pairing_services.create_proposal(region=world.town_a, started_on=DAY, by=world.users.town_a)
    page.goto(f"{server.url}/proposals/{proposal.pk}/")

    def check(message):
        assert "方案已作废，重复的提交未再办理" in message
        proposal.refresh_from_db()
        assert proposal.status == Proposal.Status.DISCARDED

    return page.locator("button:text-is('作废方案')"), f"**/proposals/{proposal.pk}/", check


def start_handover(page, server, world):
    f.cadre(world.unit_a, "接任者")
    page.goto(f"{server.url}/cadres/{world.cadre_a.pk}/")
    page.select_option("select[name=new_status]", "调离")
    page.fill("input[name=effective_on]", "2025-09-01")

    def check(message):
        assert "已有待办的交接" in message
        assert Handover.objects.count() == 1 and Handover.objects.get().lines.count() == 1

    return page.locator("button:text-is('生成交接方案')"), detail("handovers/<n>/"), check


def apply_handover(page, server, world):
    f.cadre(world.unit_a, "接任者")
    handover = pairing_services.start_handover(
        cadre=world.cadre_a, new_status="调离", effective_on=datetime.date(2025, 9, 1), by=world.users.unit_a
    )
    page.goto(f"{server.url}/handovers/{handover.pk}/")

    def check(message):
        assert "交接已实施，重复的提交未再办理" in message
        assert Pairing.objects.filter(household=world.household_a).count() == 2
        assert Pairing.objects.open().filter(household=world.household_a).count() == 1

    return page.locator("button:text-is('审核通过并实施交接')"), f"**/handovers/{handover.pk}/", check


def pair_household(page, server, world):
    household = Household.objects.get(head_name="待结对")
    helper = f.cadre(world.unit_a, "周新来")
    page.goto(f"{server.url}/households/{household.pk}/pair/")
    page.locator("#id_cadre").select_option(str(helper.pk))

    def check(message):
        assert "重复的提交未再办理" in message
        assert Pairing.objects.filter(cadre=helper).count() == 1

    return page.locator("form.card button:text-is('保存')"), f"**/households/{household.pk}/", check


def edit_household(page, server, world):
    household = world.household_a
    page.goto(f"{server.url}/households/{household.pk}/edit/")
    page.fill("#id_group", "9社")

    def check(message):
        assert "这份修改刚才已经保存，重复的提交未再保存" in message
        saved = Household.objects.get(pk=household.pk)
        assert (saved.group, saved.version) == ("9社", household.version + 1)

    return page.locator("form.card button:text-is('保存')"), f"**/households/{household.pk}/", check


def save_plan(page, server, world):
    household = world.household_a
    page.goto(f"{server.url}/plans/households/{household.pk}/edit/?year=2025")
    page.locator("input[name=measures]").first.check()
    page.fill("#id_targets", "养羊二十只")

    def check(message):
        assert "与已保存的计划相同" in message
        assert HouseholdPlan.objects.get().versions.count() == 1

    return (
        page.locator("form.card button:text-is('保存')"),
        re.compile(re.escape(f"/plans/households/{household.pk}/?year=2025") + "$"),
        check,
    )


def open_round(page, server, world):
    today = timezone.localdate()
    page.goto(f"{server.url}/evaluation/new/")
    page.locator("#id_region").select_option(world.county_a.code)
    page.fill("#id_name", "群众评议")
    page.fill("#id_year", str(today.year))
    page.fill("#id_starts_on", str(today))
    page.fill("#id_ends_on", str(today + datetime.timedelta(days=30)))

    def check(message):
        assert "未重复发起" in message and Round.objects.count() == 1

    return page.locator("button:text-is('发起并抽样')"), detail("evaluation/<n>/"), check


def close_round(page, server, world):
    from tests.test_evaluation import _open

    round_ = _open(world)
    page.goto(f"{server.url}/evaluation/{round_.pk}/")

    def check(message):
        assert "本轮评议已结束，重复的提交未再办理" in message
        round_.refresh_from_db()
        assert not round_.is_open

    return page.locator("button:text-is('结束本轮评议')"), f"**/evaluation/{round_.pk}/", check


def unlock_account(page, server, world):
    from axes.models import AccessAttempt

    AccessAttempt.objects.create(
        username="town_a",
        ip_address="10.0.0.1",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )
    page.goto(f"{server.url}/accounts/locked/")

    def check(message):
        assert "账号 town_a 已解锁，重复的提交未再办理" in message
        assert not AccessAttempt.objects.exists()

    return page.locator("button:text-is('解锁')"), "**/accounts/locked/", check


ACTIONS = {
    "保存走访": ("town_a", save_visit),
    "上报": ("town_a", escalate_demand),
    "生成方案": ("town_a", generate_proposal),
    "作废方案": ("town_a", discard_proposal),
    "审核通过并实施": ("county_a", apply_proposal),
    "生成交接方案": ("unit_a", start_handover),
    "审核通过并实施交接": ("county_a", apply_handover),
    "安排帮扶": ("town_a", pair_household),
    "保存农户信息": ("town_a", edit_household),
    "保存帮扶计划": ("town_a", save_plan),
    "上传并检查": ("town_a", upload_roster),
    "确认导入": ("town_a", confirm_import),
    "发起评议": ("county_a", open_round),
    "结束评议": ("county_a", close_round),
    "解锁": ("county_a", unlock_account),
}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_double_click_acts_once_and_lands_on_the_result(chromium, live_server, world, action):
    role, open_action = ACTIONS[action]
    f.household(world.village_a, "待结对", members=2)
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, role)
    button, landing, check = open_action(page, live_server, world)
    message = double_click(page, button, landing)
    with live_server.db_lock:  # the landing page may still ask the server (a poll, a lookup)
        check(message)
    assert page.locator("p.flash-error").count() == 0
    context.close()
