"""Reports due and overdue on the home page and the inbox (dashboard/todo.py)."""

import datetime

from django.urls import reverse

from dashboard import todo
from reports import services
from reports.offices import Office

DEC_2 = datetime.date(2026, 12, 2)  # November's township reports are due on the 3rd
DEC_4 = datetime.date(2026, 12, 4)


def _items(user, today):
    return {item.key: item for item in todo.items(user, today) if item.key.startswith("report")}


def test_a_township_sees_its_report_due_then_overdue_until_it_submits(world):
    due = _items(world.users.town_a, DEC_2)
    assert set(due) == {"report_due"} and due["report_due"].label == "11月月报告待报送"
    assert due["report_due"].url == reverse("reports:detail", args=[world.town_a.code, 2026, 11])
    assert set(_items(world.users.town_a, DEC_4)) == {"report_overdue"}
    report = services.save_report(
        office=Office(region=world.town_a), month=datetime.date(2026, 11, 1), by=world.users.town_a, texts={}
    )
    services.submit_report(report=report, by=world.users.town_a)
    assert _items(world.users.town_a, DEC_4) == {}


def test_a_county_sees_the_reports_below_waiting_and_overdue(world):
    report = services.save_report(
        office=Office(region=world.town_a), month=datetime.date(2026, 11, 1), by=world.users.town_a, texts={}
    )
    services.submit_report(report=report, by=world.users.town_a)
    items = _items(world.users.county_a, DEC_4)
    assert items["reports_to_review"].count == 1
    assert items["reports_overdue"].count == 2  # 鸡川镇 and the unit: nothing submitted
    assert items["reports_overdue"].url == reverse("reports:board") + "?month=2026-11"
    assert _items(world.users.county_a, DEC_2)["reports_overdue"].count == 0
    assert "reports_to_review" not in _items(world.users.town_a, DEC_4)


def test_the_home_page_links_the_report_items(client, world):
    client.force_login(world.users.county_a)
    body = client.get(reverse("home")).content.decode()
    assert 'data-todo="reports_to_review"' in body and reverse("reports:board") in body
