"""The inspections models in the admin: every list opens for every role, scoped like the pages,
read-only (the services write them), and in a fixed number of queries."""

import pytest
from django.urls import reverse

from inspections import services
from inspections.models import Flag, RectificationEvidence
from tests.queries import count_queries
from tests.test_inspections import _flag, _inspect

CHANGELISTS = [
    "inspections_flag",
    "inspections_flagrun",
    "inspections_inspection",
    "inspections_finding",
    "inspections_rectification",
    "inspections_noticeposting",
    "inspections_typicalcase",
]
ROLES = ["admin", "province", "city_a", "county_a", "town_a", "unit_a"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def changelist(model):
    return reverse(f"admin:{model}_changelist")


def _confirmed(world, key="away:x"):
    flag = _flag(world)
    flag = services.review_flag(by=world.users.county_a, flag=flag, confirm=True, note="核实")
    item = flag.finding.rectifications.get()
    RectificationEvidence.objects.create(
        rectification=item,
        name="照片.png",
        size=len(PNG),
        sha256="a",
        content=PNG,
        uploaded_by=world.users.town_a,
    )
    return flag, item


@pytest.mark.parametrize("model", CHANGELISTS)
@pytest.mark.parametrize("username", ROLES)
def test_every_changelist_opens_for_every_role(client, world, model, username):
    client.force_login(getattr(world.users, username))
    assert client.get(changelist(model)).status_code == 200


def test_flags_are_scoped_and_hidden_from_unit_liaisons(client, world):
    flag, _item = _confirmed(world)
    for username, shown in (("county_a", True), ("town_a", True), ("county_b", False), ("unit_a", False)):
        client.force_login(getattr(world.users, username))
        result = list(client.get(changelist("inspections_flag")).context["cl"].result_list)
        assert (flag in result) is shown, username
    client.force_login(world.users.county_b)
    response = client.get(reverse("admin:inspections_flag_change", args=[flag.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_the_pages_are_read_only_even_for_the_province(client, world):
    flag, item = _confirmed(world)
    client.force_login(world.users.province)
    page = client.get(reverse("admin:inspections_rectification_change", args=[item.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and 'name="_save"' not in body
    assert "照片.png" in body  # the evidence files under their item
    assert client.get(reverse("admin:inspections_flag_add")).status_code == 403
    url = reverse("admin:inspections_flag_change", args=[flag.pk])
    assert client.post(url, {"status": "已排除", "review_note": "改"}).status_code == 403
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED
    client.force_login(world.users.admin)
    assert client.get(reverse("admin:inspections_flag_delete", args=[flag.pk])).status_code == 403


def test_an_inspection_shows_its_sample(client, world):
    inspection = _inspect(world)
    client.force_login(world.users.county_a)
    response = client.get(reverse("admin:inspections_inspection_change", args=[inspection.pk]))
    assert response.status_code == 200 and "抽查走访" in response.content.decode()
    client.force_login(world.users.town_b)
    response = client.get(reverse("admin:inspections_inspection_change", args=[inspection.pk]))
    assert response.status_code == 302


def _grow(world, inspection, rows):
    for _n in range(rows):
        number = Flag.objects.count()
        Flag.objects.create(
            kind=Flag.Kind.AWAY,
            key=f"away:grow{number}",
            village=world.village_a,
            cadre=world.cadre_a,
            reason="外出",
            reviewed_by=world.users.county_a,
        )
        finding = services.add_finding(
            by=world.users.county_a,
            inspection=inspection,
            text=f"问题{number}",
            township=world.town_a,
            requirement="整改",
            due_on=inspection.ends_on,
        )
        RectificationEvidence.objects.create(
            rectification=finding.rectifications.get(),
            name="照片.png",
            size=len(PNG),
            sha256="a",
            content=PNG,
            uploaded_by=world.users.town_a,
        )


@pytest.mark.parametrize("model", ["inspections_flag", "inspections_rectification", "inspections_finding"])
def test_changelist_query_count_does_not_grow(client, world, model):
    client.force_login(world.users.admin)
    inspection = _inspect(world)
    _grow(world, inspection, 1)
    url = changelist(model)
    client.get(url)  # warm the per-process caches
    few = count_queries(client, url)
    _grow(world, inspection, 5)
    assert count_queries(client, url) == few
