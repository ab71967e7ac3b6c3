"""Pairing through the pages: from a household, by proposal, by handover."""

import pytest
from django.urls import reverse

from pairing.models import Cadre, Pairing, Proposal
from tests import factories as f


@pytest.fixture
def unpaired(world):
    return [f.household(world.village_a, f"待帮{i}", members=1) for i in range(3)]


def test_pair_from_the_household_page(client, world, unpaired):
    helper = f.cadre(world.unit_a, "周新来")
    client.force_login(world.users.town_a)
    url = reverse("pairing:pair_household", args=[unpaired[0].pk])
    page = client.get(url)
    assert {c.name for c in page.context["candidates"]} == {"李文华", "周新来"}
    response = client.post(url, {"cadre": helper.pk, "role": "帮扶责任人", "started_on": "2025-07-01"})
    assert response.status_code == 302
    assert Pairing.objects.open().get(household=unpaired[0]).cadre == helper


def test_a_broken_rule_is_shown_and_nothing_written(client, world, unpaired):
    client.force_login(world.users.town_a)
    url = reverse("pairing:pair_household", args=[world.household_a.pk])
    helper = f.cadre(world.unit_a, "周新来")
    response = client.post(
        url, {"cadre": helper.pk, "role": "帮扶责任人", "started_on": "2025-07-01"}, follow=True
    )
    assert "已有帮扶责任人 李文华" in response.content.decode()
    assert not Pairing.objects.filter(cadre=helper).exists()


def test_cadre_of_another_county_is_not_offered(client, world, unpaired):
    client.force_login(world.users.town_a)
    url = reverse("pairing:pair_household", args=[unpaired[0].pk])
    response = client.post(url, {"cadre": world.cadre_b.pk, "role": "帮扶责任人", "started_on": "2025-07-01"})
    assert response.status_code == 200
    assert "cadre" in response.context["form"].errors
    assert not Pairing.objects.filter(cadre=world.cadre_b, household=unpaired[0]).exists()


def test_propose_review_and_apply(client, world, unpaired):
    client.force_login(world.users.town_a)
    response = client.post(
        reverse("pairing:proposal_create"), {"region": world.town_a.code, "started_on": "2025-07-01"}
    )
    proposal = Proposal.objects.get()
    assert response.url == reverse("pairing:proposal_detail", args=[proposal.pk])
    lines = {line.household_id: line for line in proposal.lines.all()}
    assert set(lines) == {h.pk for h in unpaired}
    # 李文华 (一般干部) has 1 of 2 places: one household placed, two explained.
    assert sum(1 for line in lines.values() if line.cadre_id) == 1
    placed = next(line for line in lines.values() if line.cadre_id)
    # The township removes the one line; the county office applies.
    client.post(
        reverse("pairing:proposal_detail", args=[proposal.pk]),
        {f"removed-{placed.pk}": "on", f"cadre-{placed.pk}": placed.cadre_id},
    )
    placed.refresh_from_db()
    assert placed.removed and placed.changed_by == world.users.town_a
    forbidden = client.post(reverse("pairing:proposal_apply", args=[proposal.pk]))
    assert forbidden.status_code == 403
    client.force_login(world.users.county_a)
    client.post(reverse("pairing:proposal_apply", args=[proposal.pk]))
    proposal.refresh_from_db()
    assert proposal.status == "已实施" and proposal.reviewed_by == world.users.county_a
    assert not Pairing.objects.filter(household_id__in=lines).exists()


def test_handover_through_the_pages(client, world):
    successor = f.cadre(world.unit_a, "接任者")
    client.force_login(world.users.unit_a)
    response = client.post(
        reverse("pairing:handover_start", args=[world.cadre_a.pk]),
        {"new_status": "退休", "effective_on": "2025-09-01"},
    )
    handover_url = response.url
    page = client.get(handover_url)
    line = page.context["lines"][0]
    assert line.successor == successor
    client.force_login(world.users.county_a)
    client.post(handover_url.replace("/handovers/", "/handovers/").rstrip("/") + "/apply/")
    world.cadre_a.refresh_from_db()
    assert world.cadre_a.status == Cadre.Status.RETIRED
    assert Pairing.objects.open().get(household=world.household_a).cadre == successor


def test_pair_from_the_cadre_page(client, world, unpaired):
    helper = f.cadre(world.unit_a, "周新来", rank=Cadre.Rank.SECTION)
    client.force_login(world.users.town_a)
    url = reverse("pairing:pair_cadre", args=[helper.pk])
    offered = {h.head_name for h in client.get(url).context["form"].fields["households"].queryset}
    assert {
        "待帮0",
        "待帮1",
        "待帮2",
        "王建国",
    } <= offered and "赵德胜" not in offered  # not a linked village
    response = client.post(
        url,
        {
            "households": [unpaired[0].pk, unpaired[1].pk],
            "cadre": helper.pk,
            "role": "帮扶责任人",
            "started_on": "2025-07-01",
        },
    )
    assert response.status_code == 302
    assert set(Pairing.objects.open().filter(cadre=helper).values_list("household_id", flat=True)) == {
        unpaired[0].pk,
        unpaired[1].pk,
    }


def test_bulk_pairing_is_all_or_nothing(client, world, unpaired):
    staff = f.cadre(world.unit_a, "科员乙")  # 一般干部: two poor households at most
    client.force_login(world.users.town_a)
    url = reverse("pairing:bulk_pair") + f"?village={world.village_a.code}"
    page = client.get(url)
    assert {h.pk for h in page.context["form"].fields["households"].queryset} == {h.pk for h in unpaired}
    data = {
        "households": [h.pk for h in unpaired],
        "cadre": staff.pk,
        "role": "帮扶责任人",
        "started_on": "2025-07-01",
    }
    response = client.post(url, data, follow=True)
    assert "一般干部帮扶贫困户上限" in response.content.decode()
    assert not Pairing.objects.filter(cadre=staff).exists()
    data["households"] = [unpaired[0].pk, unpaired[1].pk]
    assert client.post(url, data).status_code == 302
    assert Pairing.objects.open().filter(cadre=staff).count() == 2


def test_bulk_pairing_of_another_townships_village_is_not_found(client, world):
    client.force_login(world.users.town_b)
    assert client.get(reverse("pairing:bulk_pair"), {"village": world.village_a.code}).status_code == 404
