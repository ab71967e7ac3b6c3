"""Work that must not get stuck: proposals with nothing to place, cancelling a draft,
demands at a unit without a liaison, and the offices' inbox (issue 16, items 3, 5, 6, 8)."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from pairing import services as pairing_services
from pairing.models import Proposal
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
        proposal = pairing_services.create_proposal(
            region=world.town_a, started_on=DAY, by=world.users.town_a
        )
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

        demand = services.raise_demand(
            household=world.household_a, category="住房", text="危房改造", by=world.users.town_a
        )
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


def todo_counts(response) -> dict[str, int]:
    """The to-do figures, less the monthly reports' (tests/test_reports_due.py: they follow the calendar)."""
    return {item.key: item.count for item in response.context["todo"] if not item.key.startswith("report")}


class TestInboxAndHome:
    """The home page is each role's to-do list; /inbox/ lists what waits for the office."""

    def _work(self, world):
        """A proposal to review, a handover to apply, and an overdue demand at the township."""
        from demands import services as demand_services
        from demands.models import Demand, Level

        f.household(world.village_a, "待结对", members=1)
        proposal = pairing_services.create_proposal(
            region=world.town_a, started_on=DAY, by=world.users.town_a
        )
        handover = pairing_services.start_handover(
            cadre=world.cadre_a, new_status="调离", effective_on=DAY, by=world.users.town_a
        )
        demand = demand_services.raise_demand(
            household=world.household_a, category="医疗", text="看病难", by=world.users.town_a
        )
        Demand.objects.filter(pk=demand.pk).update(due_on=datetime.date(2025, 1, 1), level=Level.TOWNSHIP)
        return proposal, handover, demand

    def test_county_home_counts_link_to_the_inbox_which_lists_them(self, client, world):
        proposal, handover, _demand = self._work(world)
        client.force_login(world.users.county_a)
        home = client.get(reverse("home"))
        counts = todo_counts(home)
        assert counts == {"demands": 0, "overdue": 0, "unattended": 0, "proposals": 1, "handovers": 1}
        body = home.content.decode()
        assert f'href="{reverse("inbox")}#proposals"' in body and "待审核的结对方案" in body
        inbox = client.get(reverse("inbox"))
        assert todo_counts(inbox) == counts
        page = inbox.content.decode()
        assert reverse("pairing:proposal_detail", args=[proposal.pk]) in page
        assert reverse("pairing:handover_detail", args=[handover.pk]) in page
        # The other county's office has nothing waiting.
        client.force_login(world.users.county_b)
        assert todo_counts(client.get(reverse("inbox")))["proposals"] == 0

    def test_township_home_counts_stale_households_and_its_demands(self, client, world):
        self._work(world)
        client.force_login(world.users.town_a)
        counts = todo_counts(client.get(reverse("home")))
        assert counts["stale"] == 1  # 王建国, paired and never visited
        assert (counts["demands"], counts["overdue"]) == (1, 1)
        assert "proposals" not in counts and counts["handovers"] == 1
        body = client.get(reverse("home")).content.decode()
        assert reverse("visits:worklist", args=["stale"]) in body
        assert f'{reverse("demands:list")}?mine=on&amp;overdue=on' in body

    def test_the_county_counts_what_it_acts_for(self, client, world):
        _proposal, _handover, demand = self._work(world)
        world.users.town_a.is_active = False
        world.users.town_a.save(update_fields=["is_active"])
        client.force_login(world.users.county_a)
        counts = todo_counts(client.get(reverse("home")))
        assert (counts["demands"], counts["overdue"], counts["unattended"]) == (1, 1, 1)
        listed = client.get(reverse("demands:list"), {"unattended": "on"}).context["page"]
        assert [row.pk for row in listed] == [demand.pk]

    def test_a_liaison_has_no_office_figures(self, client, world):
        client.force_login(world.users.unit_a)
        assert set(todo_counts(client.get(reverse("home")))) == {"demands", "overdue"}

    @pytest.mark.parametrize("username", ["town_a", "county_a"])
    def test_home_and_inbox_queries_do_not_grow_with_the_work(self, client, world, username):
        from tests.queries import count_queries

        client.force_login(getattr(world.users, username))
        before = {url: count_queries(client, url) for url in (reverse("home"), reverse("inbox"))}
        self._work(world)
        other = f.cadre(world.unit_a, "另一名")
        f.pairing(other, f.household(world.village_a, "又一户", members=1))
        pairing_services.start_handover(
            cadre=other, new_status="退休", effective_on=DAY, by=world.users.town_a
        )
        f.household(world.village_a, "再一户", members=1)
        pairing_services.create_proposal(region=world.county_a, started_on=DAY, by=world.users.county_a)
        assert {url: count_queries(client, url) for url in before} == before
