"""Work that must not get stuck: proposals with nothing to place, cancelling a draft,
demands at a unit without a liaison, and the offices' inbox (issue 16, items 3, 5, 6, 8)."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from pairing.models import Proposal
from pairing import services as pairing_services
from tests import factories as f

DAY = datetime.date(2025, 7, 1)


def shown(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


class TestProposalPages:
    def test_nothing_to_place_is_refused_with_the_reason(self, client, world):
        f.household(world.village_a2, "无人联系", members=1)
        client.force_login(world.users.county_a)
        response = client.post(
            reverse("pairing:proposal_create"), {"region": world.town_a2.code, "started_on": "2025-07-01"}
        )
        assert response.status_code == 302 and response.url == reverse("pairing:proposal_list")
        assert "鸡川村民委员会没有联系单位" in shown(response)
        assert not Proposal.objects.exists()

    def test_discard_pressed_twice_discards_once(self, client, world):
        f.household(world.village_a, "待结对", members=1)
        proposal = pairing_services.create_proposal(region=world.town_a, started_on=DAY, by=world.users.town_a)
        client.force_login(world.users.town_a)
        page = client.get(reverse("pairing:proposal_detail", args=[proposal.pk]))
        assert "作废方案" in page.content.decode()
        url = reverse("pairing:proposal_discard", args=[proposal.pk])
        first, second = client.post(url), client.post(url)
        assert first.url == second.url == reverse("pairing:proposal_detail", args=[proposal.pk])
        assert "方案已作废，重复的提交未再办理" in shown(second)
        proposal.refresh_from_db()
        assert proposal.status == Proposal.Status.DISCARDED
        assert "作废方案" not in client.get(first.url).content.decode()


class TestDemandAtALevelWithoutAnAccount:
    """A demand at a 帮扶单位 with no liaison account: the township acts for it, then the county."""

    @pytest.fixture
    def at_unit(self, world):
        from demands import services
        from demands.models import Level

        demand = services.raise_demand(household=world.household_a, category="住房", text="危房改造", by=world.users.town_a)
        services.escalate(demand=demand, by=world.users.town_a, text="需单位协调")
        demand.refresh_from_db()
        assert demand.level == Level.UNIT
        return demand

    def test_with_a_liaison_only_the_unit_acts(self, world, at_unit):
        from demands import services

        assert services.may_act(world.users.unit_a, at_unit)
        assert not services.may_act(world.users.town_a, at_unit)
        assert not services.may_act(world.users.county_a, at_unit)
        assert not at_unit.__class__.objects.unattended().exists()

    def test_without_a_liaison_the_township_acts_and_the_path_says_for_whom(self, client, world, at_unit):
        from demands.models import Demand

        world.users.unit_a.is_active = False
        world.users.unit_a.save(update_fields=["is_active"])
        assert list(Demand.objects.unattended()) == [at_unit]
        client.force_login(world.users.town_a)
        page = client.get(reverse("demands:detail", args=[at_unit.pk])).content.decode()
        assert "由您代通渭县农业农村局办理" in page
        seen = at_unit.actions.order_by("-pk").first().pk
        response = client.post(
            reverse("demands:act", args=[at_unit.pk]), {"kind": "办结", "text": "已协调解决", "seen": seen}
        )
        assert response.status_code == 302
        action = at_unit.actions.order_by("-pk").first()
        assert (action.kind, action.by, action.acting_for) == ("办结", world.users.town_a, "通渭县农业农村局")
        assert "（代通渭县农业农村局办理）" in client.get(response.url).content.decode()
        # The county office is not asked while the township can act.
        client.force_login(world.users.county_a)
        assert "由您代" not in client.get(response.url).content.decode()

    def test_without_a_liaison_nor_township_staff_the_county_acts(self, client, world, at_unit):
        from demands import services
        from demands.models import Demand

        for user in (world.users.unit_a, world.users.town_a):
            user.is_active = False
            user.save(update_fields=["is_active"])
        assert not services.may_act(world.users.town_b, at_unit)
        assert services.may_act(world.users.county_a, at_unit)
        assert not services.may_act(world.users.county_b, at_unit)
        action = services.reply(demand=at_unit, by=world.users.county_a, text="县里协调")
        assert action.acting_for == "通渭县农业农村局"
        client.force_login(world.users.county_a)
        listed = client.get(reverse("demands:list"), {"unattended": "on"}).content.decode()
        assert "危房改造" in listed
        assert Demand.objects.visible_to(world.users.county_b).unattended().count() == 0

    def test_a_township_level_demand_without_township_staff_goes_to_the_county(self, world, at_unit):
        from demands import services

        services.escalate(demand=at_unit, by=world.users.unit_a, text="单位办不了")
        at_unit.refresh_from_db()
        assert not services.may_act(world.users.county_a, at_unit)
        world.users.town_a.is_active = False
        world.users.town_a.save(update_fields=["is_active"])
        action = services.accept(demand=at_unit, by=world.users.county_a)
        assert action.acting_for == "乡镇双联办"
