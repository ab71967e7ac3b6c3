"""Every URL × every role: allowed 200, wrong role 403, another township 404.

The list of URLs comes from the URLconf itself, so a new page without an
entry here fails `test_every_url_has_a_matrix_entry`.
"""

import datetime
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.factories import START

# Pages anyone may open, signed in or not.
PUBLIC = {"login", "logout", "favicon"}
# The admin has its own scoping tests (tests/test_admin.py).
SKIPPED_NAMESPACES = {"admin"}

SIDE_A = ("admin", "province", "city_a", "county_a", "town_a", "unit_a")
OTHER_SIDE = ("city_b", "county_b", "town_b", "unit_b")
REGION_READERS_A = ("admin", "province", "city_a", "county_a", "town_a")


@dataclass(frozen=True)
class Case:
    kwargs: object = None  # world -> URL kwargs
    allowed: tuple = SIDE_A + OTHER_SIDE
    forbidden: tuple = ()
    outsiders: tuple = ()
    method: str = "get"
    ok: int = 200  # what an allowed user gets (a POST that succeeds redirects)
    extra: dict = field(default_factory=dict)


def _proposal(w):
    from pairing import services
    from tests import factories as f

    # Something to place, and a cadre free to take it however often a test makes a proposal.
    f.household(w.village_a, "待结对", members=1)
    f.cadre(w.unit_a, "备用干部")
    return {"pk": services.create_proposal(region=w.town_a, started_on=START, by=w.users.town_a).pk}


def _handover(w):
    from pairing import services

    handover = services.start_handover(
        cadre=w.cadre_a, new_status="调离", effective_on=START, by=w.users.town_a
    )
    return {"pk": handover.pk}


# Roles that import other kinds (links, cadres) and see town_a's households batch, but may not open it.
IMPORT_FORBIDDEN = ("province", "city_a", "county_a")
IMPORT_OUTSIDERS = ("town_b", "unit_a")  # unit liaisons see only their own batches


def _batch(w):
    """A checked batch with one bad row (so its error workbook exists), uploaded by town_a."""
    from imports import services

    data = "县,乡镇,村,户主姓名,身份证号码,户属性\n通渭县,马营镇,东关村,张三,123,一般贫困户\n".encode()
    batch = services.create_batch(data=data, filename="a.csv", kind="households", user=w.users.town_a)
    services.check_batch(batch=batch)
    return {"pk": batch.pk}


EXPORT_OUTSIDERS = tuple(name for name in SIDE_A + OTHER_SIDE if name != "town_a")


def _export(w):
    """town_a's household roster, built (the job runs here, not in a worker)."""
    from imports import exports

    job = exports.start_export(
        builder="imports.exports.household_roster",
        params={},
        label="农户名册",
        filename="农户名册.xlsx",
        user=w.users.town_a,
    )
    exports.run_export(job_id=job.pk)
    return {"pk": job.pk}


DISPATCHERS = ("admin", "province", "city_a", "county_a", "city_b", "county_b")
NOT_DISPATCHERS = ("town_a", "town_b", "unit_a", "unit_b")
BULLETIN_READERS = ("admin", "province", "city_a", "county_a", "town_a", "unit_a")
# A county's bulletin goes down to its townships and units; the offices above it read it (read-only);
# another city or county never sees it.
BULLETIN_ABOVE = ("province", "city_a")
BULLETIN_OUTSIDERS = ("city_b", "county_b", "town_b", "unit_b")


def _bulletin(w):
    """County A's bulletin of last quarter, issued: addressed to its townships and to unit A."""
    from django.utils import timezone

    from reports import bulletins
    from reports.dispatch import Quarter

    quarter = Quarter.of(timezone.localdate()).previous
    bulletin = bulletins.draft_bulletin(region=w.county_a, quarter=quarter, by=w.users.county_a)
    number = f"通双联办〔2026〕{bulletin.pk}号"  # a fresh number each time a test asks
    bulletins.issue_bulletin(bulletin=bulletin, number=number, by=w.users.county_a)
    return {"pk": bulletin.pk}


def _demand(w):
    from demands import services

    demand = services.raise_demand(
        household=w.household_a, category="住房", text="危房改造", by=w.users.town_a
    )
    return {"pk": demand.pk}


def _round(w):
    """County A's round over its paired households (household_a, helped by unit A's cadre)."""
    from django.utils import timezone

    from evaluation import services

    today = timezone.localdate()
    round_ = services.open_round(
        by=w.users.county_a,
        region=w.county_a,
        name="群众评议",
        year=today.year,
        starts_on=today,
        ends_on=today,
        sample_method="全部",
        seed=1,
    )
    return round_


def _round_kwargs(w):
    return {"pk": _round(w).pk}


def _cadre_score(w):
    return {"pk": _round(w).pk, "cadre_pk": w.cadre_a.pk}


def _collector(w):
    """county_a's account marked as a collector (office staff, of no unit)."""
    from evaluation import services

    return services.register_collector(
        by=w.users.county_a, user=w.users.county_a, region=w.county_a, kind="工作人员", name="县双联办"
    )


def _collecting(w):
    _collector(w)
    return {}


def _assigned_sample(w):
    from evaluation import services

    round_, collector = _round(w), _collector(w)
    sample = round_.samples.get(household=w.household_a)
    services.assign_collector(by=w.users.county_a, round_=round_, collector=collector, samples=[sample])
    return {"pk": sample.pk}


def _paper_sheet(w):
    return {"pk": _round(w).pk, "village": w.household_a.village_id}


def _flag(w):
    from evaluation.models import Flag

    return {"pk": Flag.objects.create(round=_round(w), kind="采集过快", key="c0", reason="测试").pk}


def _case(w):
    """A ballot answering 有 to 八个不准, collected by county_a's account: it opens a case."""
    from evaluation import services
    from evaluation.models import SampledHousehold

    sample = SampledHousehold.objects.get(pk=_assigned_sample(w)["pk"])
    ballot, _created = services.record_ballot(
        by=w.users.county_a,
        sample=sample,
        mode="入户",
        answers={"satisfaction": "满意", "visits": "0次", "violation": "有", "violation__text": "收过礼"},
    )
    return {"pk": ballot.violation_case.pk}


OFFICE_A = ("admin", "province", "city_a", "county_a")
NOT_OFFICES = ("town_a", "unit_a", "town_b", "unit_b")
OFFICE_B = ("city_b", "county_b")
# --- inspections (issue 15) ---------------------------------------------------------------------
OFFICES_ALL = ("admin", "province", "city_a", "county_a", "town_a", "city_b", "county_b", "town_b")
REVIEWERS_A = ("admin", "province", "city_a", "county_a")


def _visit_a(w):
    from visits.models import Visit

    # get_or_create: some tests build a case's kwargs more than once.
    return Visit.objects.get_or_create(
        household=w.household_a,
        cadre=w.cadre_a,
        visited_on=START,
        mode="入户走访",
        defaults={"recorded_by": w.users.town_a},
    )[0]


def _inspection_flag(w):
    from inspections.models import Flag, FlagVisit

    flag, _ = Flag.objects.get_or_create(
        key="test:1",
        defaults={"kind": "外出户入户", "village": w.village_a, "cadre": w.cadre_a, "reason": "测试"},
    )
    FlagVisit.objects.get_or_create(flag=flag, visit=_visit_a(w))
    return {"pk": flag.pk}


def _inspection(w):
    from inspections import services

    _visit_a(w)
    return services.create_inspection(
        by=w.users.county_a,
        name="督查",
        starts_on=START,
        ends_on=START,
        checks="电话回访",
        townships=[w.town_a],
        units=[w.unit_a],
        team=[w.users.county_a],
        visits_from=START,
        visits_to=START,
        seed=1,
    )


def _inspection_kwargs(w):
    return {"pk": _inspection(w).pk}


def _sample(w):
    return {"pk": _inspection(w).samples.get().pk}


def _rectification(w):
    from inspections import services

    finding = services.add_finding(
        by=w.users.county_a,
        inspection=None,
        text="日记雷同",
        township=w.town_a,
        requirement="核实",
        due_on=START,
    )
    return {"pk": finding.rectifications.get().pk}


def _rectification_file(w):
    from inspections.models import Rectification, RectificationEvidence

    pk = _rectification(w)["pk"]
    file, _ = RectificationEvidence.objects.get_or_create(
        rectification=Rectification.objects.get(pk=pk),
        sha256="test",
        defaults={
            "name": "照片.png",
            "size": 8,
            "content": b"\x89PNG\r\n\x1a\n",
            "uploaded_by": w.users.town_a,
        },
    )
    return {"pk": pk, "file_pk": file.pk}


def _typical_case(w):
    from inspections import services

    case = services.nominate_case(
        by=w.users.town_a, kind="干部", subject=w.cadre_a, title="好干部", write_up="事迹"
    )
    return {"pk": case.pk}


# Evaluation: read by every role in the round's scope (units: their sampled cadres); offices write.
EVALUATION_READERS_A = ("admin", "province", "city_a", "county_a", "town_a", "unit_a")
NOT_COLLECTORS = ("admin", "province", "city_a", "town_a", "unit_a") + OTHER_SIDE

REVIEWING_OFFICES = ("admin", "province", "city_a", "county_a", "city_b", "county_b")
NOT_REVIEWING = ("town_a", "unit_a", "town_b", "unit_b")
REPORT_OUTSIDERS = ("unit_a",) + OTHER_SIDE


def _report_kwargs(w):
    from reports.selectors import last_month

    month = last_month(datetime.date.today())
    return {"office": w.town_a.code, "year": month.year, "month": month.month}


def _draft_report_kwargs(w):
    """Township A's draft on last month (a test may ask several times: made once)."""
    from reports import services
    from reports.models import MonthlyReport
    from reports.offices import Office

    kwargs = _report_kwargs(w)
    month = datetime.date(kwargs["year"], kwargs["month"], 1)
    if not MonthlyReport.objects.filter(region=w.town_a, month=month).exists():
        services.save_report(
            office=Office(region=w.town_a), month=month, by=w.users.town_a, texts={"work_done": "走访"}
        )
    return kwargs


def _submitted_report_kwargs(w):
    from reports import services
    from reports.models import MonthlyReport

    kwargs = _draft_report_kwargs(w)
    report = MonthlyReport.objects.get(region=w.town_a)
    if report.status in ("draft", "returned"):
        services.submit_report(report=report, by=w.users.town_a)
    return kwargs


MATRIX = {
    "home": Case(),
    "inbox": Case(),
    "accounts:otp_setup": Case(),
    "accounts:locked": Case(
        allowed=("admin", "province", "city_a", "county_a", "city_b", "county_b"),
        forbidden=("town_a", "unit_a", "town_b", "unit_b"),
    ),
    # 操作记录: the offices, each within its own scope (the search's scoping: tests/test_history.py).
    "history": Case(
        allowed=("admin", "province", "city_a", "county_a", "city_b", "county_b"),
        forbidden=("town_a", "unit_a", "town_b", "unit_b"),
    ),
    "households:list": Case(),
    "households:lookup": Case(extra={"data": {"q": "户"}}),
    "households:village_lookup": Case(extra={"data": {"q": "村"}}),
    "households:detail": Case(
        kwargs=lambda w: {"pk": w.household_a.pk}, allowed=SIDE_A, outsiders=OTHER_SIDE
    ),
    "households:edit": Case(
        kwargs=lambda w: {"pk": w.household_a.pk},
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a", "unit_a"),
        outsiders=("town_b",),
    ),
    # 显示完整 (a POST that renders the page with one whole value): the roster-keeping offices, never
    # unit liaisons.
    "households:reveal": Case(
        kwargs=lambda w: {"pk": w.household_a.pk},
        method="post",
        allowed=REGION_READERS_A,
        forbidden=("unit_a", "unit_b"),
        outsiders=("town_b", "county_b", "city_b"),
        extra={"data": {"field": "head_id_number"}},
    ),
    "households:regions": Case(
        allowed=REGION_READERS_A + ("town_b", "county_b"), forbidden=("unit_a", "unit_b")
    ),
    "households:region": Case(
        kwargs=lambda w: {"code": w.town_a.code},
        allowed=REGION_READERS_A,
        forbidden=("unit_a",),
        outsiders=("town_b", "county_b", "city_b"),
    ),
    "pairing:cadre_list": Case(),
    "pairing:cadre_lookup": Case(extra={"data": {"q": "干部"}}),
    "pairing:cadre_detail": Case(kwargs=lambda w: {"pk": w.cadre_a.pk}, allowed=SIDE_A, outsiders=OTHER_SIDE),
    "pairing:cadre_reveal": Case(
        kwargs=lambda w: {"pk": w.cadre_a.pk},
        method="post",
        allowed=REGION_READERS_A,
        forbidden=("unit_a", "unit_b"),
        outsiders=("town_b", "county_b", "city_b"),
        extra={"data": {"field": "phone"}},
    ),
    "pairing:pair_household": Case(
        kwargs=lambda w: {"household_pk": w.household_a.pk},
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a", "unit_a"),
        outsiders=("town_b",),
    ),
    "pairing:pair_cadre": Case(
        kwargs=lambda w: {"cadre_pk": w.cadre_a.pk},
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a", "unit_a"),
        outsiders=("town_b",),
    ),
    "pairing:bulk_pair": Case(
        allowed=("admin", "town_a", "town_b"),
        forbidden=("province", "city_a", "county_a", "unit_a", "unit_b"),
    ),
    "pairing:proposal_list": Case(),
    "pairing:proposal_create": Case(
        method="post",
        ok=302,
        allowed=("admin", "town_a", "county_a"),
        forbidden=("province", "city_a", "unit_a"),
    ),
    "pairing:proposal_detail": Case(
        kwargs=_proposal,
        allowed=REGION_READERS_A,
        outsiders=("town_b", "county_b", "city_b", "unit_a"),
    ),
    "pairing:proposal_apply": Case(
        kwargs=_proposal,
        method="post",
        ok=302,
        allowed=("admin", "county_a"),
        forbidden=("town_a", "city_a", "province", "unit_a"),
        outsiders=("county_b",),
    ),
    "pairing:proposal_discard": Case(
        kwargs=_proposal,
        method="post",
        ok=302,
        allowed=("admin", "town_a", "county_a"),
        forbidden=("city_a", "province", "unit_a"),
        outsiders=("town_b", "county_b"),
    ),
    "pairing:handover_start": Case(
        kwargs=lambda w: {"cadre_pk": w.cadre_a.pk},
        method="post",
        ok=302,
        allowed=("admin", "town_a", "unit_a", "county_a"),
        forbidden=("city_a", "province"),
        outsiders=("town_b", "unit_b", "county_b"),
        extra={"data": {"new_status": "调离", "effective_on": "2025-09-01"}},
    ),
    "pairing:coverage": Case(
        allowed=REGION_READERS_A + ("town_b", "county_b"), forbidden=("unit_a", "unit_b")
    ),
    "pairing:coverage_region": Case(
        kwargs=lambda w: {"code": w.county_a.code},
        allowed=("admin", "province", "city_a", "county_a"),
        forbidden=("unit_a",),
        outsiders=("town_a", "town_b", "county_b", "city_b"),
    ),
    "pairing:coverage_list": Case(
        kwargs=lambda w: {"code": w.town_a.code, "kind": "unpaired"},
        allowed=REGION_READERS_A,
        forbidden=("unit_a",),
        outsiders=("town_b", "county_b", "city_b"),
    ),
    "visits:list": Case(),
    "visits:new": Case(allowed=("admin", "town_a"), forbidden=("province", "city_a", "county_a", "unit_a")),
    "visits:responsible": Case(
        kwargs=lambda w: {"household_pk": w.household_a.pk},
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a", "unit_a"),
        outsiders=("town_b",),
    ),
    "visits:household": Case(
        kwargs=lambda w: {"household_pk": w.household_a.pk}, allowed=SIDE_A, outsiders=OTHER_SIDE
    ),
    "pairing:handover_detail": Case(kwargs=_handover, allowed=SIDE_A, outsiders=OTHER_SIDE),
    "pairing:handover_apply": Case(
        kwargs=_handover,
        method="post",
        ok=302,
        allowed=("admin", "county_a"),
        forbidden=("town_a", "city_a", "province", "unit_a"),
        outsiders=("county_b",),
    ),
    # Quotas and worklists (issue 6): worklists are scoped by the user, never by a URL id.
    "visits:worklists": Case(),
    "visits:worklist": Case(kwargs=lambda w: {"kind": "cadres"}),
    "visits:unit_visit_list": Case(),
    "visits:unit_visit_new": Case(
        allowed=("admin", "town_a", "town_b", "unit_a", "unit_b"),
        forbidden=("province", "city_a", "county_a"),
    ),
    # Every role imports some kind (townships households and pairings, units cadres, counties and up links).
    "imports:list": Case(
        allowed=(
            "admin",
            "town_a",
            "town_b",
            "province",
            "city_a",
            "county_a",
            "unit_a",
            "city_b",
            "county_b",
            "unit_b",
        ),
    ),
    "imports:detail": Case(
        kwargs=_batch, allowed=("admin", "town_a"), forbidden=IMPORT_FORBIDDEN, outsiders=IMPORT_OUTSIDERS
    ),
    "imports:status": Case(
        kwargs=_batch, allowed=("admin", "town_a"), forbidden=IMPORT_FORBIDDEN, outsiders=IMPORT_OUTSIDERS
    ),
    "imports:errors": Case(
        kwargs=_batch, allowed=("admin", "town_a"), forbidden=IMPORT_FORBIDDEN, outsiders=IMPORT_OUTSIDERS
    ),
    "imports:confirm": Case(
        kwargs=_batch,
        method="post",
        ok=302,
        allowed=("admin", "town_a"),
        forbidden=IMPORT_FORBIDDEN,
        outsiders=IMPORT_OUTSIDERS,
    ),
    "imports:retry": Case(
        kwargs=_batch,
        method="post",
        ok=302,
        allowed=("admin", "town_a"),
        forbidden=IMPORT_FORBIDDEN,
        outsiders=IMPORT_OUTSIDERS,
    ),
    "imports:template": Case(kwargs=lambda w: {"kind": "households"}),
    "imports:export_households": Case(  # whole IDs and phones: the offices that keep rosters, no unit liaison
        allowed=("admin", "province", "city_a", "county_a", "town_a", "city_b", "county_b", "town_b"),
        forbidden=("unit_a", "unit_b"),
    ),
    # A background export is its requester's alone (it may carry whole IDs): everyone else gets 404.
    "imports:export_detail": Case(kwargs=_export, allowed=("town_a",), outsiders=EXPORT_OUTSIDERS),
    "imports:export_status": Case(kwargs=_export, allowed=("town_a",), outsiders=EXPORT_OUTSIDERS),
    "imports:export_download": Case(kwargs=_export, allowed=("town_a",), outsiders=EXPORT_OUTSIDERS),
    # --- quarterly dispatch (季调度) and bulletins: county A's bulletin, issued to its townships and unit ---
    "reports:dispatch": Case(allowed=DISPATCHERS, forbidden=NOT_DISPATCHERS),
    "reports:bulletin_list": Case(),
    "reports:bulletin_draft": Case(method="post", ok=302, allowed=DISPATCHERS, forbidden=NOT_DISPATCHERS),
    "reports:bulletin_detail": Case(kwargs=_bulletin, allowed=BULLETIN_READERS, outsiders=BULLETIN_OUTSIDERS),
    "reports:bulletin_docx": Case(kwargs=_bulletin, allowed=BULLETIN_READERS, outsiders=BULLETIN_OUTSIDERS),
    "reports:bulletin_print": Case(kwargs=_bulletin, allowed=BULLETIN_READERS, outsiders=BULLETIN_OUTSIDERS),
    "reports:bulletin_issue": Case(
        kwargs=_bulletin,
        method="post",
        ok=302,
        allowed=("admin", "county_a"),
        forbidden=("town_a", "unit_a", *BULLETIN_ABOVE),
        outsiders=BULLETIN_OUTSIDERS,
        extra={"data": {"number": "通双联办〔2026〕9号"}},
    ),
    "reports:bulletin_read": Case(
        kwargs=_bulletin,
        method="post",
        ok=302,
        allowed=("town_a", "unit_a"),  # the offices it is addressed to
        forbidden=("admin", "county_a", *BULLETIN_ABOVE),
        outsiders=BULLETIN_OUTSIDERS,
    ),
    "reports:annual": Case(allowed=DISPATCHERS, forbidden=NOT_DISPATCHERS),
    "reports:annual_print": Case(allowed=DISPATCHERS, forbidden=NOT_DISPATCHERS),
    # A county's workbook comes at once; a city's and the province's are offered as a background export.
    "reports:annual_xlsx": Case(allowed=DISPATCHERS, forbidden=NOT_DISPATCHERS),
    # --- demand ledger: side A's household has a demand at its cadre's level ---
    "demands:list": Case(),
    "demands:export": Case(),
    "demands:detail": Case(kwargs=_demand, allowed=SIDE_A, outsiders=OTHER_SIDE),
    "demands:act": Case(
        kwargs=_demand,
        method="post",
        ok=302,
        allowed=("admin", "town_a", "unit_a"),
        forbidden=("province", "city_a", "county_a"),
        outsiders=OTHER_SIDE,
        extra={"data": {"kind": "受理"}},
    ),
    # 提出诉求 from the household page: those who may raise demands (township staff, unit liaisons).
    "demands:raise": Case(
        kwargs=lambda w: {"household_pk": w.household_a.pk},
        allowed=("admin", "town_a", "unit_a"),
        forbidden=("province", "city_a", "county_a", "county_b"),
        outsiders=("town_b", "unit_b"),
    ),
    # Plans: read in scope, written by the household writers (township staff).
    "plans:list": Case(),
    "plans:village": Case(
        kwargs=lambda w: {"code": w.village_a.code},
        allowed=SIDE_A,
        outsiders=("town_b", "county_b", "city_b", "unit_b"),
    ),
    "plans:village_edit": Case(
        kwargs=lambda w: {"code": w.village_a.code},
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a", "unit_a"),
        outsiders=("town_b",),
    ),
    "plans:household": Case(kwargs=lambda w: {"pk": w.household_a.pk}, allowed=SIDE_A, outsiders=OTHER_SIDE),
    "plans:household_edit": Case(
        kwargs=lambda w: {"pk": w.household_a.pk},
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a", "unit_a"),
        outsiders=("town_b",),
    ),
    "evaluation:round_list": Case(),
    "evaluation:round_create": Case(
        allowed=("admin", "province", "city_a", "county_a", "city_b", "county_b"),
        forbidden=("town_a", "unit_a", "town_b", "unit_b"),
    ),
    "evaluation:round_detail": Case(kwargs=_round_kwargs, allowed=EVALUATION_READERS_A, outsiders=OTHER_SIDE),
    "evaluation:cadre_score": Case(kwargs=_cadre_score, allowed=EVALUATION_READERS_A, outsiders=OTHER_SIDE),
    "evaluation:unit_score": Case(
        kwargs=lambda w: {"pk": _round(w).pk, "unit_pk": w.cadre_a.unit_id},
        allowed=EVALUATION_READERS_A,
        outsiders=OTHER_SIDE,
    ),
    "evaluation:results_export": Case(
        kwargs=_round_kwargs, allowed=EVALUATION_READERS_A, outsiders=OTHER_SIDE
    ),
    "evaluation:results_print": Case(
        kwargs=_round_kwargs, allowed=EVALUATION_READERS_A, outsiders=OTHER_SIDE
    ),
    "evaluation:round_close": Case(
        kwargs=_round_kwargs,
        method="post",
        ok=302,
        allowed=("admin", "province", "city_a", "county_a"),
        forbidden=("town_a", "unit_a", "town_b", "unit_b"),
        outsiders=("city_b", "county_b"),
    ),
    "evaluation:round_score": Case(
        kwargs=_round_kwargs,
        method="post",
        ok=302,
        allowed=OFFICE_A,
        forbidden=NOT_OFFICES,
        outsiders=OFFICE_B,
    ),
    "evaluation:assign": Case(
        kwargs=_round_kwargs,
        method="post",
        ok=302,
        allowed=("admin", "province", "city_a", "county_a"),
        forbidden=("town_a", "unit_a", "town_b", "unit_b"),
        outsiders=("city_b", "county_b"),
    ),
    # The round's office pages: questionnaire, paper sheets, integrity flags, 八个不准 cases.
    "evaluation:questionnaire": Case(
        kwargs=_round_kwargs, allowed=OFFICE_A, forbidden=NOT_OFFICES, outsiders=OFFICE_B
    ),
    "evaluation:question_edit": Case(
        kwargs=lambda w: {"pk": _round(w).questions.first().pk},
        allowed=OFFICE_A,
        forbidden=NOT_OFFICES,
        outsiders=OFFICE_B,
    ),
    "evaluation:paper_import": Case(
        kwargs=_round_kwargs, allowed=OFFICE_A, forbidden=NOT_OFFICES, outsiders=OFFICE_B
    ),
    "evaluation:paper_sheet": Case(
        kwargs=_paper_sheet, allowed=OFFICE_A, forbidden=NOT_OFFICES, outsiders=OFFICE_B
    ),
    "evaluation:flag_list": Case(
        kwargs=_round_kwargs, allowed=OFFICE_A, forbidden=NOT_OFFICES, outsiders=OFFICE_B
    ),
    "evaluation:flag_check": Case(
        kwargs=_flag, method="post", ok=302, allowed=OFFICE_A, forbidden=NOT_OFFICES, outsiders=OFFICE_B
    ),
    "evaluation:case_list": Case(
        kwargs=_round_kwargs, allowed=OFFICE_A, forbidden=NOT_OFFICES, outsiders=OFFICE_B
    ),
    "evaluation:case_detail": Case(kwargs=_case, allowed=OFFICE_A, forbidden=NOT_OFFICES, outsiders=OFFICE_B),
    "evaluation:collectors": Case(
        allowed=("admin", "province", "city_a", "county_a", "city_b", "county_b"),
        forbidden=("town_a", "unit_a", "town_b", "unit_b"),
    ),
    # The collector's pages: only an account marked as a collector, only the households assigned to it.
    "evaluation:collect": Case(kwargs=_collecting, allowed=("county_a",), forbidden=NOT_COLLECTORS),
    "evaluation:ballot": Case(kwargs=_assigned_sample, allowed=("county_a",), outsiders=NOT_COLLECTORS),
    "evaluation:unreachable": Case(
        kwargs=_assigned_sample,
        method="post",
        ok=302,
        allowed=("county_a",),
        outsiders=NOT_COLLECTORS,
        extra={"data": {"reason": "外出"}},
    ),
    # Monthly reports (月报告): township A's report on last month, read by the offices above it.
    "reports:index": Case(),
    "reports:board": Case(allowed=REVIEWING_OFFICES, forbidden=NOT_REVIEWING),
    "reports:board_xlsx": Case(allowed=REVIEWING_OFFICES, forbidden=NOT_REVIEWING),
    "reports:detail": Case(kwargs=_report_kwargs, allowed=REGION_READERS_A, outsiders=REPORT_OUTSIDERS),
    "reports:print": Case(kwargs=_report_kwargs, allowed=REGION_READERS_A, outsiders=REPORT_OUTSIDERS),
    "reports:xlsx": Case(kwargs=_report_kwargs, allowed=REGION_READERS_A, outsiders=REPORT_OUTSIDERS),
    "reports:save": Case(
        kwargs=_report_kwargs,
        method="post",
        ok=302,
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a"),
        outsiders=REPORT_OUTSIDERS,
        extra={"data": {"work_done": "走访"}},
    ),
    "reports:submit": Case(
        kwargs=_draft_report_kwargs,
        method="post",
        ok=302,
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a"),
        outsiders=REPORT_OUTSIDERS,
    ),
    **{
        f"reports:{step}": Case(
            kwargs=_submitted_report_kwargs,
            method="post",
            ok=302,
            allowed=("admin", "county_a"),
            forbidden=("province", "city_a", "town_a"),
            outsiders=REPORT_OUTSIDERS,
            extra={"data": {"text": "意见"}},
        )
        for step in ("return", "approve", "reopen")
    },
    # --- inspections: flags and notice lists for the offices, reviews by county and up ---
    "inspections:flag_list": Case(allowed=OFFICES_ALL, forbidden=("unit_a", "unit_b")),
    "inspections:flag_detail": Case(
        kwargs=_inspection_flag,
        allowed=REGION_READERS_A,
        forbidden=("unit_a", "unit_b"),
        outsiders=("town_b", "county_b", "city_b"),
    ),
    "inspections:flag_review": Case(
        kwargs=_inspection_flag,
        method="post",
        ok=302,
        allowed=REVIEWERS_A,
        forbidden=("town_a", "unit_a", "town_b"),
        outsiders=("county_b", "city_b"),
        extra={"data": {"decision": "dismiss", "note": "已核实"}},
    ),
    "inspections:inspection_list": Case(),
    "inspections:inspection_create": Case(
        allowed=("admin", "province", "city_a", "county_a", "city_b", "county_b"),
        forbidden=("town_a", "unit_a", "town_b", "unit_b"),
    ),
    "inspections:inspection_detail": Case(kwargs=_inspection_kwargs, allowed=SIDE_A, outsiders=OTHER_SIDE),
    "inspections:inspection_close": Case(
        kwargs=_inspection_kwargs,
        method="post",
        ok=302,
        allowed=REVIEWERS_A,
        forbidden=("town_a", "unit_a"),
        outsiders=("county_b", "city_b"),
    ),
    "inspections:finding_add": Case(
        kwargs=_inspection_kwargs,
        method="post",
        ok=302,
        allowed=REVIEWERS_A,
        forbidden=("town_a", "unit_a"),
        outsiders=("county_b", "city_b"),
    ),
    # The phone pages of call-backs: the inspection's team only.
    "inspections:checks": Case(
        kwargs=_inspection_kwargs,
        allowed=("admin", "county_a"),
        forbidden=("province", "city_a", "town_a", "unit_a"),
        outsiders=OTHER_SIDE,
    ),
    "inspections:check": Case(
        kwargs=_sample,
        allowed=("admin", "county_a"),
        forbidden=("province", "city_a", "town_a", "unit_a"),
        outsiders=OTHER_SIDE,
    ),
    "inspections:report": Case(kwargs=_inspection_kwargs, allowed=SIDE_A, outsiders=OTHER_SIDE),
    "inspections:report_docx": Case(kwargs=_inspection_kwargs, allowed=SIDE_A, outsiders=OTHER_SIDE),
    "inspections:rectification_list": Case(),
    "inspections:rectification": Case(
        kwargs=_rectification, allowed=REGION_READERS_A, outsiders=("unit_a",) + OTHER_SIDE
    ),
    "inspections:rectification_file": Case(
        kwargs=_rectification_file, allowed=REGION_READERS_A, outsiders=("unit_a",) + OTHER_SIDE
    ),
    "inspections:notice_list": Case(allowed=OFFICES_ALL, forbidden=("unit_a", "unit_b")),
    "inspections:notice": Case(
        kwargs=lambda w: {"code": w.village_a.code},
        allowed=REGION_READERS_A,
        forbidden=("unit_a", "unit_b"),
        outsiders=("town_b", "county_b", "city_b"),
    ),
    "inspections:notice_post": Case(
        kwargs=lambda w: {"code": w.village_a.code},
        method="post",
        ok=302,
        allowed=("admin", "town_a"),
        forbidden=("province", "city_a", "county_a", "unit_a"),
        outsiders=("town_b",),
    ),
    "inspections:case_list": Case(allowed=OFFICES_ALL, forbidden=("unit_a", "unit_b")),
    "inspections:case_nominate": Case(allowed=OFFICES_ALL, forbidden=("unit_a", "unit_b")),
    "inspections:case_detail": Case(
        kwargs=_typical_case,
        allowed=REGION_READERS_A,
        forbidden=("unit_a",),
        outsiders=("town_b", "county_b", "city_b"),
    ),
    # The office one level up from the nominating township reviews: the county.
    "inspections:case_review": Case(
        kwargs=_typical_case,
        method="post",
        ok=302,
        allowed=("admin", "county_a"),
        forbidden=("province", "city_a", "town_a", "unit_a"),
        outsiders=("town_b", "county_b", "city_b"),
        extra={"data": {"decision": "approve"}},
    ),
}


def url_names(patterns=None, namespace=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES:
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}"


def test_every_url_has_a_matrix_entry():
    missing = set(url_names()) - PUBLIC - set(MATRIX)
    assert not missing, f"add these URLs to MATRIX: {sorted(missing)}"
    assert not set(MATRIX) - set(url_names()), "MATRIX names a URL that no longer exists"


def _cases():
    for name, case in MATRIX.items():
        for username in case.allowed:
            yield name, username, case.ok
        for username in case.forbidden:
            yield name, username, 403
        for username in case.outsiders:
            yield name, username, 404


@pytest.mark.parametrize(("name", "username", "status"), list(_cases()))
def test_url_by_role(client, world, name, username, status):
    case = MATRIX[name]
    url = reverse(name, kwargs=case.kwargs(world) if case.kwargs else None)
    client.force_login(getattr(world.users, username))
    response = getattr(client, case.method)(url, **case.extra)
    assert response.status_code == status, f"{username} {url}"


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_anonymous_is_sent_to_login(client, world, name):
    case = MATRIX[name]
    url = reverse(name, kwargs=case.kwargs(world) if case.kwargs else None)
    response = getattr(client, case.method)(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_outsider_cannot_post_an_edit(client, world):
    client.force_login(world.users.town_b)
    response = client.post(reverse("households:edit", args=[world.household_a.pk]), {"group": "9社"})
    assert response.status_code == 404
    world.household_a.refresh_from_db()
    assert world.household_a.group == ""
