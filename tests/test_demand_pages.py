"""The ledger pages, the demand page's actions, export, and demands raised in the visit form."""

import datetime
import io

from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from demands import services
from demands.models import Demand, Level
from tests.queries import count_queries
from tests.test_visit_pages import entry
from visits.models import Visit

today = timezone.localdate  # read per test: a run may cross midnight (Asia/Shanghai)


def raise_for(world, household=None, *, by=None, days_ago=0, category="住房", text="危房需改造"):
    return services.raise_demand(
        household=household or world.household_a,
        category=category,
        text=text,
        by=by or world.users.town_a,
        raised_on=today() - datetime.timedelta(days=days_ago),
    )


def test_the_ledger_counts_filters_and_flags_overdue(client, world):
    late = raise_for(world, days_ago=30, text="饮水管道冻裂")
    raise_for(world, category="教育", text="孩子上学远")
    services.resolve(demand=raise_for(world, text="已修好的路"), by=world.users.town_a, text="已修复")
    raise_for(world, world.household_b, by=world.users.town_b, text="达板的诉求")
    client.force_login(world.users.town_a)

    page = client.get(reverse("demands:list"))
    statuses = {value: count for value, _label, count in page.context["statuses"]}
    assert statuses == {"待办": 2, "办理中": 0, "已解决": 1, "已解释": 0}
    assert page.context["overdue_count"] == 1
    content = page.content.decode()
    assert "达板的诉求" not in content and "饮水管道冻裂" in content and "逾期" in content

    overdue = client.get(reverse("demands:list"), {"overdue": "on"})
    assert [d.pk for d in overdue.context["page"]] == [late.pk]
    education = client.get(reverse("demands:list"), {"category": "教育", "status": "待办"})
    assert [d.text for d in education.context["page"]] == ["孩子上学远"]


def test_overdue_at_my_level_is_each_offices_worklist(client, world):
    late = raise_for(world, days_ago=30)
    worklist = reverse("demands:list") + "?mine=on&overdue=on"
    client.force_login(world.users.county_a)
    assert list(client.get(worklist).context["page"]) == []
    for _step in range(3):  # cadre → unit → township → county
        services.escalate(demand=Demand.objects.get(pk=late.pk), by=world.users.admin, text="需协调")
    Demand.objects.filter(pk=late.pk).update(due_on=today() - datetime.timedelta(days=1))
    assert [d.pk for d in client.get(worklist).context["page"]] == [late.pk]
    client.force_login(world.users.town_a)
    assert list(client.get(worklist).context["page"]) == []


def test_ledger_query_count_does_not_grow_with_rows(client, world, settings):
    settings.PAGE_SIZE = 5
    raise_for(world)
    client.force_login(world.users.town_a)
    url = reverse("demands:list") + "?mine=on"
    few = count_queries(client, url)
    for index in range(12):
        raise_for(world, text=f"诉求{index}", days_ago=index)
    assert count_queries(client, url) == few
    # session, user, status counts (which also give the page count), page rows
    assert few == 4
    client.force_login(world.users.unit_a)
    assert count_queries(client, url) == 4


def test_the_ledger_pages_through_exactly_the_filtered_rows(client, world, settings):
    """The paginator's count is taken from the status summary, not counted again: it must still
    be the number of rows the filters select."""
    settings.PAGE_SIZE = 2
    for index in range(5):
        raise_for(world, text=f"诉求{index}", days_ago=index, category="住房" if index % 2 else "教育")
    services.resolve(demand=raise_for(world, text="已修好的路"), by=world.users.town_a, text="已修复")
    raise_for(world, world.household_b, by=world.users.town_b, text="达板的诉求")
    client.force_login(world.users.town_a)
    for params, want in [
        ({}, 6),
        ({"status": "待办"}, 5),
        ({"status": "已解决"}, 1),
        ({"status": "办理中"}, 0),
        ({"status": "待办", "category": "住房"}, 2),
        ({"status": "不存在"}, 6),
    ]:
        first = client.get(reverse("demands:list"), params)
        paginator = first.context["page"].paginator
        assert paginator.count == want, params
        seen = [
            d.pk
            for number in paginator.page_range
            for d in client.get(reverse("demands:list"), {**params, "page": number}).context["page"]
        ]
        assert len(seen) == len(set(seen)) == want, params


def test_demand_page_query_count_is_fixed(client, world):
    demand = raise_for(world)
    client.force_login(world.users.town_a)
    url = reverse("demands:detail", args=[demand.pk])
    few = count_queries(client, url)
    for text in ("一", "二", "三"):
        services.reply(demand=demand, by=world.users.town_a, text=text)
    assert count_queries(client, url) == few
    assert "马营镇 town_a" in client.get(url).content.decode()  # the office, then the person (or the login)


def test_export_is_the_filtered_scope_with_formulas_defused(client, world):
    raise_for(world, text="=HYPERLINK(\"x\")")
    raise_for(world, world.household_b, by=world.users.town_b, text="达板的诉求")
    client.force_login(world.users.county_a)
    response = client.get(reverse("demands:export"), {"level": "干部"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("提出日期", "村", "户主", "类别", "诉求内容")
    assert len(rows) == 2
    assert rows[1][2] == "王建国" and rows[1][4] == "'=HYPERLINK(\"x\")" and rows[1][9] == "李文华"


def test_the_demand_page_offers_only_the_steps_the_user_may_take(client, world):
    demand = raise_for(world)
    client.force_login(world.users.county_a)
    page = client.get(reverse("demands:detail", args=[demand.pk]))
    assert page.context["forms"] == [] and "危房需改造" in page.content.decode()
    client.force_login(world.users.town_a)
    page = client.get(reverse("demands:detail", args=[demand.pk]))
    assert [kind for kind, _prompt, _form in page.context["forms"]] == [
        "受理",
        "答复",
        "上报",
        "办结",
        "解释",
        "反馈",
    ]


def test_an_action_without_its_text_is_refused_on_the_page(client, world):
    demand = raise_for(world)
    client.force_login(world.users.town_a)
    response = client.post(
        reverse("demands:act", args=[demand.pk]), {"kind": "上报", "text": ""}, follow=True
    )
    assert "请填写上报理由" in response.content.decode()
    demand.refresh_from_db()
    assert demand.level == Level.CADRE and demand.actions.count() == 1

    response = client.post(
        reverse("demands:act", args=[demand.pk]), {"kind": "上报", "text": "需单位出资"}, follow=True
    )
    assert "已上报" in response.content.decode()
    demand.refresh_from_db()
    assert demand.level == Level.UNIT
    # Now it waits at the unit: the township may read it but no longer act on it.
    assert client.post(reverse("demands:act", args=[demand.pk]), {"kind": "受理"}).status_code == 403


def demand_rows(*rows):
    data = {"demands-TOTAL_FORMS": str(len(rows)), "demands-INITIAL_FORMS": "0"}
    for index, (category, text) in enumerate(rows):
        data[f"demands-{index}-category"] = category
        data[f"demands-{index}-text"] = text
    return data


def test_demands_raised_in_the_visit_form_are_saved_with_the_visit(client, world):
    client.force_login(world.users.town_a)
    data = entry(world, **demand_rows(("基础设施", "想通自来水"), ("", ""), ("教育", "孩子要上高中")))
    assert client.post(reverse("visits:new"), data).status_code == 302
    client.post(reverse("visits:new"), data)  # a double click
    visit = Visit.objects.get()
    demands = list(
        Demand.objects.order_by("pk").values_list("visit", "category", "text", "raised_on", "raised_by")
    )
    assert demands == [
        (visit.pk, "基础设施", "想通自来水", visit.visited_on, world.users.town_a.pk),
        (visit.pk, "教育", "孩子要上高中", visit.visited_on, world.users.town_a.pk),
    ]
    household_page = client.get(reverse("households:detail", args=[world.household_a.pk])).content.decode()
    assert "想通自来水" in household_page and "孩子要上高中" in household_page


def test_a_bad_demand_row_keeps_the_visit_unsaved(client, world):
    client.force_login(world.users.town_a)
    response = client.post(reverse("visits:new"), entry(world, **demand_rows(("", "没选类别"))))
    assert response.status_code == 200
    assert "请选择诉求类别" in response.content.decode()
    assert not Visit.objects.exists() and not Demand.objects.exists()


def test_a_refused_visit_raises_no_demand(client, world):
    client.force_login(world.users.town_a)
    future = (today() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        reverse("visits:new"), entry(world, visited_on=future, **demand_rows(("住房", "漏雨")))
    )
    assert response.status_code == 200
    assert not Visit.objects.exists() and not Demand.objects.exists()


def test_province_and_city_summaries_are_cached_and_counties_are_live(client, world):
    raise_for(world)
    summary = {}
    for username in ("province", "city_a", "county_a"):
        client.force_login(getattr(world.users, username))
        page = client.get(reverse("demands:list"))
        assert ("立即重新统计" in page.content.decode()) == (username != "county_a")
        summary[username] = dict((value, n) for value, _label, n in page.context["statuses"])["待办"]
    assert summary == {"province": 1, "city_a": 1, "county_a": 1}
    added = raise_for(world, text="新的诉求")

    client.force_login(world.users.county_a)
    assert client.get(reverse("demands:list")).context["page"].paginator.count == 2
    for username in ("province", "city_a"):
        client.force_login(getattr(world.users, username))
        cached = client.get(reverse("demands:list"))
        assert dict((v, n) for v, _label, n in cached.context["statuses"])["待办"] == 1
        assert added.pk in [d.pk for d in cached.context["page"]]  # the rows themselves are live
        # and the last page saw a row beyond the cached count: 共 N 件 is counted live, every row reachable.
        assert cached.context["page"].paginator.count == 2 and len(cached.context["page"].object_list) == 2
        recounted = client.get(reverse("demands:list"), {"refresh": "1"})
        assert recounted.context["page"].paginator.count == 2
        assert "refresh" not in recounted.context["query"]
        assert client.get(reverse("demands:list")).context["page"].paginator.count == 2  # the recount is kept
        # With the count current, the cached page costs fewer queries than a recount.
        assert count_queries(client, reverse("demands:list")) < count_queries(
            client, reverse("demands:list") + "?refresh=1"
        )
    # A demand leaving the list (here: closed) makes the cached count too high: the last page sees it.
    Demand.objects.filter(pk=added.pk).delete()
    client.force_login(world.users.city_a)
    page = client.get(reverse("demands:list")).context["page"]
    assert page.paginator.count == 1 and len(page.object_list) == 1
    # Other filters are counted apart.
    assert client.get(reverse("demands:list"), {"category": "教育"}).context["page"].paginator.count == 0
