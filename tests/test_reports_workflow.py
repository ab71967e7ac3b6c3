"""The monthly report's workflow: each step, each refusal, the lock that approval sets and reopening lifts."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from demands.services import raise_demand
from reports import services
from reports.models import MonthlyReport, ReportAction
from reports.offices import Office, children, due_date
from tests import factories as f
from visits.models import LockedMonth, Visit
from visits.services import record_unit_visit, record_visit

MONTH = datetime.date(2025, 5, 1)
DAY = datetime.date(2025, 5, 12)
TEXTS = {"work_done": "开展走访", "experience": "夜访", "problems": "外出户多", "next_month": "继续走访"}


def _visit(world, day=DAY, **fields):
    return record_visit(
        household=world.household_a, cadre=world.cadre_a, visited_on=day, by=world.users.town_a, **fields
    )


def _draft(world, office=None, by=None):
    office = office or Office(region=world.town_a)
    return services.save_report(office=office, month=MONTH, by=by or world.users.town_a, texts=TEXTS)


def _submitted(world):
    report = _draft(world)
    return services.submit_report(report=report, by=world.users.town_a, seen=report.version)


def test_draft_submit_return_resubmit_approve_each_leave_a_row(world):
    report = _draft(world)
    assert report.status == "draft" and report.work_done == "开展走访"
    report = services.submit_report(report=report, by=world.users.town_a, seen=report.version)
    assert report.status == "submitted"
    report = services.return_report(report=report, by=world.users.county_a, comment="请补充外出户联系情况")
    assert report.status == "returned"
    report = services.save_report(
        office=Office(region=world.town_a),
        month=MONTH,
        by=world.users.town_a,
        texts=TEXTS | {"problems": "外出户 3 户已电话联系"},
        seen=report.version,
    )
    assert report.problems == "外出户 3 户已电话联系"
    report = services.submit_report(report=report, by=world.users.town_a, seen=report.version)
    report = services.approve_report(report=report, by=world.users.county_a, seen=report.version)
    assert report.status == "approved" and report.frozen_at is not None
    assert report.figures["month"]["visits_home"] == 0
    kinds = list(report.actions.values_list("kind", "by__username", "comment"))
    assert kinds == [
        ("create", "town_a", ""),
        ("submit", "town_a", ""),
        ("return", "county_a", "请补充外出户联系情况"),
        ("edit", "town_a", ""),
        ("submit", "town_a", ""),
        ("approve", "county_a", ""),
    ]


def test_a_return_needs_a_comment_and_only_the_office_above_reviews(world):
    report = _submitted(world)
    with pytest.raises(ValidationError) as caught:
        services.return_report(report=report, by=world.users.county_a, comment="  ")
    assert "退回意见" in caught.value.messages[0]
    for wrong in (world.users.town_a, world.users.city_a, world.users.unit_a, world.users.county_b):
        with pytest.raises(PermissionDenied):
            services.approve_report(report=report, by=wrong)
    with pytest.raises(PermissionDenied):
        services.submit_report(report=report, by=world.users.county_a)


def test_a_second_press_is_already_done_and_a_stale_page_is_refused(world):
    report = _draft(world)
    seen = report.version
    services.submit_report(report=report, by=world.users.town_a, seen=seen)
    with pytest.raises(services.AlreadyDone):
        services.submit_report(report=report, by=world.users.town_a, seen=seen)
    with pytest.raises(ValidationError) as caught:
        services.approve_report(report=report, by=world.users.county_a, seen=seen)  # the page before submit
    assert "已被他人修改" in caught.value.messages[0]
    assert ReportAction.objects.filter(kind="submit").count() == 1


def test_a_submitted_report_cannot_be_edited(world):
    report = _submitted(world)
    with pytest.raises(ValidationError):
        services.save_report(
            office=Office(region=world.town_a),
            month=MONTH,
            by=world.users.town_a,
            texts=TEXTS | {"problems": "x"},
        )
    assert MonthlyReport.objects.get(pk=report.pk).problems == "外出户多"


def test_texts_are_bounded(world):
    with pytest.raises(ValidationError) as caught:
        services.save_report(
            office=Office(region=world.town_a),
            month=MONTH,
            by=world.users.town_a,
            texts={"work_done": "字" * 2001},
        )
    assert "工作开展情况不能超过 2000 字" in caught.value.messages[0]


def test_a_county_submits_when_all_below_are_approved_or_with_a_missing_note(world):
    county = Office(region=world.county_a)
    assert [child.key for child in children(county)] == [
        world.town_a.code,
        world.town_a2.code,
        f"u{world.unit_a.pk}",
    ]
    report = _draft(world, county, world.users.county_a)
    with pytest.raises(ValidationError) as caught:
        services.submit_report(report=report, by=world.users.county_a)
    assert "马营镇" in caught.value.messages[0] and "通渭县农业农村局" in caught.value.messages[0]
    report = services.submit_report(report=report, by=world.users.county_a, missing_note="鸡川镇系统故障")
    assert report.status == "submitted" and report.missing_note == "鸡川镇系统故障"
    action = report.actions.get(kind="submit")
    assert "缺报：马营镇双联办、鸡川镇双联办、通渭县农业农村局" in action.comment


def test_approval_locks_the_month_naming_the_report_and_reopening_unlocks(world):
    report = _submitted(world)
    report = services.approve_report(report=report, by=world.users.county_a)
    lock = LockedMonth.objects.get(region=world.town_a, month=MONTH)
    assert lock.reason == "马营镇2025年5月月报告"
    with pytest.raises(ValidationError) as caught:
        _visit(world)
    assert caught.value.code == "locked" and "马营镇2025年5月月报告已审核通过" in caught.value.messages[0]
    with pytest.raises(ValidationError) as caught:
        raise_demand(
            household=world.household_a, category="住房", text="危房", by=world.users.town_a, raised_on=DAY
        )
    assert "马营镇2025年5月月报告" in caught.value.messages[0]
    assert _visit(world, datetime.date(2025, 6, 2)).pk  # the next month is open
    # Another township of the county is not locked.
    f.pairing(world.cadre_a, world.household_a2)
    assert record_visit(
        household=world.household_a2, cadre=world.cadre_a, visited_on=DAY, by=world.users.county_a
    )

    with pytest.raises(ValidationError):
        services.reopen_report(report=report, by=world.users.county_a, reason="")
    report = services.reopen_report(report=report, by=world.users.county_a, reason="补录漏报走访")
    assert report.status == "returned"
    assert not LockedMonth.objects.filter(month=MONTH).exists()
    assert _visit(world).pk


def test_a_unit_report_locks_its_linked_villages_and_unit_visits_there(world):
    office = Office(unit=world.unit_a)
    report = _draft(world, office, world.users.unit_a)
    report = services.submit_report(report=report, by=world.users.unit_a)
    services.approve_report(report=report, by=world.users.county_a)
    assert list(LockedMonth.objects.values_list("region_id", flat=True)) == [world.village_a.code]
    with pytest.raises(ValidationError) as caught:
        record_unit_visit(
            unit=world.unit_a,
            village=world.village_a,
            visited_on=DAY,
            cadres=[world.cadre_a],
            activities="座谈",
            by=world.users.unit_a,
        )
    assert "通渭县农业农村局2025年5月月报告" in caught.value.messages[0]


def test_a_report_below_an_approved_one_is_not_reopened(world):
    report = services.approve_report(report=_submitted(world), by=world.users.county_a)
    county = _draft(world, Office(region=world.county_a), world.users.county_a)
    county = services.submit_report(report=county, by=world.users.county_a, missing_note="缺鸡川镇")
    services.approve_report(report=county, by=world.users.city_a)
    with pytest.raises(ValidationError) as caught:
        services.reopen_report(report=report, by=world.users.county_a, reason="补录")
    assert "通渭县2025年5月月报告已审核通过" in caught.value.messages[0]


def test_due_dates_are_data(world):
    from reports.models import ReportDueDay

    assert due_date(Office(region=world.town_a), MONTH) == datetime.date(2025, 6, 3)
    assert due_date(Office(unit=world.unit_a), MONTH) == datetime.date(2025, 6, 3)
    assert due_date(Office(region=world.county_a), MONTH) == datetime.date(2025, 6, 5)
    assert due_date(Office(region=world.city_a), MONTH) == datetime.date(2025, 6, 8)
    assert due_date(Office(region=world.province), MONTH) is None
    ReportDueDay.objects.create(level="township", day=6)
    assert due_date(Office(region=world.town_a), datetime.date(2025, 12, 1)) == datetime.date(2026, 1, 6)


# --- Through the pages -----------------------------------------------------------------------------


def _url(name, office_key, month=MONTH):
    return reverse(f"reports:{name}", args=[office_key, month.year, month.month])


def test_the_pages_take_the_report_through_its_steps(client, world):
    town = world.town_a.code
    client.force_login(world.users.town_a)
    response = client.post(_url("save", town), TEXTS, follow=True)
    assert "已保存" in response.content.decode()
    report = MonthlyReport.objects.get()
    client.post(_url("submit", town), {"version": report.version})
    client.post(_url("submit", town), {"version": report.version})  # a double click
    assert MonthlyReport.objects.get().status == "submitted"
    assert ReportAction.objects.filter(kind="submit").count() == 1
    client.force_login(world.users.county_a)
    page = client.get(_url("detail", town)).content.decode()
    assert 'id="approve-form"' in page and 'id="return-form"' in page
    version = MonthlyReport.objects.get().version
    client.post(_url("return", town), {"version": version, "text": "数据有误"})
    assert MonthlyReport.objects.get().status == "returned"
    client.force_login(world.users.town_a)
    page = client.get(_url("detail", town)).content.decode()
    assert "退回意见" in page and "数据有误" in page


def test_wrong_level_is_403_and_another_county_404(client, world):
    town = world.town_a.code
    _submitted(world)
    client.force_login(world.users.town_a)
    assert client.post(_url("approve", town), {}).status_code == 403
    client.force_login(world.users.county_b)
    assert client.post(_url("approve", town), {}).status_code == 404
    assert client.get(_url("detail", town)).status_code == 404
    client.force_login(world.users.city_a)
    assert client.post(_url("approve", town), {}).status_code == 403
    assert MonthlyReport.objects.get().status == "submitted"


def test_a_month_before_the_campaign_or_in_the_future_is_404(client, world):
    client.force_login(world.users.town_a)
    today = datetime.date.today()
    future = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    assert client.get(_url("detail", world.town_a.code, future)).status_code == 404
    assert client.get(reverse("reports:detail", args=[world.town_a.code, 2025, 13])).status_code == 404


def test_the_approved_report_shows_current_figures_beside_the_frozen_ones(client, world):
    report = services.approve_report(report=_submitted(world), by=world.users.county_a)
    LockedMonth.objects.all().delete()  # a superuser's repair in the admin: the record changes after approval
    _visit(world, mode=Visit.Mode.HOME)
    client.force_login(world.users.county_a)
    page = client.get(_url("detail", world.town_a.code)).content.decode()
    assert "当前本月" in page and "审核后记录有变动" in page
    assert MonthlyReport.objects.get(pk=report.pk).figures["month"]["visits_home"] == 0


def test_the_status_board_counts_and_exports(client, world):
    report = _submitted(world)
    assert report.status == "submitted"
    client.force_login(world.users.county_a)
    page = client.get(reverse("reports:board"), {"month": "2025-05"}).content.decode()
    assert "共 3 个单位" in page and "已报送 1" in page and "未起草 2" in page and "逾期 2" in page
    response = client.get(reverse("reports:board_xlsx"), {"month": "2025-05"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(world.users.town_a)
    assert client.get(reverse("reports:board")).status_code == 403


def test_the_report_downloads_as_a_workbook_with_its_figures_rows_and_text(client, world):
    import io

    from openpyxl import load_workbook

    _draft(world, Office(region=world.county_a), world.users.county_a)
    client.force_login(world.users.county_a)
    response = client.get(_url("xlsx", world.county_a.code))
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["指标", "下级", "帮扶单位", "文字"]
    rows = [[cell for cell in row] for row in book["下级"].iter_rows(values_only=True)]
    assert [row[0] for row in rows] == ["区域", "马营镇", "鸡川镇", "合计"]
    text = {row[0]: row[1] for row in book["文字"].iter_rows(values_only=True)}
    assert text["工作开展情况"] == "开展走访"
    names = [row[0] for row in book["指标"].iter_rows(values_only=True)]
    assert "在册贫困户" in names and "入户走访" in names
