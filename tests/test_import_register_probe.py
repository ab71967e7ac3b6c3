"""The roster import does not tell a township who is registered outside its scope (issue 11, item 6).

A dry run used to answer 「该户主已在您管辖范围以外登记为农户」 for the head of a household in another
county, and 「此人已登记在其他农户中（可能在您管辖范围以外）」 for a member elsewhere: a township could
probe the province's register, head by head. Now every such row gets one neutral refusal, the same
wherever and as whatever the person is registered, and the attempt lands on the page of the county
office that oversees the township.
"""

import re

import pytest
from django.urls import reverse

from imports import services
from imports.models import RegisterAttempt
from shuanglian.lib import idcard
from tests import factories as f

NEUTRAL = "此身份证号不能由您登记，已提请县双联办核实"


def roster(head_id: str, name: str = "张三") -> bytes:
    return (
        f"县,乡镇,村,户主姓名,身份证号码,户属性\n通渭县,马营镇,东关村,{name},{head_id},一般贫困户\n".encode()
    )


def check(world, head_id, filename="名册.csv"):
    batch = services.create_batch(
        data=roster(head_id), filename=filename, kind="households", user=world.users.town_a
    )
    services.check_batch(batch=batch)
    batch.refresh_from_db()
    return batch


def township_view(client, world, batch, head_id):
    """Everything the township is shown about its batch, with the ID it typed replaced by a mark."""
    client.force_login(world.users.town_a)
    page = client.get(reverse("imports:detail", args=[batch.pk])).content.decode()
    page = page.replace(f"/imports/{batch.pk}/", "/imports/N/")
    page = re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", page)  # differs on every page
    page = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", "TIME", page)
    report = str(batch.report).replace(head_id, "ID").replace(idcard.mask(head_id), "ID")
    return (
        batch.status,
        batch.message,
        report,
        page.replace(head_id, "ID").replace(idcard.mask(head_id), "ID"),
    )


@pytest.fixture
def elsewhere(world):
    """Three people the township may not see: the head of a household in another county, the head of
    one in another township of its county, and a member (not the head) of that household."""
    member = world.household_a2.members.exclude(relation="户主").get()
    return {
        "head in another county": world.household_b.head_id_number,
        "head in another township": world.household_a2.head_id_number,
        "member in another township": member.id_number,
    }


def test_the_township_is_shown_the_same_whatever_and_wherever_the_person_is(client, world, elsewhere):
    views = {
        case: township_view(client, world, check(world, head_id), head_id)
        for case, head_id in elsewhere.items()
    }
    first = next(iter(views.values()))
    assert all(view == first for view in views.values()), views
    status, message, report, page = first
    assert status == "refused" and NEUTRAL in report and NEUTRAL in page
    for telling in ("管辖范围以外", "其他农户", "东乡", "达板", "鸡川", "赵德胜", "妥有福", "户主"):
        assert telling not in report, telling


def test_an_unregistered_valid_id_still_passes(world):
    batch = check(world, f.resident_id("621121"))
    assert batch.status == "checked", batch.report


def test_the_county_office_sees_who_tried_whom_and_where_in_its_own_scope(client, world, elsewhere):
    batches = {case: check(world, head_id, filename=f"{case}.csv") for case, head_id in elsewhere.items()}
    assert RegisterAttempt.objects.count() == 3
    services.check_batch(batch=batches["head in another county"])  # checked again: still one record
    assert RegisterAttempt.objects.count() == 3

    client.force_login(world.users.county_a)
    page = client.get(reverse("imports:list")).content.decode()
    assert "乡镇登记已在别处登记的人员" in page
    for case, head_id in elsewhere.items():
        assert idcard.mask(head_id) in page and f"{case}.csv" in page and head_id not in page
    assert "town_a" in page
    assert "鸡川村民委员会" in page  # registered within the county: the office may see where
    assert "其他县" in page and "达板" not in page  # registered in another county: only that it is elsewhere

    client.force_login(world.users.province)
    page = client.get(reverse("imports:list")).content.decode()
    assert "达板村民委员会" in page  # the province sees both counties

    for outsider in ("county_b", "city_b", "town_a"):
        client.force_login(getattr(world.users, outsider))
        page = client.get(reverse("imports:list")).content.decode()
        assert (
            "乡镇登记已在别处登记的人员" not in page
            and idcard.mask(elsewhere["head in another county"]) not in page
        )
