"""The annual summary (年总结): the year by month from the catalogue, the charts each with their table,
totals per region and unit below, bulletins, the office's text (version-checked), .xlsx and print,
and a city's workbook as a background export."""

import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from imports.models import ExportJob
from reports import annual, bulletins
from reports.dispatch import Quarter
from reports.models import AnnualSummary
from visits.models import Visit

YEAR = timezone.localdate().year - 1  # a whole past year: twelve months


@pytest.fixture
def year_of_work(world):
    """Side A's household visited in March (home, with help) and June (phone)."""
    from visits import tallies

    for month, mode, cash in ((3, Visit.Mode.HOME, Decimal("200")), (6, Visit.Mode.PHONE, Decimal("0"))):
        Visit.objects.create(
            cadre=world.cadre_a,
            household=world.household_a,
            visited_on=datetime.date(YEAR, month, 10),
            mode=mode,
            help_cash=cash,
            recorded_by=world.users.town_a,
        )
    tallies.rebuild()
    return world


def test_the_months_come_from_the_catalogue(year_of_work):
    data = annual.summary(year_of_work.county_a, YEAR)
    assert data.months == list(range(1, 13))
    assert data.monthly[3]["visits_home"] == 1 and data.monthly[6]["visits_contact"] == 1
    assert data.monthly[3]["help_cash"] == Decimal("200")
    assert data.monthly[3]["quarter_contact_rate"] == Decimal("100.0")  # the one paired household
    assert data.monthly[4]["quarter_contact_rate"] == Decimal("0.0")
    visits = data.charts[0]
    assert [row[1] for row in visits.table][2] == [1, 0]  # March: one home visit, no contact
    # Totals per township and unit below: 马营镇 has both visits, 鸡川镇 none; unit A's cadre made them.
    rows = {row["name"]: row["figures"] for row in data.rows}
    assert rows["马营镇"][:2] == [1, 1] and rows["鸡川镇"][:2] == [0, 0]
    assert rows["通渭县农业农村局"][:2] == [1, 1]


def test_the_page_has_each_chart_with_its_table_and_saves_the_text_once(client, year_of_work):
    client.force_login(year_of_work.users.county_a)
    url = reverse("reports:annual") + f"?year={YEAR}"
    page = client.get(url).content.decode()
    for chart in ("annual-visits", "annual-contact-rate", "annual-demands", "annual-help"):
        assert f'data-chart="{chart}"' in page and f'id="{chart}"' in page  # the element and its JSON
    assert page.count('class="chart-table"') == 4
    assert client.post(url, {"text": "全年走访不断线", "version": 0}).status_code == 302
    # The same page pressed again (version 0) does not overwrite the saved text.
    again = client.post(url, {"text": "另一份", "version": 0})
    assert again.status_code == 200 and "已被他人修改" in again.content.decode()
    saved = AnnualSummary.objects.get(region=year_of_work.county_a, year=YEAR)
    assert saved.text == "全年走访不断线" and saved.version == 1
    assert client.post(url, {"text": "修改后", "version": 1}).status_code == 302
    saved.refresh_from_db()
    assert saved.text == "修改后" and saved.version == 2


def test_the_summary_lists_the_bulletins_issued(client, year_of_work):
    bulletin = bulletins.draft_bulletin(
        region=year_of_work.county_a, quarter=Quarter(YEAR, 2), by=year_of_work.users.county_a
    )
    bulletins.issue_bulletin(bulletin=bulletin, number="通双联办1号", by=year_of_work.users.county_a)
    data = annual.summary(year_of_work.county_a, YEAR)
    assert [b.number for b in data.bulletins] == ["通双联办1号"]


def test_the_workbook_and_the_print_view(client, year_of_work):
    client.force_login(year_of_work.users.county_a)
    response = client.get(reverse("reports:annual_xlsx"), {"year": YEAR})
    book = load_workbook(io.BytesIO(response.content))
    months = list(book["逐月"].iter_rows(min_row=2, values_only=True))
    assert len(months) == 12 and months[2][1] == 1
    names = [row[0] for row in book["分地区和单位"].iter_rows(min_row=2, values_only=True)]
    assert names == ["马营镇", "鸡川镇", "通渭县农业农村局"]
    page = client.get(reverse("reports:annual_print"), {"year": YEAR}).content.decode()
    assert "annual-visits" in page and "save-summary" not in page


def test_a_citys_workbook_is_a_background_export(
    client, year_of_work, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client.force_login(year_of_work.users.city_a)
    url = reverse("reports:annual_xlsx") + f"?year={YEAR}"
    assert "开始生成" in client.get(url).content.decode()
    key = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"submission_key": key})
        client.post(url, {"submission_key": key})
    job = ExportJob.objects.get()
    assert (
        first.url == reverse("imports:export_detail", args=[job.pk]) and job.status == ExportJob.Status.DONE
    )
    book = load_workbook(io.BytesIO(client.get(reverse("imports:export_download", args=[job.pk])).content))
    assert [row[0] for row in book["分地区和单位"].iter_rows(min_row=2, values_only=True)] == ["通渭县"]


def test_the_workbook_holds_no_formula(client, year_of_work):
    from tests.test_workbook_formulas import HOSTILE, formula_cells

    AnnualSummary.objects.create(
        region=year_of_work.county_a,
        year=YEAR,
        text="\n".join(HOSTILE),
        updated_by=year_of_work.users.county_a,
    )
    client.force_login(year_of_work.users.county_a)
    content = client.get(reverse("reports:annual_xlsx"), {"year": YEAR}).content
    assert formula_cells(content) == []
    lines = [
        row[0]
        for row in load_workbook(io.BytesIO(content))["年度总结"].iter_rows(min_row=2, values_only=True)
    ]
    assert lines == ["'" + value for value in HOSTILE]  # kept, as text
