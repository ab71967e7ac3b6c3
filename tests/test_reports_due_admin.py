"""The due days per level (ReportDueDay) in the admin: set by the province, read by every office,
and what the status board and the to-do items show follows them."""

import datetime

from django.urls import reverse

from dashboard import todo
from reports.models import ReportDueDay
from reports.offices import Office
from reports.selectors import board

NOVEMBER = datetime.date(2026, 11, 1)
DEC_4 = datetime.date(2026, 12, 4)  # past the default 3rd, before a 6th
ADD = reverse("admin:reports_reportdueday_add")
CHANGELIST = reverse("admin:reports_reportdueday_changelist")


def _report_items(user, today):
    return {item.key for item in todo.items(user, today) if item.key.startswith("report")}


def _overdue_below(user, today):
    items = {item.key: item for item in todo.items(user, today)}
    return items["reports_overdue"].count if "reports_overdue" in items else 0


def _town_row(world, today):
    rows = board(Office(region=world.county_a), NOVEMBER, today)["rows"]
    return next(row for row in rows if row["office"].region == world.town_a)


def test_a_due_day_set_in_the_admin_moves_the_board_and_the_todo(client, world):
    assert _town_row(world, DEC_4)["due"] == datetime.date(2026, 12, 3)
    assert _town_row(world, DEC_4)["overdue"]
    assert _report_items(world.users.town_a, DEC_4) == {"report_overdue"}
    assert _overdue_below(world.users.county_a, DEC_4) == 3  # two townships and the unit
    client.force_login(world.users.county_a)
    assert "2026年12月6日" not in client.get(reverse("reports:board"), {"month": "2026-11"}).content.decode()

    client.force_login(world.users.province)
    response = client.post(ADD, {"level": "township", "day": "6"})
    assert response.status_code == 302 and response["Location"] == CHANGELIST
    assert ReportDueDay.objects.get().day == 6
    assert ReportDueDay.history.filter(history_user=world.users.province).exists()

    row = _town_row(world, DEC_4)
    assert (row["due"], row["overdue"]) == (datetime.date(2026, 12, 6), False)
    assert _report_items(world.users.town_a, DEC_4) == {"report_due"}
    client.force_login(world.users.county_a)
    page = client.get(reverse("reports:board"), {"month": "2026-11"}).content.decode()
    assert "2026年12月6日" in page and "2026年12月3日" in page  # the townships' 6th; the unit's 3rd
    assert _overdue_below(world.users.county_a, DEC_4) == 1  # the unit

    # Changed again: the board follows the row, not the value when the row was added.
    due_day = ReportDueDay.objects.get()
    client.force_login(world.users.province)
    client.post(
        reverse("admin:reports_reportdueday_change", args=[due_day.pk]), {"level": "township", "day": "2"}
    )
    assert _town_row(world, DEC_4)["due"] == datetime.date(2026, 12, 2)


def test_every_office_reads_the_due_days_but_only_the_province_sets_them(client, world):
    ReportDueDay.objects.create(level="county", day=7)
    for username in ("county_a", "town_a", "unit_a", "city_a"):
        client.force_login(getattr(world.users, username))
        body = client.get(CHANGELIST).content.decode()
        assert "次月报送截止日" in body and "县（市、区）" in body, username
        assert client.post(ADD, {"level": "township", "day": "6"}).status_code == 403, username
    assert ReportDueDay.objects.count() == 1
    client.force_login(world.users.admin)
    assert client.post(ADD, {"level": "city", "day": "10"}).status_code == 302
    assert ReportDueDay.objects.count() == 2


def test_a_day_past_the_28th_is_refused_in_chinese(client, world):
    client.force_login(world.users.province)
    body = client.post(ADD, {"level": "township", "day": "30"}).content.decode()
    assert "截止日须在1至28日之间" in body
    body = client.post(ADD, {"level": "township", "day": "0"}).content.decode()
    assert "截止日须在1至28日之间" in body
    assert not ReportDueDay.objects.exists()
