"""Demo monthly reports (月报告), loaded by `manage.py load_demo` after the visits, demands and plans.

The three months before the day of loading, in the two demo counties, at every status: the two
earlier months reported and approved by every township and unit (and so locked), the counties'
own reports approved by their city for the earliest month and waiting for it in the second; last
month still under way: the demo township's report returned with a comment, some submitted, some
drafts, a few not yet started. Written through the services, as the offices would; the steps are
then dated around each month's due day. Written once: when the demo counties have reports,
nothing is written.
"""

import datetime

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from households.models import Region
from reports import services
from reports.models import MonthlyReport, ReportAction
from reports.offices import Office, children

from .build import COUNTIES, DEMO_TOWNSHIPS
from .dates import months_back

TEXTS = {
    "work_done": "本月组织帮扶干部入户走访，宣传惠民政策，收集群众诉求并及时办理。",
    "experience": "推行“夜访”和“电话回访”，外出务工户每月至少联系一次。",
    "problems": "部分外出务工户联系不畅；个别干部走访记录不够详实。",
    "next_month": "继续开展走访，重点跟进未办结诉求和“三个不能”预警户。",
}
RETURN_COMMENT = "外出务工户的联系情况未写清楚，请补充联系方式和次数后重新报送。"
# Of last month's reports below each county: every `MISSING_EVERY`th office has not started, every
# `DRAFT_EVERY`th is a draft; the rest are submitted (the demo township's is returned).
MISSING_EVERY = 5
DRAFT_EVERY = 3


def _office_user(office: Office, admin: User) -> User:
    """The login of the office if the demo has one, else the superuser (acting for it)."""
    if office.unit:
        found = User.objects.filter(role=User.Role.UNIT, unit=office.unit, is_active=True)
    else:
        found = User.objects.filter(role=office.region.level, region=office.region, is_active=True)
    return found.order_by("pk").first() or admin


def _submitted(office: Office, month: datetime.date, by: User, missing_note: str = "") -> MonthlyReport:
    report = services.save_report(office=office, month=month, by=by, texts=TEXTS)
    return services.submit_report(report=report, by=by, missing_note=missing_note)


def _approved_below(office: Office, month: datetime.date, admin: User) -> int:
    reviewer = _office_user(office, admin)
    count = 0
    for child in children(office):
        report = _submitted(child, month, _office_user(child, admin))
        services.approve_report(report=report, by=reviewer)
        count += 1
    return count


def _last_month(office: Office, month: datetime.date, admin: User) -> int:
    reviewer = _office_user(office, admin)
    count = 0
    for index, child in enumerate(children(office)):
        if child.region and child.region.code == DEMO_TOWNSHIPS[office.region.code[:6]]:
            report = _submitted(child, month, _office_user(child, admin))
            services.return_report(report=report, by=reviewer, comment=RETURN_COMMENT)
        elif index % MISSING_EVERY == MISSING_EVERY - 1:
            continue
        elif index % DRAFT_EVERY == DRAFT_EVERY - 1:
            services.save_report(office=child, month=month, by=_office_user(child, admin), texts=TEXTS)
        else:
            _submitted(child, month, _office_user(child, admin))
        count += 1
    return count


def _date_steps(months: list[datetime.date]) -> None:
    """Each report's steps dated from the 1st of the month after it, a day apart, in the morning."""
    for report in MonthlyReport.objects.filter(month__in=months).prefetch_related("actions"):
        following = (report.month + datetime.timedelta(days=32)).replace(day=1)
        for index, action in enumerate(report.actions.all()):
            moment = datetime.datetime.combine(
                following + datetime.timedelta(days=index), datetime.time(9 + index % 8)
            )
            ReportAction.objects.filter(pk=action.pk).update(at=moment.astimezone(datetime.UTC))


@transaction.atomic
def load(say, today: datetime.date) -> None:
    counties = Q()
    for county in COUNTIES:
        counties |= Q(region__code__startswith=county) | Q(unit__region__code__startswith=county)
    if MonthlyReport.objects.filter(counties).exists():
        say("演示月报告已存在，未写入。")
        return
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return
    earliest, second, last = (months_back(today, n) for n in (3, 2, 1))
    written = 0
    for county in COUNTIES:
        office = Office(region=Region.objects.get(code=county + "000000"))
        city = _office_user(Office(region=Region.objects.get(code=county[:4] + "00000000")), admin)
        written += _approved_below(office, earliest, admin)
        report = _submitted(office, earliest, _office_user(office, admin))
        services.approve_report(report=report, by=city)
        written += _approved_below(office, second, admin)
        _submitted(office, second, _office_user(office, admin))
        written += _last_month(office, last, admin) + 2
    _date_steps([earliest, second, last])
    say(
        f"  月报告 {written} 份（{earliest:%Y-%m}、{second:%Y-%m} 已审核并锁定；"
        f"{last:%Y-%m} 有退回、已报送、草稿和未报）"
    )
