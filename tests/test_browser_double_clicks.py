"""A double click on each action button does it once and lands on the result (issue 16 item 4).

Both presses reach the server (see double_click); the second replaces the first's navigation, so
the page shown is the second press's answer. The live server answers them on two threads at once,
which SQLite's in-memory test database (one connection shared by the server's threads) cannot
serve (tried: it times out): this runs in the PostgreSQL pass, as the concurrent request tests in
test_replays.py do. Against the code before the fix it fails at the first step: two demands.
"""

import pytest
from django.db import connection

from demands.models import Demand, Level
from imports.models import ImportBatch
from pairing.models import Proposal
from tests import factories as f
from tests.browser import DESKTOP, log_in
from tests.test_import_households import family, household_workbook
from tests.test_import_pages import work
from visits.models import Visit, VisitTally

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two requests at once on SQLite's shared test connection"),
]


def double_click(page, button, landing: str) -> str:
    """Press `button` twice as a double click does on a real network, and return the message of the
    page the second press lands on (a URL glob).

    Chromium drops a second submission made before the first request is on its way, so two
    presses in one instant (Playwright's dblclick) send one request. A person's second press comes
    a moment later, while the first request is at the server and the form still on screen. That
    moment is made here without waiting for time: each POST is sent on to the server by the test
    (route.fetch), and the first one's answer is kept from the page, which the second replaces."""
    presses = []

    def forward(route):
        if route.request.method != "POST":
            route.continue_()
            return
        presses.append(route)
        number = len(presses)
        answer = route.fetch(max_redirects=0)  # the server gets and answers every press
        if number > 1:
            route.fulfill(response=answer)

    page.route("**/*", forward)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # The mouse, not locator.click: that would wait for the first press's navigation to finish.
    with page.expect_request(lambda request: request.method == "POST"):
        page.mouse.click(x, y)
    with page.expect_response(lambda response: response.request.redirected_from is not None):
        page.mouse.click(x, y)  # the second press: its answer redirects to the landing page
    page.wait_for_url(landing)
    message = page.locator("p.flash-success, p.flash-info").inner_text()  # the first's page was never shown
    page.unroute("**/*")
    assert len(presses) == 2
    return message


def test_double_clicks_act_once(chromium, live_server, world):
    f.household(world.village_a, "待结对", members=2)
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_a")

    # 保存 on the visit page, with a demand row.
    page.goto(f"{live_server.url}/visits/new/")
    page.keyboard.type("王建国")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('id_household').selectedOptions[0].text.startsWith('王建国')")
    page.fill("#id_diary", "户主反映村道不通")
    page.locator("#id_demands-0-category").select_option("基础设施")
    page.fill("#id_demands-0-text", "村道塌方")
    message = double_click(page, page.locator("button:text-is('保存')"), f"**/households/{world.household_a.pk}/visits/")
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
    assert "已生成结对方案" in message or "未重复生成" in message
    assert Proposal.objects.count() == 1

    # 确认导入: was a red error for the second press.
    page.goto(f"{live_server.url}/imports/")
    page.locator("#id_kind").select_option("households")
    page.set_input_files("#id_file", files=[{
        "name": "花名册.xlsx", "mimeType": "application/octet-stream",
        "buffer": household_workbook([family(1, "新户甲")]),
    }])
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
