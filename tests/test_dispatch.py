"""Quarterly dispatch (季调度): the ranking against an independent count in plain Python, the bulletin's
workflow and read marks, and the bulletin as a .docx read back with python-docx."""

import datetime
import io
import random
import uuid
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from demands.models import Demand, DemandAction
from households.choices import POOR_CATEGORIES
from households.models import Household
from pairing.models import Pairing, VillageLink
from reports import bulletins, dispatch
from reports.dispatch import Quarter
from reports.models import Bulletin, BulletinRecipient, MonthlyReport
from shuanglian import indicators
from shuanglian.indicators import Scope
from shuanglian.lib import planner
from tests import factories as f
from visits.models import UnitVisit, Visit, VisitQuota
from visits.worklists import owed_by

QUARTER = Quarter.of(timezone.localdate()).previous
START, END = QUARTER.period.start, QUARTER.period.end - datetime.timedelta(days=1)


def _visit(cadre, household, on, user, mode=Visit.Mode.HOME):
    return Visit.objects.create(cadre=cadre, household=household, visited_on=on, mode=mode, recorded_by=user)


def _demand(household, user, *, due_on, closed_on=None, status=Demand.Status.PENDING):
    demand = Demand.objects.create(
        household=household,
        raised_on=due_on - datetime.timedelta(days=10),
        category=Demand.Category.HOUSING,
        text="危房改造",
        due_on=due_on,
        status=status,
        raised_by=user,
    )
    if closed_on is not None:
        moment = timezone.make_aware(datetime.datetime.combine(closed_on, datetime.time(10)))
        kind = DemandAction.Kind.RESOLVE if status == Demand.Status.RESOLVED else DemandAction.Kind.EXPLAIN
        DemandAction.objects.create(demand=demand, kind=kind, from_level="干部", by=user, at=moment)
    return demand


@pytest.fixture
def county(world):
    """County A with eight townships of varied work in the quarter (and world's two), random but seeded."""
    rng = random.Random(13)
    user = world.users.town_a
    VisitQuota.objects.create(county=world.county_a, household_visits_per_year=3)  # not the default 4
    for n in range(3, 11):
        town = f.region(f"621121{100 + n:03d}000", f"第{n}镇", "township")
        village = f.region(f"{town.code[:9]}201", f"第{n}村", "village")
        unit = f.unit(world.county_a, f"县第{n}局", level="county")
        f.link(unit, village)
        cadre = f.cadre(unit, f"干部{n}")
        for k in range(rng.randint(2, 5)):
            hh = f.household(village, f"户{n}-{k}", members=1, category=rng.choice(POOR_CATEGORIES))
            if rng.random() < 0.8:
                f.pairing(
                    cadre, hh, role=rng.choice([Pairing.Role.RESPONSIBLE, Pairing.Role.RESPONSIBLE, "联系"])
                )
            for _ in range(rng.randint(0, 3)):
                _visit(
                    cadre,
                    hh,
                    START + datetime.timedelta(days=rng.randint(0, 80)),
                    user,
                    rng.choice(list(Visit.Mode)),
                )
            if rng.random() < 0.3:  # a visit last quarter only
                _visit(cadre, hh, START - datetime.timedelta(days=rng.randint(1, 60)), user)
            if rng.random() < 0.6:
                due = START + datetime.timedelta(days=rng.randint(0, 85))
                choice = rng.randint(0, 3)
                if choice == 0:
                    _demand(hh, user, due_on=due)
                elif choice == 1:
                    _demand(hh, user, due_on=due, closed_on=due - datetime.timedelta(days=1), status="已解决")
                elif choice == 2:
                    _demand(hh, user, due_on=due, closed_on=due + datetime.timedelta(days=3), status="已解释")
                else:
                    _demand(hh, user, due_on=due, closed_on=due, status="已解决")
        if rng.random() < 0.6:
            UnitVisit.objects.create(
                unit=unit,
                village=village,
                visited_on=START + datetime.timedelta(days=5),
                activities="x",
                recorded_by=user,
            )
    # An ended pairing and a moved-out household must not count.
    gone = f.household(world.village_a, "迁出户", members=1, status="迁出")
    f.pairing(world.cadre_a, gone)
    ended = f.household(world.village_a, "已结束户", members=1)
    f.pairing(world.cadre_a, ended, ended_on=START - datetime.timedelta(days=1))
    from visits import tallies

    tallies.rebuild()  # the visits above were written directly; the quota reads the yearly tallies
    return world


# --- An independent count, in plain Python over every row -------------------------------------


def _in_force(pairing, on):
    return pairing.started_on <= on and (pairing.ended_on is None or pairing.ended_on > on)


def _pct(done, total):
    return (
        None if not total else (Decimal(100 * done) / Decimal(total)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    )


def independent_region_rates(prefix_digits: int, county_code: str) -> dict[str, dict]:
    on = END
    pairings = list(Pairing.objects.all())
    visits = list(Visit.objects.all())
    per_year = {q.county_id[:6]: q.household_visits_per_year for q in VisitQuota.objects.all()}
    result = {}
    households = [h for h in Household.objects.all() if h.village_id.startswith(county_code[:6])]
    demands = [d for d in Demand.objects.all() if d.household.village_id.startswith(county_code[:6])]
    actions = list(DemandAction.objects.all())
    for child in {h.village_id[:prefix_digits] for h in households}:
        mine = [h for h in households if h.village_id.startswith(child) and h.status == "在册"]
        paired = [h for h in mine if any(p.household_id == h.pk and _in_force(p, on) for p in pairings)]
        contacted = [
            h for h in paired if any(v.household_id == h.pk and START <= v.visited_on <= on for v in visits)
        ]
        child_pairings = [
            p
            for p in pairings
            if _in_force(p, on) and Household.objects.get(pk=p.household_id).village_id.startswith(child)
        ]
        year_start = datetime.date(on.year, 1, 1)
        met = [
            p
            for p in child_pairings
            if sum(
                1
                for v in visits
                if v.cadre_id == p.cadre_id
                and v.household_id == p.household_id
                and year_start <= v.visited_on <= on
            )
            >= owed_by(on, per_year.get(child[:6], 4), p.started_on)
        ]
        due = [d for d in demands if d.household.village_id.startswith(child) and START <= d.due_on <= on]
        on_time = [
            d
            for d in due
            if d.status in ("已解决", "已解释")
            and any(
                a.demand_id == d.pk
                and a.kind in ("办结", "解释")
                and timezone.localtime(a.at).date() <= d.due_on
                for a in actions
            )
        ]
        poor = [h for h in mine if h.category in POOR_CATEGORIES]
        covered = [
            h
            for h in poor
            if any(
                p.household_id == h.pk and _in_force(p, on) and p.role == Pairing.Role.RESPONSIBLE
                for p in pairings
            )
        ]
        result[child] = {
            "quarter_contact_rate": _pct(len(contacted), len(paired)),
            "quarter_quota_rate": _pct(len(met), len(child_pairings)),
            "quarter_demands_on_time_rate": _pct(len(on_time), len(due)),
            "quarter_coverage_rate": _pct(len(covered), len(poor)),
        }
    return result


def test_the_township_ranking_equals_an_independent_count(county):
    expected = independent_region_rates(9, county.county_a.code)
    (towns, units) = dispatch.rankings("621121", "county", QUARTER)
    got = {row.key: row.rates for row in towns.rows}
    for child, rates in expected.items():
        assert got[child] == rates, child
    # The rule: mean of the present rates; ranks follow the scores; the last five are marked.
    ranked = [row for row in towns.rows if row.rank is not None]
    for row in ranked:
        present = [v for v in row.rates.values() if v is not None]
        assert row.score == (sum(present) / len(present)).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert [row.rank for row in ranked] == list(range(1, len(ranked) + 1))
    assert all(a.score >= b.score for a, b in zip(ranked, ranked[1:]))
    assert [row.last for row in ranked] == [False] * (len(ranked) - 5) + [True] * 5
    assert units.title.startswith("县直")


def test_the_catalogue_gives_the_same_rates(county):
    period = QUARTER.period
    rows = indicators.get("quarter_contact_rate").rows(Scope("621121"), period, 9)
    (towns, _units) = dispatch.rankings("621121", "county", QUARTER)
    assert {row.key: row.rates["quarter_contact_rate"] for row in towns.rows if row.key in rows} == rows
    town = towns.rows[0]
    assert (
        indicators.value("quarter_coverage_rate", Scope(town.key), period)
        == town.rates["quarter_coverage_rate"]
    )


def test_unit_rates_against_an_independent_count(county):
    (_towns, units) = dispatch.rankings("621121", "county", QUARTER)
    for row in units.rows:
        unit_id = int(row.key[5:])
        pairings = [p for p in Pairing.objects.filter(cadre__unit_id=unit_id) if _in_force(p, END)]
        visited = [
            p
            for p in pairings
            if Visit.objects.filter(
                household_id=p.household_id, visited_on__gte=START, visited_on__lte=END
            ).exists()
        ]
        assert row.rates["quarter_contact_rate"] == _pct(len(visited), len(pairings)), row.name
        links = [link for link in VillageLink.objects.filter(unit_id=unit_id) if _in_force(link, END)]
        visited_links = [
            link
            for link in links
            if any(
                v.unit_id == unit_id and v.village_id == link.village_id and START <= v.visited_on <= END
                for v in UnitVisit.objects.all()
            )
        ]
        assert row.rates["quarter_coverage_rate"] == _pct(len(visited_links), len(links)), row.name


def test_movement_against_last_quarter(county):
    # Last quarter nobody was visited except some; this quarter's ranks differ: movement = before - now.
    (towns, _units) = dispatch.rankings("621121", "county", QUARTER)
    (before, _units) = dispatch.rankings("621121", "county", QUARTER.previous)
    previous = {row.key: row.rank for row in before.rows}
    for row in towns.rows:
        assert row.previous_rank == previous.get(row.key)
        if row.rank and row.previous_rank:
            assert row.movement == row.previous_rank - row.rank


def test_the_quarter_parameter_is_parsed_never_trusted():
    today = Quarter.of(timezone.localdate())
    assert Quarter.parse("2025-Q2", default=today) == Quarter(2025, 2)
    for bad in ("2025-Q5", "1999-Q1", "x", "", None, "9999-Q1", "2025-Q1; drop", "2025Q1"):
        assert Quarter.parse(bad, default=today) == today


# --- Bulletins ------------------------------------------------------------------------------


def _draft(world, key=None):
    return bulletins.draft_bulletin(
        region=world.county_a, quarter=QUARTER, by=world.users.county_a, submission_key=key or uuid.uuid4()
    )


def test_the_draft_takes_the_ranking_and_the_approved_reports_texts(county):
    month = START
    MonthlyReport.objects.create(
        region=county.town_a,
        month=month,
        status=MonthlyReport.Status.APPROVED,
        experience="村村建起了民情台账",
        problems="外出务工户联系不上",
        created_by=county.users.town_a,
    )
    MonthlyReport.objects.create(
        region=county.town_a2,
        month=month,
        status=MonthlyReport.Status.SUBMITTED,  # not approved: not taken
        experience="未审核的做法",
        created_by=county.users.town_a,
    )
    bulletin = _draft(county)
    assert "【马营镇】村村建起了民情台账" in bulletin.experiences
    assert "未审核的做法" not in bulletin.experiences
    assert "外出务工户联系不上" in bulletin.problems and "排名靠后" in bulletin.problems
    assert bulletin.ranking[0]["rows"] and bulletin.status == Bulletin.Status.DRAFT
    # Addressed to every township and county unit ranked.
    ranked = sum(len(r["rows"]) for r in bulletin.ranking)
    assert bulletin.recipients.count() == ranked


def test_a_double_click_drafts_once(client, county):
    client.force_login(county.users.county_a)
    key = str(uuid.uuid4())
    first = client.post(reverse("reports:bulletin_draft"), {"quarter": str(QUARTER), "submission_key": key})
    second = client.post(reverse("reports:bulletin_draft"), {"quarter": str(QUARTER), "submission_key": key})
    assert Bulletin.objects.count() == 1 and first.url == second.url


def test_edit_issue_and_read_marks(client, county):
    bulletin = _draft(county)
    client.force_login(county.users.county_a)
    url = reverse("reports:bulletin_detail", args=[bulletin.pk])
    data = {
        "title": "关于二季度的通报",
        "opening": "现通报如下。",
        "experiences": "好做法",
        "problems": "问题",
        "requirements": "要求",
        "version": bulletin.version,
    }
    assert client.post(url, data).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.title == "关于二季度的通报" and bulletin.version == 2
    # A second edit opened on the old version is refused, nothing written.
    stale = client.post(url, {**data, "title": "旧页面"})
    assert stale.status_code == 200 and "已被他人修改" in stale.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.title == "关于二季度的通报"

    # Not yet issued: the township does not see it.
    client.force_login(county.users.town_a)
    assert client.get(url).status_code == 404

    client.force_login(county.users.county_a)
    issue = reverse("reports:bulletin_issue", args=[bulletin.pk])
    assert client.post(issue, {"number": ""}).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.Status.DRAFT  # no number, not issued
    client.post(issue, {"number": "通双联办〔2026〕3号"})
    client.post(issue, {"number": "通双联办〔2026〕4号"})  # the double press: nothing changes
    bulletin.refresh_from_db()
    assert bulletin.status == Bulletin.Status.ISSUED and bulletin.number == "通双联办〔2026〕3号"
    # Issued: no more edits.
    assert client.post(url, {**data, "version": bulletin.version}).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.title == "关于二季度的通报"

    # The township reads and marks it (twice: once); the county sees who has not.
    client.force_login(county.users.town_a)
    page = client.get(url).content.decode()
    assert "标记为已阅" in page
    read = reverse("reports:bulletin_read", args=[bulletin.pk])
    client.post(read)
    client.post(read)
    mark = BulletinRecipient.objects.get(bulletin=bulletin, region=county.town_a)
    assert mark.read_by == county.users.town_a and mark.read_at is not None
    first_read = mark.read_at
    client.post(read)
    mark.refresh_from_db()
    assert mark.read_at == first_read
    client.force_login(county.users.county_a)
    status = client.get(url).content.decode()
    unread = BulletinRecipient.objects.filter(bulletin=bulletin, read_at__isnull=True).count()
    assert f"未阅 {unread} 个" in status and unread == bulletin.recipients.count() - 1

    # The county's unit reads it too; another county's township sees nothing; town_b may not mark it.
    client.force_login(county.users.unit_a)
    assert client.post(read).status_code == 302
    assert BulletinRecipient.objects.get(bulletin=bulletin, unit=county.unit_a).read_at is not None
    client.force_login(county.users.town_b)
    assert client.get(url).status_code == 404 and client.post(read).status_code == 404
    # The city office above reads it (listed, read-only) but is not addressed: it may not mark it.
    client.force_login(county.users.city_a)
    assert client.get(url).status_code == 200
    assert bulletin.title in client.get(reverse("reports:bulletin_list")).content.decode()
    assert client.post(read).status_code == 403
    assert client.post(issue, {"number": "市〔2026〕1号"}).status_code == 403
    assert client.post(url, {**data, "version": bulletin.version, "title": "市改"}).status_code == 403
    bulletin.refresh_from_db()
    assert bulletin.title == "关于二季度的通报" and bulletin.number == "通双联办〔2026〕3号"


def test_an_office_above_sees_the_issued_bulletins_below_never_the_drafts(county):
    draft, issued = _draft(county), _draft(county)
    bulletins.issue_bulletin(bulletin=issued, number="通双联办〔2026〕9号", by=county.users.county_a)
    for user in (county.users.city_a, county.users.province):
        assert list(Bulletin.objects.visible_to(user)) == [issued]
    assert not Bulletin.objects.visible_to(county.users.city_b).exists()  # another city
    assert set(Bulletin.objects.visible_to(county.users.county_a)) == {draft, issued}


def test_a_document_number_is_used_once_per_office(county):
    first, second = _draft(county), _draft(county)
    bulletins.issue_bulletin(bulletin=first, number="通双联办〔2026〕1号", by=county.users.county_a)
    with pytest.raises(ValidationError):
        bulletins.issue_bulletin(bulletin=second, number="通双联办〔2026〕1号", by=county.users.county_a)


def test_only_the_issuing_office_edits_or_issues(client, county):
    bulletin = _draft(county)
    bulletins.issue_bulletin(bulletin=bulletin, number="1号", by=county.users.county_a)
    client.force_login(county.users.town_a)
    assert (
        client.post(reverse("reports:bulletin_issue", args=[bulletin.pk]), {"number": "2号"}).status_code
        == 403
    )


def test_the_docx_is_a4_with_the_red_headline_number_and_ranking(client, county):
    from docx import Document
    from docx.shared import Mm

    bulletin = _draft(county)
    bulletins.issue_bulletin(bulletin=bulletin, number="通双联办〔2026〕7号", by=county.users.county_a)
    client.force_login(county.users.town_a)
    response = client.get(reverse("reports:bulletin_docx", args=[bulletin.pk]))
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    document = Document(io.BytesIO(response.content))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    head = document.paragraphs[0]
    assert head.text == "通渭县联村联户为民富民行动领导小组办公室通报"
    assert str(head.runs[0].font.color.rgb) == "C00000"
    assert document.paragraphs[1].text == "通双联办〔2026〕7号"
    assert "w:pBdr" in document.paragraphs[1]._p.xml  # the red rule under the number
    assert document.paragraphs[2].text == bulletin.title
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells][:2] == ["名次", "名称"]
    names = [row.cells[1].text.replace("（后五名）", "") for row in table.rows[1:]]
    assert names == [row["name"] for row in bulletin.ranking[0]["rows"]]
    assert document.paragraphs[-2].text == "通渭县联村联户为民富民行动领导小组办公室"


def test_the_print_view(client, county):
    bulletin = _draft(county)
    client.force_login(county.users.county_a)
    page = client.get(reverse("reports:bulletin_print", args=[bulletin.pk])).content.decode()
    assert "bulletin-head" in page and bulletin.title in page


def test_the_dispatch_page_shows_the_rule_the_chart_and_its_table(client, county):
    client.force_login(county.users.county_a)
    page = client.get(reverse("reports:dispatch"), {"quarter": str(QUARTER)}).content.decode()
    assert "排名规则" in page and 'data-chart="ranking-chart-0"' in page and "ranking-table" in page
    assert page.count("后五名</strong>") == 10  # five townships and five of the nine county units
    for role in ("town_a", "unit_a"):
        client.force_login(getattr(county.users, role))
        assert client.get(reverse("reports:dispatch")).status_code == 403


def test_the_rates_vary_so_the_count_is_tested(county):
    (towns, _units) = dispatch.rankings("621121", "county", QUARTER)
    for key in ("quarter_contact_rate", "quarter_quota_rate", "quarter_demands_on_time_rate"):
        assert len({row.rates[key] for row in towns.rows}) > 2, key


def test_issuing_is_recorded_by_the_office(county):
    from tests.test_history import assert_recorded

    bulletin = _draft(county)
    assert_recorded(Bulletin, bulletin.pk, county.users.county_a, "+")
    bulletins.issue_bulletin(bulletin=bulletin, number="通双联办〔2026〕2号", by=county.users.county_a)
    assert assert_recorded(Bulletin, bulletin.pk, county.users.county_a).status == Bulletin.Status.ISSUED


def test_a_past_quarters_visit_rates_read_the_tallies_not_the_visits(county):
    """The contact and quota rates of a past quarter read the yearly tallies' months alone: the
    visits table is not in any of their queries (a pass over it took seconds at province scale)."""
    prefix = county.county_a.code[:6]
    units = [unit.pk for unit in dispatch.units_below(prefix, "county")]
    for counts in (dispatch.contact_counts, dispatch.quota_counts):
        for kwargs in ({"digits": 9}, {"units": units}):
            with CaptureQueriesContext(connection) as queries:
                counted = counts(prefix, QUARTER.period, **kwargs)
            assert counted and any(done for done, _total in counted.values()), (counts, kwargs)
            assert not any('"visits_visit"' in query["sql"] for query in queries.captured_queries)


# --- Both quarters in a few passes (issue 13) ---------------------------------------------------


@pytest.fixture
def tangled(county):
    """County A with the cases a pass per household, pairing or demand could get wrong: a household
    with two pairings (responsible and 联系户), visited only by a third cadre it is not paired with;
    a pairing ended between last quarter's end and this one's; a poor household whose responsible
    pairing started this quarter; a demand closed twice (explained in time, resolved late)."""
    user = county.users.town_a
    unit = f.unit(county.county_a, "县第99局", level="county")
    first, second, visitor = (f.cadre(unit, name) for name in ("甲干部", "乙干部", "丙干部"))
    both = f.household(county.village_a, "两人联系户", members=1)
    f.pairing(first, both)
    f.pairing(second, both, role=Pairing.Role.CONTACT)
    _visit(visitor, both, START + datetime.timedelta(days=3), user)
    _visit(visitor, both, START - datetime.timedelta(days=20), user)
    ended = f.household(county.village_a, "季中结束户", members=1)
    f.pairing(first, ended, ended_on=START + datetime.timedelta(days=10))
    _visit(first, ended, START - datetime.timedelta(days=5), user)
    late = f.household(county.village_a, "新结对户", members=1, category=POOR_CATEGORIES[0])
    f.pairing(second, late, started_on=START + datetime.timedelta(days=30))
    twice = _demand(both, user, due_on=START + datetime.timedelta(days=20), closed_on=START, status="已解释")
    DemandAction.objects.create(
        demand=twice,
        kind=DemandAction.Kind.RESOLVE,
        from_level="干部",
        by=user,
        at=timezone.make_aware(datetime.datetime.combine(END, datetime.time(9))),
    )
    _demand(ended, user, due_on=START - datetime.timedelta(days=9))  # last quarter, open
    from visits import tallies

    tallies.rebuild()
    return county


@pytest.mark.parametrize(
    "quarter", [QUARTER, Quarter(QUARTER.year, 1)], ids=["this-and-last", "across-new-year"]
)
def test_the_passes_count_what_each_rate_counts_alone(tangled, quarter):
    """ranking_counts (a pass for every quarter and rate at once) equals the four counts functions
    called one rate and one quarter at a time, for regions at two levels and for units."""
    periods = [quarter.period, quarter.previous.period]
    units = [unit.pk for unit in dispatch.units_below("621121", "county")]
    for prefix, kwargs in (("621121", {"digits": 9}), ("62", {"digits": 6}), ("621121", {"units": units})):
        batched = dispatch.ranking_counts(prefix, periods, **kwargs)
        for counts, period in zip(batched, periods, strict=True):
            for indicator in dispatch.RANKING:
                alone = indicator.counts(prefix, period, **kwargs)
                assert counts[indicator.key] == alone, (prefix, kwargs, period, indicator.key)
    # The cases above change the figures: the passes are tested on them, not around them.
    (towns, _units) = dispatch.rankings("621121", "county", QUARTER)
    town = next(row for row in towns.rows if row.key == tangled.village_a.code[:9])
    assert town.counts["quarter_contact_rate"][1] >= 3


def test_the_ranking_runs_a_pinned_number_of_queries(county, django_assert_num_queries):
    """Both quarters, four rates, townships and units: the units, the townships, the quotas, then
    for the townships the pairings, households and demands passes, for the units the pairings,
    demands and village links passes; on PostgreSQL, the planner setting set and put back."""
    with django_assert_num_queries(9 + planner.statements()):
        dispatch.rankings("621121", "county", QUARTER)


def test_a_quarter_not_yet_begun_is_counted_by_the_single_rate_functions(county):
    """Its last day counted is today, before it begins: no whole months, so no passes."""
    coming = Quarter.of(timezone.localdate()).next
    periods = [coming.period, coming.previous.period]
    batched = dispatch.ranking_counts("621121", periods, digits=9)
    for counts, period in zip(batched, periods, strict=True):
        for indicator in dispatch.RANKING:
            assert counts[indicator.key] == indicator.counts("621121", period, digits=9)
