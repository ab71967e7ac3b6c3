# ruff: noqa: F811 (the county fixture is shared with tests/test_evaluation.py by import)
"""Mass evaluation: paper sheets (round trip, refusals, sheets from other tools), integrity flags and
the 八个不准 cases."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from evaluation import flags, paper, services
from evaluation.models import Ballot, Flag, SampledHousehold, ViolationCase
from tests.test_evaluation import GOOD_ANSWERS, _assigned, _collector, _open, county  # noqa: F401
from visits.models import Visit

TODAY = timezone.localdate


def _paper_round(w):
    round_ = _open(w)
    collector = _collector(w, "paper")
    _assigned(w, round_, collector, household__village=w.village_a)
    return round_, collector


def _download(client, w, round_):
    client.force_login(w.users.county_a)
    response = client.get(reverse("evaluation:paper_sheet", args=[round_.pk, w.village_a.code]))
    assert response.status_code == 200
    return response.content


def _upload(client, round_, content, name="评议表.xlsx"):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(reverse("evaluation:paper_import", args=[round_.pk]), {"file": upload}, follow=True)


def _fill(content, rows):
    """Answer the first len(rows) rows of a downloaded sheet, each a {header: value}."""
    book = load_workbook(io.BytesIO(content))
    sheet = book["评议表"]
    headers = [cell.value for cell in sheet[1]]
    for index, answers in enumerate(rows, start=2):
        for header, value in answers.items():
            sheet.cell(index, headers.index(header) + 1, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SATISFACTION, VISITS, DEEDS, VIOLATION = (
    "您对帮扶干部的总体满意度",
    "今年干部到过你家几次",
    "干部帮你家办了哪些实事",
    "干部有无吃拿卡要等违反“八个不准”的行为",
)


def _row(**extra):
    return {
        "采集方式": "入户",
        "采集日期": TODAY(),
        SATISFACTION: "满意",
        VISITS: "3–5次",
        VIOLATION: "无",
        **extra,
    }


# --- Paper sheets -------------------------------------------------------------------------------


def test_the_paper_sheet_has_drop_downs_locked_keys_and_one_row_per_household(client, county):
    round_, _collector = _paper_round(county)
    book = load_workbook(io.BytesIO(_download(client, county, round_)))
    sheet = book["评议表"]
    in_village = round_.samples.filter(household__village=county.village_a).count()
    assert sheet.max_row == in_village + 1
    assert [c.value for c in sheet[1]][:7] == [
        "样本编号",
        "户主",
        "组",
        "帮扶干部",
        "采集员",
        "采集方式",
        "采集日期",
    ]
    assert sheet.protection.sheet
    assert sheet["A2"].protection.locked and not sheet["F2"].protection.locked
    lists = {v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"}
    assert '"入户,电话"' in lists and '"满意,基本满意,不满意,不了解"' in lists and '"无,有"' in lists
    ids = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert ids == set(round_.samples.filter(household__village=county.village_a).values_list("pk", flat=True))


def test_a_filled_sheet_round_trips_and_a_second_upload_adds_nothing(client, county):
    round_, collector = _paper_round(county)
    filled = _fill(
        _download(client, county, round_),
        [
            _row(),
            _row(**{SATISFACTION: "基本满意", DEEDS: "危房改造、看病就医", "采集方式": "电话"}),
            _row(**{VIOLATION: "有", VIOLATION + "（说明）": "过年收了一只羊"}),
        ],
    )
    response = _upload(client, round_, filled)
    assert "已导入评议票 3 张" in response.content.decode()
    ballots = Ballot.objects.filter(round=round_).order_by("sample__household__group", "pk")
    assert ballots.count() == 3
    assert {b.source for b in ballots} == {Ballot.Source.PAPER}
    assert {b.collector_id for b in ballots} == {collector.pk}
    assert any(b.answers.get("deeds") == ["危房改造", "看病就医"] for b in ballots)
    case = ViolationCase.objects.get(round=round_)
    assert case.report == "过年收了一只羊" and case.status == "核查中"
    assert _upload(client, round_, filled).status_code == 200
    assert Ballot.objects.filter(round=round_).count() == 3
    assert ViolationCase.objects.count() == 1


def test_one_bad_cell_refuses_the_whole_sheet_naming_row_and_column(client, county):
    round_, _collector = _paper_round(county)
    filled = _fill(
        _download(client, county, round_),
        [
            _row(),
            _row(**{"采集方式": "上门"}),
            _row(**{SATISFACTION: "很满意"}),
            _row(**{VIOLATION: "有"}),
            _row(**{"采集日期": TODAY() + datetime.timedelta(days=3)}),
        ],
    )
    page = _upload(client, round_, filled).content.decode()
    assert Ballot.objects.filter(round=round_).count() == 0
    assert "第3行“采集方式”：“上门”不是可选的采集方式" in page
    assert "第4行“您对帮扶干部的总体满意度”：“您对帮扶干部的总体满意度”没有选项“很满意”" in page
    assert "第5行“干部有无吃拿卡要等违反“八个不准”的行为”" in page and "请写明具体情况" in page
    assert "第6行“采集日期”" in page
    assert "未导入任何评议票" in page


def test_a_sheet_written_by_another_tool_without_styles_imports(county):
    """Columns in another order, no styles or validations, the ID as text, a date typed as text,
    choices separated with full-width commas: what a sheet re-saved elsewhere looks like."""
    round_, _collector = _paper_round(county)
    samples = list(round_.samples.filter(household__village=county.village_a).order_by("pk")[:2])
    book = Workbook()
    sheet = book.active
    sheet.append(["说明：第二行起每行一户"])
    sheet.append([VIOLATION, SATISFACTION, "样本编号", VISITS, "采集日期", "采集方式", DEEDS, "意见建议"])
    sheet.append(
        [
            "无",
            "满意",
            str(samples[0].pk),
            "6次以上",
            TODAY().strftime("%Y/%m/%d"),
            "入户",
            "产业发展，务工就业",
            "'=多修路",
        ]
    )
    sheet.append(
        ["无", "不了解", float(samples[1].pk), "0次", TODAY().strftime("%Y年%m月%d日"), "电话", None, None]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    refused = paper.import_sheet(by=county.users.county_a, round_=round_, data=buffer.getvalue())
    assert (
        refused.created == 0 and "表头缺少" in refused.errors[0] and DEEDS + "（说明）" in refused.errors[0]
    )
    sheet.cell(2, 9, DEEDS + "（说明）")
    sheet.cell(2, 10, VIOLATION + "（说明）")
    buffer = io.BytesIO()
    book.save(buffer)
    result = paper.import_sheet(by=county.users.county_a, round_=round_, data=buffer.getvalue())
    assert result.errors == [] and result.created == 2
    first = Ballot.objects.get(sample=samples[0])
    assert first.answers["deeds"] == ["产业发展", "务工就业"]
    assert first.answers["suggestions"] == "=多修路"
    assert first.collected_at.date() == TODAY() or timezone.localdate(first.collected_at) == TODAY()


def test_a_file_that_is_not_a_workbook_is_refused_in_words(county):
    round_, _collector = _paper_round(county)
    result = paper.import_sheet(by=county.users.county_a, round_=round_, data=b"name,score\n1,2\n")
    assert result.errors == ["文件不是 Excel 工作簿（.xlsx），请上传下载的纸质评议表。"]


def test_an_unassigned_household_on_paper_is_refused(client, county):
    round_ = _open(county)
    content = _download(client, county, round_)
    result = paper.import_sheet(by=county.users.county_a, round_=round_, data=_fill(content, [_row()]))
    assert (
        result.created == 0 and "尚未指派采集员" in result.errors[0] and result.errors[0].startswith("第2行")
    )


# --- Integrity flags ----------------------------------------------------------------------------


def _ballot(w, round_, collector, sample, answers=GOOD_ANSWERS, at=None, mode="入户"):
    services.assign_collector(by=w.users.county_a, round_=round_, collector=collector, samples=[sample])
    ballot, _ = services.record_ballot(
        by=collector.user, sample=sample, mode=mode, answers=answers, collected_at=at
    )
    return ballot


def _visits(w, household, count, mode=Visit.Mode.HOME):
    for n in range(count):
        Visit.objects.create(
            household=household,
            cadre=w.cadre_a,
            visited_on=TODAY() - datetime.timedelta(days=n),
            mode=mode,
            recorded_by=w.users.town_a,
        )


def _kinds(round_):
    return sorted((f.kind, f.key) for f in flags.find(round_))


def test_a_household_saying_it_was_hardly_visited_against_four_recorded_visits_is_flagged(county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    samples = list(round_.samples.filter(cadre=county.cadre_a).order_by("pk"))
    _visits(county, samples[0].household, 4)
    _visits(county, samples[1].household, 3)  # three: no flag
    _visits(county, samples[2].household, 5, mode=Visit.Mode.PHONE)  # calls are no home visits
    _visits(county, samples[3].household, 6)  # but the household says 3–5次
    for sample, said in zip(samples[:4], ["0次", "1–2次", "0次", "3–5次"]):
        _ballot(county, round_, collector, sample, {**GOOD_ANSWERS, "visits": said})
    found = flags.visit_mismatches(round_)
    assert [f.key for f in found] == [f"s{samples[0].pk}"]
    assert "答“今年干部到过你家几次”为“0次”" in found[0].reason and "入户走访 4 次" in found[0].reason
    assert samples[0].household.head_name not in found[0].reason  # masked


def test_a_collector_faster_than_the_pace_is_flagged_and_a_steady_one_is_not(county):
    round_ = _open(county)
    quick, steady = _collector(county, "quick"), _collector(county, "steady")
    samples = list(round_.samples.order_by("pk"))
    start = timezone.now() - datetime.timedelta(hours=5)
    for n, sample in enumerate(samples[:3]):  # a minute apart, round's pace is 3
        _ballot(county, round_, quick, sample, at=start + datetime.timedelta(minutes=n))
    for n, sample in enumerate(samples[3:7]):
        _ballot(county, round_, steady, sample, at=start + datetime.timedelta(minutes=10 * n))
    found = flags.fast_collectors(round_)
    assert [f.key for f in found] == [f"c{quick.pk}"]
    assert "2 张手机评议票与其上一张相隔不足 3 分钟（最短 60 秒" in found[0].reason


def test_a_village_of_identical_ballots_is_flagged_and_a_varied_one_is_not(county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    same = list(round_.samples.filter(household__village=county.village_a).order_by("pk")[:5])
    varied = list(round_.samples.filter(household__village=county.village_a2).order_by("pk")[:5])
    hour = datetime.timedelta(hours=1)
    start = timezone.now() - 20 * hour
    for n, sample in enumerate(same):
        _ballot(county, round_, collector, sample, at=start + n * hour)
    for n, sample in enumerate(varied):
        answers = {**GOOD_ANSWERS, "satisfaction": "基本满意"} if n % 3 == 0 else GOOD_ANSWERS
        _ballot(county, round_, collector, sample, answers, at=start + (10 + n) * hour)
    assert _kinds(round_) == [(Flag.Kind.IDENTICAL, f"v{county.village_a.code}")]
    reason = flags.identical_villages(round_)[0].reason
    assert f"{county.village_a.name}的 5 张评议票中有 5 张答案完全相同（满意、3–5次、无）" in reason


def test_the_office_marks_a_flag_checked_and_looking_again_keeps_the_check(client, county):
    round_ = _open(county)
    quick = _collector(county, "quick")
    start = timezone.now() - datetime.timedelta(hours=1)
    for n, sample in enumerate(round_.samples.order_by("pk")[:3]):
        _ballot(county, round_, quick, sample, at=start + datetime.timedelta(seconds=30 * n))
    client.force_login(county.users.county_a)
    page = client.post(reverse("evaluation:flag_list", args=[round_.pk]), follow=True).content.decode()
    assert "采集过快" in page and "现有疑点 1 条" in page
    flag = Flag.objects.get(round=round_)
    for _twice in range(2):
        client.post(reverse("evaluation:flag_check", args=[flag.pk]), {"note": "电话评议，已回访核实"})
    flag.refresh_from_db()
    assert flag.checked_by == county.users.county_a and flag.check_note == "电话评议，已回访核实"
    services.refresh_flags(by=county.users.county_a, round_=round_)
    assert Flag.objects.get(round=round_).checked_at == flag.checked_at
    services.close_round(by=county.users.county_a, round_=round_)
    assert Flag.objects.filter(round=round_).count() == 1


# --- 八个不准 cases ---------------------------------------------------------------------------------


def test_a_violation_answer_opens_a_case_the_office_settles_with_an_outcome(client, county):
    round_ = _open(county)
    collector = _collector(county, "vol")
    samples = list(round_.samples.filter(cadre=county.cadre_a).order_by("pk"))
    _ballot(
        county,
        round_,
        collector,
        samples[0],
        {**GOOD_ANSWERS, "violation": "有", "violation__text": "吃过一顿饭"},
    )
    _ballot(county, round_, collector, samples[1])
    case = ViolationCase.objects.get()
    assert (case.cadre, case.report, case.status) == (county.cadre_a, "吃过一顿饭", "核查中")
    with pytest.raises(ValidationError, match="请写明核查结果"):
        services.settle_violation_case(by=county.users.county_a, case=case, status="属实", outcome=" ")
    client.force_login(county.users.county_a)
    listing = client.get(reverse("evaluation:case_list", args=[round_.pk])).content.decode()
    assert "吃过一顿饭" in listing and "核查中" in listing
    assert samples[0].household.head_name not in listing
    response = client.post(
        reverse("evaluation:case_detail", args=[case.pk]), {"status": "不属实", "outcome": ""}
    )
    assert "请写明核查结果" in response.content.decode()
    client.post(
        reverse("evaluation:case_detail", args=[case.pk]), {"status": "属实", "outcome": "已诫勉谈话"}
    )
    case.refresh_from_db()
    assert (case.status, case.outcome, case.updated_by) == ("属实", "已诫勉谈话", county.users.county_a)
    # A correction to 有 opens a case for that ballot too.
    services.correct_ballot(
        by=county.users.county_a,
        ballot=Ballot.objects.get(sample=samples[1]),
        answers={**GOOD_ANSWERS, "violation": "有", "violation__text": "补充反映"},
        reason="回访补充",
    )
    assert ViolationCase.objects.count() == 2
    assert SampledHousehold.objects.filter(round=round_, status="已采集").count() == 2


# --- The questionnaire page ---------------------------------------------------------------------


def test_the_office_edits_and_adds_questions_until_the_first_ballot(client, county):
    round_ = _open(county)
    client.force_login(county.users.county_a)
    satisfaction = round_.questions.get(code="satisfaction")
    url = reverse("evaluation:question_edit", args=[satisfaction.pk])
    form = {
        "text": "总体满意度",
        "choices_text": "满意 100\n较满意 80\n不满意 0\n不了解",
        "scored": "on",
        "weight": 2,
    }
    bad = client.post(url, {**form, "choices_text": "满意 100\n满意 90"})
    assert "第2行“满意”：选项重复。" in bad.content.decode()
    assert client.post(url, {**form, "required": "on"}).status_code == 302
    satisfaction.refresh_from_db()
    assert (
        satisfaction.choices[1] == {"value": "较满意", "score": 80}
        and satisfaction.choices[3]["score"] is None
    )
    assert (satisfaction.weight, satisfaction.kind, satisfaction.text) == (2, "single", "总体满意度")
    new = reverse("evaluation:questionnaire", args=[round_.pk])
    client.post(
        new, {"text": "是否知道帮扶干部电话", "kind": "single", "choices_text": "知道\n不知道", "weight": 1}
    )
    assert round_.questions.get(order=6).choices == [
        {"value": "知道", "score": None},
        {"value": "不知道", "score": None},
    ]
    collector = _collector(county, "vol")
    sample = _assigned(county, round_, collector, household=county.household_a)[0]
    services.record_ballot(
        by=collector.user, sample=sample, mode="入户", answers={**GOOD_ANSWERS, "satisfaction": "较满意"}
    )
    locked = client.post(url, {**form, "text": "改"})
    assert "问卷已锁定" in locked.content.decode()
    assert "问卷已锁定" in client.get(new).content.decode()
    client.post(new, {"text": "再加一题", "kind": "text", "weight": 1})
    assert round_.questions.count() == 6


def test_flag_and_case_lists_run_a_fixed_number_of_queries(client, county):
    from tests.queries import count_queries

    round_ = _open(county)
    collector = _collector(county, "vol")
    samples = list(round_.samples.order_by("pk"))
    start = timezone.now() - datetime.timedelta(hours=3)
    reported = {**GOOD_ANSWERS, "violation": "有", "violation__text": "收礼"}
    for n, sample in enumerate(samples[:3]):
        _ballot(county, round_, collector, sample, reported, at=start + datetime.timedelta(seconds=20 * n))
    services.refresh_flags(by=county.users.county_a, round_=round_)
    client.force_login(county.users.county_a)
    pages = [
        reverse("evaluation:flag_list", args=[round_.pk]),
        reverse("evaluation:case_list", args=[round_.pk]),
    ]
    before = [count_queries(client, page) for page in pages]
    for n, sample in enumerate(samples[3:12]):
        _ballot(
            county,
            round_,
            collector,
            sample,
            reported,
            at=start + datetime.timedelta(minutes=1, seconds=20 * n),
        )
    quick = _collector(county, "quick")
    for n, sample in enumerate(samples[12:15]):
        _ballot(county, round_, quick, sample, at=start + datetime.timedelta(hours=1, seconds=20 * n))
    services.refresh_flags(by=county.users.county_a, round_=round_)
    assert Flag.objects.filter(round=round_).count() >= 2 and ViolationCase.objects.count() == 12
    assert [count_queries(client, page) for page in pages] == before
