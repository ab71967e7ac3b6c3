"""In the browser: the county drafts and issues a bulletin and downloads its .docx; the dispatch and
annual-summary charts render (the chart element drawn, its table beside it) at 1280 and 390 px and
in print, with nothing blocked by the Content-Security-Policy."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone

from reports.dispatch import Quarter
from tests.browser import DESKTOP, PHONE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUARTER = Quarter.of(timezone.localdate()).previous


def test_the_county_issues_a_bulletin_and_downloads_the_docx(chromium, live_server, world):
    from docx import Document

    context = chromium.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    log_in(page, live_server, "county_a")
    page.goto(f"{live_server.url}{reverse('reports:dispatch')}?quarter={QUARTER}")
    with page.expect_navigation():
        page.click("#draft-bulletin")
    page.wait_for_selector("#issue-form")
    page.fill("#id_title", "关于季度双联工作的通报")
    with page.expect_navigation():
        page.click("#save-bulletin")
    page.fill("#id_number", "通双联办〔2026〕5号")
    with page.expect_navigation():
        page.click("#issue-bulletin")
    assert "通报已印发" in page.inner_text(".flash")
    assert page.inner_text("#bulletin-number") == "通双联办〔2026〕5号"
    with page.expect_download() as download:
        page.click("#bulletin-docx")
    document = Document(io.BytesIO(open(download.value.path(), "rb").read()))
    assert document.paragraphs[0].text == "通渭县联村联户为民富民行动领导小组办公室通报"
    assert document.paragraphs[1].text == "通双联办〔2026〕5号"
    assert document.paragraphs[2].text == "关于季度双联工作的通报"
    # The township it went to sees it and marks it read; the county sees one fewer unread.
    context.close()
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, live_server, "town_a")
    page.goto(f"{live_server.url}{reverse('reports:bulletin_list')}")
    page.click("text=关于季度双联工作的通报")
    with page.expect_navigation():
        page.click("#mark-read")
    assert "阅知" in page.inner_text("#read-mark") and page.locator("#mark-read").count() == 0
    context.close()


def _charts_drawn(page, ids):
    for chart_id in ids:
        chart = page.locator(f'.chart[data-chart="{chart_id}"]')
        chart.locator("canvas").first.wait_for()
        page.wait_for_function(
            "id => document.querySelector(`.chart[data-chart='${id}']`).dataset.drawn === '1'", arg=chart_id
        )
        box = chart.bounding_box()
        assert box["width"] > 200 and box["height"] > 150
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"] + 1  # no overflow


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_the_charts_render_with_their_tables(chromium, live_server, world, viewport):
    context = chromium.new_context(viewport=viewport)
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, live_server, "county_a")

    page.goto(f"{live_server.url}{reverse('reports:annual')}")
    ids = ["annual-visits", "annual-contact-rate", "annual-demands", "annual-help"]
    _charts_drawn(page, ids)
    for chart_id in ids:
        assert page.locator(f"#{chart_id}-figure table.chart-table").is_visible()

    page.goto(f"{live_server.url}{reverse('reports:dispatch')}?quarter={QUARTER}")
    _charts_drawn(page, ["ranking-chart-0"])
    assert page.locator("#ranking-1 table.ranking-table").count() == 1

    # On paper: the menu goes, the chart and its table stay.
    page.emulate_media(media="print")
    assert not page.locator("header.topbar").is_visible()
    assert page.locator('.chart[data-chart="ranking-chart-0"] canvas').first.is_visible()
    assert violations == []
    context.close()
