"""Count the province's and every city's overview figures ahead of the users.

The figures a province or city office sees (home page, coverage, worklists and their per-county
lists, the demand ledger's summary) are kept in the cache for COVERAGE_CACHE_SECONDS; the first
visitor after they expire waits for the recount (about a second at province scale). Run this from
cron more often than that, and nobody waits:

    */4 * * * * cd /srv/shuanglian && .venv/bin/python manage.py warm_overviews -v 0
"""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import User
from dashboard.selectors import scope_counts_cached
from demands.forms import DemandFilterForm
from demands.selectors import ledger_summary
from households.models import Region
from pairing.selectors import coverage_rows_cached
from visits import worklists


def office(region: Region) -> User:
    """An unsaved office account of the region's level: the figures are counted for its scope."""
    return User(username=f"warm-{region.code}", role=region.level, region=region)


def warm(region: Region) -> None:
    """Recounts every cached overview of one province or city and keeps the new figures."""
    user, today = office(region), timezone.localdate()
    scope_counts_cached(user, refresh=True)
    coverage_rows_cached(region, list(region.children.order_by("code")), refresh=True)
    worklists.counts_cached(user, today, refresh=True)
    for kind in worklists.KINDS:
        worklists.per_county_cached(user, today, kind, refresh=True)
    ledger_summary(user, DemandFilterForm(None), refresh=True)


class Command(BaseCommand):
    help = "预先统计全省及各市州的概况数据（首页、覆盖情况、工作清单、诉求台账汇总），供 cron 定时运行"

    def handle(self, *args, **options):
        regions = Region.objects.filter(level__in=(Region.Level.PROVINCE, Region.Level.CITY)).order_by("code")
        started = time.perf_counter()
        for region in regions:
            began = time.perf_counter()
            warm(region)
            if options["verbosity"] > 1:
                self.stdout.write(f"{region.name}：{time.perf_counter() - began:.2f} 秒")
        self.stdout.write(
            f"已统计 {len(regions)} 个省、市（州）的概况，用时 {time.perf_counter() - started:.1f} 秒"
        )
