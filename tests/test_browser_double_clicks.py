"""A double click on each action button does it once and lands on the result (issue 16 item 4).

Both presses reach the server, one after the other (see double_click); the second replaces the
first's navigation, so the page shown is the second press's answer. Two presses at once are
tested with real concurrent requests in test_replays.py. Against the code before the fix this
fails at 上报 (a 403 page), 生成方案 (two proposals) and 确认导入 (a red error).
"""

import pytest

from demands.models import Demand, Level
from imports.models import ImportBatch
from pairing.models import Proposal
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


def test_double_clicks_act_once(chromium, live_server, world):
    f.household(world.village_a, "待结对", members=2)
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_a")

    # 保存 on the visit page, with a demand row.
    page.goto(f"{live_server.url}/visits/new/")
    wait_for_chooser_focus(page)
    page.keyboard.type("王建国")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.getElementById('id_household').selectedOptions[0].text.startsWith('王建国')"
    )
    page.fill("#id_diary", "户主反映村道不通")
    page.locator("#id_demands-0-category").select_option("基础设施")
    page.fill("#id_demands-0-text", "村道塌方")
    message = double_click(
        page, page.locator("button:text-is('保存')"), f"**/households/{world.household_a.pk}/visits/"
    )
    assert "已保存" in message or "重复的提交未再保存" in message
    assert Visit.objects.count() == 1 and Demand.objects.count() == 1 and VisitTally.objects.get().visits == 1

    # 上报 on the demand page: was a 403 page for the second press.
    demand = Demand.objects.get()
    page.goto(f"{live_server.url}/demands/{demand.pk}/")
    form = page.locator("form", has=page.locator("button:text-is('上报')"))
    form.locator("textarea").fill("需单位协调修路资金")
    message = double_click(page, form.locator("button"), f"**/demands/{demand.pk}/")
    assert "已上报" in message
    demand.refresh_from_db()
    assert demand.level == Level.UNIT and demand.actions.filter(kind="上报").count() == 1

    # 生成方案: was two proposals.
    page.goto(f"{live_server.url}/proposals/")
    page.locator("#id_region").select_option(world.town_a.code)
    message = double_click(page, page.locator("button:text-is('生成方案')"), "**/proposals/*/")
    assert "未重复生成" in message
    assert Proposal.objects.count() == 1

    # 确认导入: was a red error for the second press.
    page.goto(f"{live_server.url}/imports/")
    page.locator("#id_kind").select_option("households")
    page.set_input_files(
        "#id_file",
        files=[
            {
                "name": "花名册.xlsx",
                "mimeType": "application/octet-stream",
                "buffer": household_workbook([family(1, "新户甲")]),
            }
        ],
    )
    page.click("button:text-is('上传并检查')")
    page.wait_for_url("**/imports/*/")
    batch = ImportBatch.objects.get()
    work()
    page.reload()
    message = double_click(page, page.locator("button:text-is('确认导入')"), f"**/imports/{batch.pk}/")
    assert "已确认" in message and "不能导入" not in message
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLYING
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.count() == 2  # the check and one apply
    context.close()
