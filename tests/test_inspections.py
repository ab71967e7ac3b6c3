"""督查, rectification, notice lists and typical cases: the flows behind the pages."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from dashboard import todo
from inspections import notice, sampling, services
from inspections.models import Flag, FlagVisit, Inspection, Rectification, SampledVisit, TypicalCase
from tests import factories as f
from visits.models import Visit

DAY = datetime.date(2025, 5, 6)


def _visits(world, cadre, households, days=6):
    made = []
    for household in households:
        for offset in range(days):
            made.append(
                Visit.objects.create(
                    household=household,
                    cadre=cadre,
                    visited_on=DAY + datetime.timedelta(days=offset),
                    mode=Visit.Mode.HOME,
                    recorded_by=world.users.town_a,
                )
            )
    return made


def _inspect(world, seed=7, per_cadre=2, name="五月督查"):
    return services.create_inspection(
        by=world.users.county_a,
        name=name,
        starts_on=DAY,
        ends_on=DAY + datetime.timedelta(days=3),
        checks="电话回访、检查民情日记",
        townships=[world.town_a],
        units=[],
        team=[world.users.county_a],
        visits_from=DAY,
        visits_to=DAY + datetime.timedelta(days=30),
        per_cadre=per_cadre,
        seed=seed,
    )


def _drawn(inspection):
    return list(inspection.samples.order_by("order").values_list("visit_id", flat=True))


# --- the sample ----------------------------------------------------------------------------------


def test_the_sample_repeats_from_its_seed_and_is_drawn_per_cadre(world):
    other = f.cadre(world.unit_a, "周红")
    household = f.household(world.village_a, "钱有粮")
    f.pairing(other, household)
    _visits(world, world.cadre_a, [world.household_a])
    _visits(world, other, [household])
    first = _inspect(world, seed=42)
    again = _inspect(world, seed=42, name="复查")
    assert first != again and _drawn(first) == _drawn(again) and len(_drawn(first)) == 4
    by_cadre = {}
    for sample in first.samples.select_related("visit"):
        by_cadre.setdefault(sample.visit.cadre_id, []).append(sample)
    assert sorted(len(v) for v in by_cadre.values()) == [2, 2]
    others = {tuple(_drawn(_inspect(world, seed=seed, name=f"督查{seed}"))) for seed in range(1, 8)}
    assert len(others) > 1  # the seed decides
    assert first.seed == 42


def test_flagged_visits_weigh_more_in_the_draw(world):
    made = _visits(world, world.cadre_a, [world.household_a], days=10)
    flag = Flag.objects.create(kind=Flag.Kind.BULK, key="bulk:x", village=world.village_a, reason="集中代录")
    FlagVisit.objects.create(flag=flag, visit=made[0])
    inspection = _inspect(world, per_cadre=1)
    hits = 0
    for seed in range(300):
        inspection.seed = seed
        (drawn,) = sampling.draw(inspection)
        hits += drawn.visit_id == made[0].pk
        assert drawn.weight == (3 if drawn.visit_id == made[0].pk else 1)
    # Unweighted it would be drawn about 30 times in 300; at weight 3 about 3 / 12 of the time.
    assert hits > 50


def test_an_inspector_records_call_backs_and_the_report_shows_the_share(client, world):
    _visits(world, world.cadre_a, [world.household_a], days=3)
    inspection = _inspect(world, per_cadre=3)
    samples = list(inspection.samples.order_by("order"))
    by = world.users.county_a
    services.record_check(by=by, sample=samples[0], result="属实", method="电话回访")
    services.record_check(by=by, sample=samples[1], result="不符", method="实地核查", note="农户说当天没人来")
    services.record_check(by=by, sample=samples[2], result="无法联系", method="电话回访")
    with pytest.raises(ValidationError):
        services.record_check(by=by, sample=samples[0], result="不符", method="电话回访", note="")
    with pytest.raises(PermissionDenied):  # not on the team
        services.record_check(by=world.users.city_a, sample=samples[0], result="属实", method="电话回访")
    client.force_login(world.users.town_a)
    page = client.get(reverse("inspections:report", args=[inspection.pk]))
    rows = page.context["by_township"]
    assert [(r["township__name"], r["confirmed"], r["share"]) for r in rows] == [("马营镇", 1, 50.0)]
    assert "农户说当天没人来" in page.content.decode()
    docx = client.get(reverse("inspections:report_docx", args=[inspection.pk]))
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(docx.content)).paragraphs)
    assert "属实率 50.0%" in text


def test_an_inspection_may_only_cover_the_offices_own_townships(world):
    with pytest.raises(ValidationError):
        services.create_inspection(
            by=world.users.county_a,
            name="越权",
            starts_on=DAY,
            ends_on=DAY,
            checks="-",
            townships=[world.town_b],
            visits_from=DAY,
            visits_to=DAY,
        )


# --- flags into findings, and rectification ------------------------------------------------------


def _flag(world):
    (visit,) = _visits(world, world.cadre_a, [world.household_a], days=1)
    flag = Flag.objects.create(
        kind=Flag.Kind.AWAY, key=f"away:{visit.pk}", village=world.village_a, reason="外出"
    )
    FlagVisit.objects.create(flag=flag, visit=visit)
    return flag


def test_a_flag_is_dismissed_only_with_a_reason(world):
    flag = _flag(world)
    with pytest.raises(ValidationError):
        services.review_flag(by=world.users.county_a, flag=flag, confirm=False, note=" ")
    services.review_flag(by=world.users.county_a, flag=flag, confirm=False, note="电话核实，农户春节回家")
    again = services.review_flag(by=world.users.county_a, flag=flag, confirm=False, note="再按一次")
    assert again.status == Flag.Status.DISMISSED and again.review_note == "电话核实，农户春节回家"
    with pytest.raises(ValidationError):  # decided: confirming now is refused
        services.review_flag(by=world.users.county_a, flag=flag, confirm=True, note="")
    with pytest.raises(PermissionDenied):
        services.review_flag(by=world.users.town_a, flag=_flag_other(world), confirm=False, note="x")


def _flag_other(world):
    return Flag.objects.create(kind=Flag.Kind.AWAY, key="away:other", village=world.village_a, reason="外出")


def test_the_rectification_flow_from_a_confirmed_flag(world):
    flag = _flag(world)
    flag = services.review_flag(by=world.users.county_a, flag=flag, confirm=True, note="核实日记真实性")
    services.review_flag(by=world.users.county_a, flag=flag, confirm=True, note="")  # twice: once
    (item,) = Rectification.objects.all()
    assert flag.finding.rectifications.get() == item
    assert item.township == world.town_a and item.finding.region == world.county_a
    assert item.status == Rectification.Status.OPEN
    with pytest.raises(PermissionDenied):  # the county does not answer for the township
        services.answer_rectification(by=world.users.county_a, item=item, answer="x", evidence="y")
    with pytest.raises(ValidationError):  # nothing to close before an answer
        services.close_rectification(by=world.users.county_a, item=item, accept=True)
    with pytest.raises(ValidationError):
        services.answer_rectification(by=world.users.town_a, item=item, answer="已核实", evidence="")
    services.answer_rectification(
        by=world.users.town_a, item=item, answer="已约谈干部，补录真实日记", evidence="约谈记录"
    )
    with pytest.raises(ValidationError):  # returning needs a reason
        services.close_rectification(by=world.users.county_a, item=item, accept=False, note="")
    services.close_rectification(by=world.users.county_a, item=item, accept=False, note="佐证不足")
    item.refresh_from_db()
    assert item.status == Rectification.Status.RETURNED
    services.answer_rectification(by=world.users.town_a, item=item, answer="补充了照片", evidence="照片3张")
    services.close_rectification(by=world.users.county_a, item=item, accept=True)
    item.refresh_from_db()
    assert item.status == Rectification.Status.CLOSED and item.closed_by == world.users.county_a


def _counts(user, today):
    return {item.key: item.count for item in todo.items(user, today)}


def test_overdue_items_are_on_both_sides_worklists(world):
    flag = _flag(world)
    services.review_flag(by=world.users.county_a, flag=flag, confirm=True, note="核实")
    item = Rectification.objects.get()
    today = item.due_on
    assert _counts(world.users.town_a, today)["rectify"] == 1
    assert _counts(world.users.town_a, today)["rectify_overdue"] == 0
    later = today + datetime.timedelta(days=1)
    assert _counts(world.users.town_a, later)["rectify_overdue"] == 1
    assert _counts(world.users.county_a, later)["rectify_overdue"] == 1
    assert _counts(world.users.county_b, later)["rectify_overdue"] == 0
    assert _counts(world.users.town_b, later)["rectify_overdue"] == 0


def test_a_finding_for_a_unit_is_answered_by_its_liaison(world):
    inspection = _inspect(world)
    finding = services.add_finding(
        by=world.users.county_a,
        inspection=inspection,
        text="单位未按要求联村",
        unit=world.unit_a,
        requirement="补齐联村走访",
        due_on=DAY,
    )
    item = finding.rectifications.get()
    assert list(Rectification.objects.to_answer_by(world.users.unit_a)) == [item]
    assert list(Rectification.objects.visible_to(world.users.unit_b)) == []
    services.answer_rectification(by=world.users.unit_a, item=item, answer="已补齐", evidence="走访记录")
    assert _counts(world.users.county_a, DAY)["rectify_close"] == 1


# --- notice lists --------------------------------------------------------------------------------


def test_the_notice_page_leaves_ids_phones_and_health_out_of_the_html(client, world):
    household = world.household_a
    household.phone = "13909310001"
    household.main_cause = "因病"
    household.save()
    member = household.members.exclude(relation="户主").first()
    member.health = "患有大病"
    member.save()
    client.force_login(world.users.town_a)
    body = client.get(reverse("inspections:notice", args=[world.village_a.code])).content.decode()
    assert (
        household.head_name in body
        and "因病" in body
        and world.cadre_a.name in body
        and world.unit_a.name in body
    )
    assert household.phone not in body and "0001" not in body
    for id_number in household.members.values_list("id_number", flat=True):
        assert id_number not in body and id_number[-4:] not in body
    assert "患有大病" not in body and "健康" not in body


def test_a_change_after_posting_marks_the_list_to_post_again(client, world):
    by = world.users.town_a
    posting = services.record_posting(by=by, village=world.village_a, posted_on=DAY)
    assert services.record_posting(by=by, village=world.village_a, posted_on=DAY) == posting  # pressed twice
    assert notice.status(world.village_a)[1] is False
    f.household(world.village_a, "新识别户")
    assert notice.status(world.village_a)[1] is True
    client.force_login(by)
    page = client.get(reverse("inspections:notice", args=[world.village_a.code]))
    assert page.context["stale"] and "须重新审核公示" in page.content.decode()
    client.post(reverse("inspections:notice_post", args=[world.village_a.code]), {"posted_on": "2025-05-07"})
    assert notice.status(world.village_a)[1] is False
    assert notice.latest_posting(world.village_a).households == 2


# --- typical cases -------------------------------------------------------------------------------


def test_a_case_is_approved_one_level_up_and_published_to_every_office_masked(client, world):
    (visit,) = _visits(world, world.cadre_a, [world.household_a], days=1)
    visit.diary = "帮助王建国家申请了产业扶持资金"
    visit.save()
    case = services.nominate_case(
        by=world.users.town_a,
        kind=TypicalCase.Kind.DIARY,
        subject=visit,
        title="一篇好日记",
        write_up="写得实在",
    )
    with pytest.raises(PermissionDenied):  # the city is two levels up
        services.review_case(by=world.users.city_a, case=case, approve=True)
    client.force_login(world.users.county_b)
    assert client.get(reverse("inspections:case_detail", args=[case.pk])).status_code == 404
    services.review_case(by=world.users.county_a, case=case, approve=True)
    page = client.get(reverse("inspections:case_detail", args=[case.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and "一篇好日记" in body and "王**户" in body
    assert "一篇好日记" in client.get(reverse("inspections:case_list")).content.decode()


def test_nominating_needs_a_subject_in_scope(client, world):
    client.force_login(world.users.town_a)
    response = client.post(
        reverse("inspections:case_nominate"),
        {"kind": "干部", "subject_id": world.cadre_b.pk, "title": "t", "write_up": "w"},
    )
    assert response.status_code == 200 and "没有编号为" in response.content.decode()
    response = client.post(
        reverse("inspections:case_nominate"),
        {"kind": "干部", "subject_id": world.cadre_a.pk, "title": "好干部", "write_up": "事迹"},
    )
    assert response.status_code == 302 and TypicalCase.objects.get().cadre == world.cadre_a


def test_inspection_pages_show_progress_and_the_sample(client, world):
    _visits(world, world.cadre_a, [world.household_a], days=2)
    inspection = _inspect(world)
    client.force_login(world.users.county_a)
    page = client.get(reverse("inspections:checks", args=[inspection.pk]))
    assert page.status_code == 200 and len(page.context["samples"]) == 2
    sample = inspection.samples.order_by("order").first()
    response = client.post(
        reverse("inspections:check", args=[sample.pk]), {"method": "电话回访", "result": "属实", "note": ""}
    )
    assert response.status_code == 302
    assert SampledVisit.objects.get(pk=sample.pk).result == "属实"
    assert Inspection.objects.get().status == Inspection.Status.OPEN
    assert timezone.now()


def test_forms_pressed_twice_create_once(world):
    _visits(world, world.cadre_a, [world.household_a], days=2)
    first, second = _inspect(world, seed=3), _inspect(world, seed=3)
    assert first == second and Inspection.objects.count() == 1
    finding = dict(
        by=world.users.county_a,
        inspection=first,
        text="问题",
        township=world.town_a,
        requirement="改",
        due_on=DAY,
    )
    assert services.add_finding(**finding) == services.add_finding(**finding)
    assert Rectification.objects.count() == 1
    case = dict(by=world.users.town_a, kind="干部", subject=world.cadre_a, title="好干部", write_up="事迹")
    assert services.nominate_case(**case) == services.nominate_case(**case)
    assert TypicalCase.objects.count() == 1


def test_the_county_opens_an_inspection_and_adds_a_finding_on_the_pages(client, world):
    _visits(world, world.cadre_a, [world.household_a], days=2)
    client.force_login(world.users.county_a)
    data = {
        "name": "六月督查",
        "starts_on": "2025-06-01",
        "ends_on": "2025-06-03",
        "checks": "电话回访",
        "townships": [world.town_a.pk],
        "team": [world.users.county_a.pk],
        "visits_from": "2025-05-01",
        "visits_to": "2025-05-31",
        "per_cadre": "1",
        "seed": "9",
    }
    response = client.post(reverse("inspections:inspection_create"), data)
    inspection = Inspection.objects.get()
    assert response.status_code == 302 and inspection.samples.count() == 1 and inspection.seed == 9
    url = reverse("inspections:finding_add", args=[inspection.pk])
    client.post(
        url, {"text": "日记简单", "township": world.town_a.pk, "requirement": "补充", "due_on": "2025-07-01"}
    )
    item = Rectification.objects.get()
    assert item.township == world.town_a and item.finding.inspection == inspection
    page = client.get(reverse("inspections:inspection_detail", args=[inspection.pk]))
    assert "日记简单" in page.content.decode()
    refused = client.post(
        url, {"text": "没有责任方", "requirement": "x", "due_on": "2025-07-01"}, follow=True
    )
    assert "请选择一个责任乡镇或一个责任单位" in refused.content.decode()
    assert Rectification.objects.count() == 1
