import time
import unicodedata
from collections import Counter

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from demo import build, store
from demo import demands as demo_demands
from demo import evaluation as demo_evaluation
from demo import plans as demo_plans
from demo import reports as demo_reports
from demo import visits as demo_visits
from households.choices import POOR_CATEGORIES, HouseholdStatus
from pairing.models import Cadre, Pairing, Unit


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


class Command(BaseCommand):
    help = (
        "载入演示数据：通渭县、东乡族自治县的真实村（约六成为贫困村），约3000户农户及其家庭成员、"
        "40个单位、600名干部、联村联户关系（含交接历史和故意留下的空缺），以及每个角色一个演示账号。"
        "日期以载入当天为准（走访等为此前一年多）；同一天载入结果相同（固定随机种子）；可重复执行，已载入时不再写入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="只生成并核对，不写入数据库")

    def handle(self, *args, dry_run: bool, verbosity: int, **options):
        started = time.monotonic()
        say = self.stdout.write if verbosity else (lambda *a, **k: None)
        if not store.regions_loaded():
            if dry_run:
                raise CommandError("数据库中还没有区划，试运行无法生成演示数据；请先执行 load_regions。")
            say("数据库中还没有通渭县、东乡族自治县的区划，先载入区划：")
            call_command("load_regions", verbosity=verbosity, stdout=self.stdout, stderr=self.stderr)
        today = timezone.localdate()
        plan = build.build(store.villages(), today)
        if verbosity >= 2:
            say(f"生成演示数据用时 {time.monotonic() - started:.1f} 秒")
        differences = store.compare(plan)

        if dry_run:
            state = "尚未载入" if differences is None else "已存在" if not differences else "已存在但不一致"
            say(self.style.WARNING(f"（试运行，未写入）数据库中演示数据{state}。将载入的演示数据："))
            self.summary(plan, say)
            return

        if differences is None:
            problems = store.clashes(plan)
            if problems:
                raise CommandError("演示数据与数据库中已有的数据冲突，未写入：" + "；".join(problems))
            accounts = store.write(plan)
            say(self.style.SUCCESS("已载入演示数据："))
        else:
            if differences:
                say(
                    self.style.WARNING(
                        "演示数据已存在，但与本命令生成的不一致（可能已在系统中修改过）："
                        + "；".join(differences)
                        + "。未写入。"
                    )
                )
            else:
                say("演示数据已存在，未写入。")
            accounts = store.ensure_logins(plan.logins)
            created = [a.login.username for a in accounts if a.created]
            if created:
                say(f"补建了缺少的演示账号：{'、'.join(created)}")
        demo_visits.load(say, today)  # a year of visits and unit village visits up to yesterday, idempotent
        self.summary(plan, say)
        demo_demands.load(say)
        demo_plans.load(say, today)
        demo_reports.load(say, today)  # monthly reports at every status, the earlier months locked
        demo_evaluation.load(say, today)
        self.logins(accounts, say, first_load=differences is None)
        say(demo_evaluation.login_line())
        if verbosity >= 2:
            say(f"共用时 {time.monotonic() - started:.1f} 秒")

    def summary(self, plan, say):
        poor_households = [h for h in plan.households if h.category in POOR_CATEGORIES]
        categories = Counter(h.category for h in plan.households)
        lifted = sum(1 for h in poor_households if h.status == HouseholdStatus.LIFTED)
        levels = Counter(u.level for u in plan.units)
        statuses = Counter(c.status for c in plan.cadres)
        exempt = sum(1 for c in plan.cadres if c.category in Cadre.EXEMPT_CATEGORIES)
        open_pairings = [p for p in plan.pairings if p.ended_on is None]
        responsible = sum(1 for p in open_pairings if p.role == Pairing.Role.RESPONSIBLE)
        contacts = len(open_pairings) - responsible
        ended = len(plan.pairings) - len(open_pairings)
        unpaired = len(poor_households) - responsible
        poor_villages = len(plan.poor_villages)
        say(
            f"  贫困县 2 个（通渭县、东乡族自治县）；"
            f"贫困村 {poor_villages} 个（两县共 {plan.villages} 个村和社区）"
        )
        say(
            f"  单位 {len(plan.units)} 个（"
            + "、".join(f"{label} {levels[value]}" for value, label in Unit.Level.choices)
            + f"）；联村关系 {len(plan.links)} 条，{len(plan.unlinked_villages)} 个贫困村未安排联村单位"
        )
        say(
            f"  干部 {len(plan.cadres)} 名（在岗 {statuses[Cadre.Status.ACTIVE]}、"
            f"调离 {statuses[Cadre.Status.TRANSFERRED]}、"
            f"退休 {statuses[Cadre.Status.RETIRED]}；教师、医务人员、企业职工 {exempt} 名不安排联户）"
        )
        say(
            f"  农户 {len(plan.households)} 户，家庭成员 {len(plan.members)} 人；"
            f"贫困户 {len(poor_households)} 户（"
            + "、".join(f"{category} {categories[category]}" for category in POOR_CATEGORIES)
            + f"；已脱贫 {lifted}），一般农户 {categories['一般农户']} 户"
        )
        say(
            f"  联户关系 {len(plan.pairings)} 条："
            f"帮扶责任人 {responsible}、联系户 {contacts}、已结束 {ended}；"
            f"{unpaired} 户贫困户尚无帮扶责任人"
        )

    def logins(self, accounts, say, *, first_load: bool):
        say(f"\n演示账号（密码均为 {build.PASSWORD}）：")
        header = ("用户名", "密码", "角色", "姓名", "管辖范围")
        rows = []
        printed = {login.username for login in build.LOGINS}
        clerks = [account for account in accounts if account.login.username not in printed]
        for account in accounts:
            if account.login.username not in printed:
                continue
            user = account.user
            role = User.Role(user.role).label if user.role else "系统管理员"
            scope = store.scope_name(user)
            if not account.as_planned:
                scope += "（已有账号，设置与演示不同）"
            elif first_load and not account.created:
                scope += "（已有账号，密码未改动）"
            rows.append((user.username, build.PASSWORD, str(role), user.get_full_name(), scope))
        widths = [max(_width(row[i]) for row in [header, *rows]) + 2 for i in range(4)]
        for row in [header, *rows]:
            say("  " + "".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:4])) + row[4])
        if clerks:
            example = clerks[0].user
            say(
                f"另有其他 {len(clerks)} 个乡镇的录入员账号（乡镇双联办，录入本乡镇的走访），"
                f"如 {example.username}（{store.scope_name(example)}，{example.get_full_name()}），密码相同。"
            )
