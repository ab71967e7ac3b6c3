"""The annual summary (年总结) of an office: the year by month, the year's totals per region and unit
below, the bulletins it issued, its summary text, and the mass-evaluation rounds of the year.

Every figure comes from the indicator catalogue (shuanglian/indicators.py); the monthly figures of
visits, demands and help read the monthly tallies the visits app keeps, so a year is 12 small sums.
"""

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from evaluation.models import Round
from evaluation.scores import round_scores
from households.models import Region
from shuanglian import indicators
from shuanglian.access import LEVEL_DIGITS
from shuanglian.indicators import Period, Scope
from shuanglian.lib import dates, excel, params

from . import dispatch
from .charts import Chart
from .models import AnnualSummary, Bulletin

# The year's totals per region and unit below, in this order.
TOTAL_KEYS = [
    "visits_home",
    "visits_contact",
    "households_contacted",
    "unit_visits",
    "demands_raised",
    "demands_resolved",
    "help_cash",
    "help_goods_value",
]
MONTH_KEYS = [
    "visits_home",
    "visits_contact",
    "quarter_contact_rate",
    "demands_raised",
    "demands_resolved",
    "help_cash",
    "help_goods_value",
]


def months_of(year: int) -> list[int]:
    """The months of the year that have begun."""
    today = timezone.localdate()
    if year < today.year:
        return list(range(1, 13))
    return list(range(1, today.month + 1)) if year == today.year else []


@dataclass
class Summary:
    office: Region
    year: int
    months: list[int]
    monthly: dict[int, dict]  # month → key → figure
    charts: list[Chart]
    columns: list  # Indicator per total column
    rows: list[dict]  # {"name", "kind", "figures": [..]}
    bulletins: list[Bulletin]
    text: AnnualSummary | None
    rounds: list[dict] = field(default_factory=list)


def _monthly(prefix: str, year: int, months: list[int]) -> dict[int, dict]:
    scope = Scope(prefix=prefix)
    return {month: indicators.values(MONTH_KEYS, scope, Period.month(year, month)) for month in months}


def _charts(monthly: dict[int, dict], months: list[int]) -> list[Chart]:
    labels = [f"{month}月" for month in months]

    def series(key):
        return [monthly[month][key] for month in months]

    name = {key: indicators.get(key).name for key in MONTH_KEYS}
    return [
        Chart(
            "annual-visits",
            _("走访和联系次数"),
            labels,
            [
                (name["visits_home"], series("visits_home")),
                (name["visits_contact"], series("visits_contact")),
            ],
            unit="次",
        ),
        Chart(
            "annual-contact-rate",
            _("走访联系率"),
            labels,
            [(name["quarter_contact_rate"], series("quarter_contact_rate"))],
            unit="%",
        ),
        Chart(
            "annual-demands",
            _("诉求提出和办结"),
            labels,
            [
                (name["demands_raised"], series("demands_raised")),
                (name["demands_resolved"], series("demands_resolved")),
            ],
            kind="bar",
            unit="件",
        ),
        Chart(
            "annual-help",
            _("帮扶资金和物资"),
            labels,
            [
                (name["help_cash"], series("help_cash")),
                (name["help_goods_value"], series("help_goods_value")),
            ],
            kind="bar",
            unit="元",
        ),
    ]


def _totals(office: Region, year: int) -> list[dict]:
    """The year's totals per region below (one grouped query per figure) and per unit seated at the
    office's level (a few queries per unit: a county has tens of them)."""
    prefix = office.code[: LEVEL_DIGITS[office.level]]
    level = dispatch.child_level(office.level)
    digits = LEVEL_DIGITS[level]
    period = Period.year(year)
    table = indicators.table(TOTAL_KEYS, Scope(prefix=prefix), period, digits)
    # Some indicators key their rows by the child's prefix, some by its whole code: read both.
    by_prefix: dict[str, dict] = {}
    for key, row in table.items():
        by_prefix.setdefault(key[:digits], {}).update(row)
    rows = []
    for child in Region.objects.filter(code__startswith=prefix, level=level).order_by("code"):
        figures = by_prefix.get(child.code[:digits], {})
        rows.append(
            {"name": child.name, "kind": "region", "figures": [figures.get(k) or 0 for k in TOTAL_KEYS]}
        )
    for unit in dispatch.units_below(prefix, office.level):
        figures = indicators.values(TOTAL_KEYS, Scope(unit_id=unit.pk), period)
        rows.append({"name": unit.name, "kind": "unit", "figures": [figures.get(k) or 0 for k in TOTAL_KEYS]})
    return rows


def _rounds(office: Region, year: int) -> list[dict]:
    """The mass-evaluation rounds the office opened for the year, with their grades."""
    result = []
    for round_ in Round.objects.filter(region=office, year=year).order_by("pk"):
        scores = [s for s in round_scores(round_) if s.combined is not None]
        grades: dict[str, int] = {}
        for score in scores:
            grades[score.grade] = grades.get(score.grade, 0) + 1
        mean = round(sum(s.combined for s in scores) / len(scores), 2) if scores else None
        result.append(
            {
                "round": round_,
                "scored": len(scores),
                "grades": sorted(grades.items()),
                "mean": mean,
                "top": scores[:10],
            }
        )
    return result


def summary(office: Region, year: int) -> Summary:
    prefix = office.code[: LEVEL_DIGITS[office.level]]
    months = months_of(year)
    monthly = _monthly(prefix, year, months)
    return Summary(
        office=office,
        year=year,
        months=months,
        monthly=monthly,
        charts=_charts(monthly, months),
        columns=[indicators.get(key) for key in TOTAL_KEYS],
        rows=_totals(office, year),
        bulletins=list(
            Bulletin.objects.filter(region=office, year=year, status=Bulletin.Status.ISSUED).order_by(
                "issued_at"
            )
        ),
        text=AnnualSummary.objects.filter(region=office, year=year).first(),
        rounds=_rounds(office, year),
    )


def workbook_bytes(data: Summary, progress=None) -> bytes:
    """The summary as .xlsx: the months, the totals per region and unit, the bulletins, the text."""
    book = excel.new_workbook()
    sheet = book.create_sheet(_("逐月"))
    names = [indicators.get(key).name for key in MONTH_KEYS]
    excel.append(sheet, [excel.cell(sheet, label, bold=True) for label in [_("月份"), *names]])
    for month in data.months:
        excel.append(sheet, [f"{data.year}年{month}月", *[data.monthly[month][key] for key in MONTH_KEYS]])
    sheet = book.create_sheet(_("分地区和单位"))
    head = [_("名称"), _("类别"), *[c.name for c in data.columns]]
    excel.append(sheet, [excel.cell(sheet, label, bold=True) for label in head])
    for done, row in enumerate(data.rows, start=1):
        kind = _("地区") if row["kind"] == "region" else _("单位")
        excel.append(sheet, [row["name"], kind, *row["figures"]])
        if progress is not None:
            progress(done, len(data.rows))
    sheet = book.create_sheet(_("通报"))
    excel.append(
        sheet, [excel.cell(sheet, label, bold=True) for label in (_("文号"), _("标题"), _("印发时间"))]
    )
    for bulletin in data.bulletins:
        excel.append(sheet, [bulletin.number, bulletin.title, timezone.localtime(bulletin.issued_at).date()])
    sheet = book.create_sheet(_("年度总结"))
    excel.append(sheet, [excel.cell(sheet, _("年度总结"), bold=True)])
    for line in (data.text.text if data.text else "").splitlines():
        excel.append(sheet, [line])
    return excel.workbook_bytes_of(book)


def filename(office: Region, year: int) -> str:
    return f"{office.name}{year}年度总结.xlsx"


def export_job(job, progress) -> bytes:
    """A background export (imports/exports.py) of the summary workbook, in the requester's office."""
    from .bulletins import office_of

    office = office_of(job.created_by)
    if office is None or office.code != job.params.get("office"):
        raise PermissionError(_("无权导出该年度总结"))
    return workbook_bytes(summary(office, int(job.params["year"])), progress)


def is_large(office: Region) -> bool:
    """A city's or the province's workbook counts many units: it is built in the background."""
    return office.level in ("city", "province")


def parse_year(raw) -> int:
    """A year from the query string, from the campaign's first year to this one; else this year."""
    today = timezone.localdate()
    return params.parse_int(raw, default=today.year, min_value=dates.floor().year, max_value=today.year)
