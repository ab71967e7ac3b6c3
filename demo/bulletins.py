"""The demo bulletin (通报), loaded by `manage.py load_demo` after the monthly reports.

通渭县's office drafts its bulletin on the last full quarter from the ranking, issues it under a
document number, and half of the offices and units below it (among those with a demo login, every
other one first) mark it read: so the county sees who has not. Written through the bulletin services, as the
office would (history rows, the ranking frozen, the number checked). Written once: when the county
office has a bulletin, nothing is written.
"""

import datetime

from django.db import transaction

from accounts.models import User
from households.models import Region
from reports import bulletins
from reports.dispatch import Quarter
from reports.models import Bulletin
from reports.offices import Office

from .reports import _office_user
from .units import TONGWEI


def number_for(quarter: Quarter) -> str:
    """The document number in the usual form: the office's abbreviation, the year, a serial."""
    return f"通联办发〔{quarter.year}〕{quarter.number}号"


def _reader(recipient, admin: User) -> User | None:
    """The login that answers for a recipient, if the demo has one (never the superuser)."""
    office = Office(region=recipient.region) if recipient.region_id else Office(unit=recipient.unit)
    user = _office_user(office, admin)
    return None if user.pk == admin.pk else user


@transaction.atomic
def load(say, today: datetime.date) -> None:
    region = Region.objects.get(code=TONGWEI + "000000")
    if Bulletin.objects.filter(region=region).exists():
        say("演示通报已存在，未写入。")
        return
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        return
    office = _office_user(Office(region=region), admin)
    quarter = Quarter.of(today).previous
    bulletin = bulletins.draft_bulletin(region=region, quarter=quarter, by=office)
    bulletins.issue_bulletin(bulletin=bulletin, number=number_for(quarter), by=office)
    recipients = list(bulletin.recipients.select_related("region", "unit"))
    with_login = [(r, user) for r in recipients if (user := _reader(r, admin)) is not None]
    # Every other office first, so the read and unread ones alternate down the list.
    readers = (with_login[::2] + with_login[1::2])[: len(recipients) // 2]
    read = sum(bulletins.mark_read(bulletin=bulletin, by=user) for _recipient, user in readers)
    say(
        f"  通报 1 份（{region.name}，{quarter.label}，{bulletin.number}），"
        f"{len(recipients)} 个接收单位中 {read} 个已阅知"
    )
