"""Importing a roster in a real browser: upload, watch the progress, read the preview,
confirm, and find the households in the household list.

The django-tasks database backend queues the jobs; the test runs the worker
(`db_worker --batch`, as `manage.py db_worker` does, then stops) between steps,
which is deterministic where a background thread would race the assertions.
"""

import pytest

from households.models import Household
from imports.models import ImportBatch
from tests.browser import DESKTOP, log_in
from tests.test_import_households import family, household_workbook
from tests.test_import_pages import work

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_township_imports_a_roster_and_finds_the_households(chromium, live_server, world):
    data = household_workbook([family(1, "张三"), family(2, "李四", size=2)])
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/imports/")
    page.select_option("select[name=kind]", "households")
    page.set_input_files(
        "input[name=file]", files=[{"name": "马营镇花名册.xlsx", "mimeType": XLSX, "buffer": data}]
    )
    page.click("text=上传并检查")
    page.wait_for_url("**/imports/*/")

    # The check waits for the worker: the page shows the progress bar and polls.
    progress = page.locator("#progress")
    assert progress.is_visible() and "正在检查" in progress.inner_text()
    assert page.inner_text("#batch-status") == "排队中"
    with live_server.db_lock:  # the page polls the batch's status meanwhile
        work()
    page.wait_for_selector("#counts")  # the poll noticed the end and reloaded
    assert page.inner_text("#batch-status") == "待确认"
    counts = page.inner_text("#counts")
    assert "2\n新增农户" in counts and "5\n新增成员" in counts and "0\n未变农户" in counts
    assert "农户：新增 2" in page.inner_text("#batch-message")
    assert not Household.objects.filter(head_name__in=["张三", "李四"]).exists()  # a preview writes nothing

    page.click("text=确认导入")
    page.wait_for_selector("#progress")
    assert "正在写入" in page.inner_text("#progress")
    with live_server.db_lock:  # the page polls the batch's status meanwhile
        work()
    page.wait_for_selector("text=查看农户")
    assert page.inner_text("#batch-status") == "已导入"
    assert ImportBatch.objects.get().status == "done"

    page.click("text=查看农户")
    page.wait_for_url("**/households/**")
    listing = page.inner_text("main")
    assert "张三" in listing and "李四" in listing
    context.close()


def test_a_refused_roster_shows_its_errors_in_the_browser(chromium, live_server, world):
    data = household_workbook([family(1, "张三", category="特困户")])
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/imports/")
    page.set_input_files(
        "input[name=file]", files=[{"name": "坏名册.xlsx", "mimeType": XLSX, "buffer": data}]
    )
    page.click("text=上传并检查")
    page.wait_for_url("**/imports/*/")
    with live_server.db_lock:  # the page polls the batch's status meanwhile
        work()
    page.wait_for_selector("#errors")
    assert "“贫困户属性”列（特困户）" in page.inner_text("#errors")
    assert page.locator("text=确认导入").count() == 0
    assert page.locator("text=下载错误清单（.xlsx）").is_visible()
    assert not Household.objects.filter(head_name="张三").exists()
    context.close()


def test_township_imports_a_person_row_export_without_household_numbers(chromium, live_server, world):
    """The 建档立卡 export: a row per person, no 户编号; the households are made from each 户主 row."""
    from tests.test_import_person_rows import export_workbook

    data = export_workbook([family(1, "张三"), family(2, "李四", size=2)])
    context = chromium.new_context(viewport=DESKTOP)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}/imports/")
    assert page.locator("#layouts").is_visible() and "一人一行" in page.inner_text("#layouts")
    page.select_option("select[name=kind]", "households")
    page.set_input_files(
        "input[name=file]", files=[{"name": "建档立卡人口.xlsx", "mimeType": XLSX, "buffer": data}]
    )
    page.click("text=上传并检查")
    page.wait_for_url("**/imports/*/")
    with live_server.db_lock:  # the page polls the batch's status meanwhile
        work()
    page.wait_for_selector("#counts")
    assert page.inner_text("#batch-status") == "待确认"
    counts = page.inner_text("#counts")
    assert "2\n新增农户" in counts and "5\n新增成员" in counts
    assert page.locator("#errors").count() == 0
    page.click("text=确认导入")
    page.wait_for_selector("#progress")
    with live_server.db_lock:  # the page polls the batch's status meanwhile
        work()
    page.wait_for_selector("text=查看农户")
    assert page.inner_text("#batch-status") == "已导入"
    assert Household.objects.get(head_name="李四").members.count() == 2
    context.close()
