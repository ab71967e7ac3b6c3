"""An office acts only on pairings of households it may see (issue 11, fix first 1).

The case from the security review: a province-level unit links a village of 东乡 (county B) and one
of 通渭 (county A); one of its cadres helps a household on each side. 通渭's office sees the cadre, so
it may start a handover, but it may end and open only the 通渭 pairing; the 东乡 line waits in 东乡's
inbox. A township likewise sees another township's households of a cadre only as a count.
"""

import datetime

import pytest
from django.urls import reverse

from pairing import services
from pairing.models import Cadre, Handover, HandoverLine, Pairing
from tests import factories as f

DAY = datetime.date(2025, 9, 1)


@pytest.fixture
def crossing(world):
    """A province unit linking a village on each side, its cadre helping one household on each side."""
    world.province_unit = f.unit(world.province, "省财政厅", level="province")
    f.link(world.province_unit, world.village_a)
    f.link(world.province_unit, world.village_b)
    world.leaving = f.cadre(world.province_unit, "省厅干部")
    world.household_a3 = f.household(world.village_a, "通渭户", members=1)
    world.household_b2 = f.household(world.village_b, "东乡户", members=1)
    world.pairing_a = f.pairing(world.leaving, world.household_a3)
    world.pairing_b = f.pairing(world.leaving, world.household_b2)
    return world


def line_for(handover, household):
    return handover.lines.get(pairing__household=household)


class TestCountyHandover:
    def test_county_office_applies_only_its_own_lines(self, crossing):
        w = crossing
        handover = services.start_handover(
            cadre=w.leaving, new_status="调离", effective_on=DAY, by=w.users.county_a
        )
        # Even a successor written straight into the line (as the reviewer's POST did) is not applied.
        HandoverLine.objects.filter(pk=line_for(handover, w.household_b2).pk).update(successor=w.cadre_b)
        HandoverLine.objects.filter(pk=line_for(handover, w.household_a3).pk).update(successor=w.cadre_a)
        services.apply_handover(handover=handover, by=w.users.county_a)

        w.pairing_b.refresh_from_db()
        assert w.pairing_b.is_open and w.pairing_b.end_reason == ""
        assert not Pairing.objects.filter(household=w.household_b2, created_by=w.users.county_a).exists()
        w.pairing_a.refresh_from_db()
        assert (w.pairing_a.ended_on, w.pairing_a.end_reason) == (DAY, "调动")
        assert Pairing.objects.open().get(household=w.household_a3).cadre == w.cadre_a
        handover.refresh_from_db()
        assert handover.status == Handover.Status.PARTIAL
        w.leaving.refresh_from_db()
        assert w.leaving.status == Cadre.Status.ACTIVE  # still helps the 东乡 household

    def test_the_other_line_waits_for_the_office_that_sees_it(self, crossing, client):
        w = crossing
        handover = services.start_handover(
            cadre=w.leaving, new_status="调离", effective_on=DAY, by=w.users.county_a
        )
        services.apply_handover(handover=handover, by=w.users.county_a)

        client.force_login(w.users.county_b)
        inbox = client.get(reverse("pairing:proposal_list")).context["waiting_handovers"]
        assert [(h.pk, h.waiting) for h in inbox] == [(handover.pk, 1)]
        client.force_login(w.users.county_a)
        assert list(client.get(reverse("pairing:proposal_list")).context["waiting_handovers"]) == []

        client.force_login(w.users.county_b)
        page = client.get(reverse("pairing:handover_detail", args=[handover.pk]))
        assert [line.pairing.household for line in page.context["lines"]] == [w.household_b2]
        assert page.context["elsewhere"] == 1
        line = line_for(handover, w.household_b2)
        client.post(
            reverse("pairing:handover_detail", args=[handover.pk]), {f"successor-{line.pk}": w.cadre_b.pk}
        )
        client.post(reverse("pairing:handover_apply", args=[handover.pk]))

        assert Pairing.objects.open().get(household=w.household_b2).cadre == w.cadre_b
        assert Pairing.objects.open().get(household=w.household_b2).created_by == w.users.county_b
        handover.refresh_from_db()
        assert handover.status == Handover.Status.APPLIED
        w.leaving.refresh_from_db()
        assert w.leaving.status == Cadre.Status.TRANSFERRED
        assert list(client.get(reverse("pairing:proposal_list")).context["waiting_handovers"]) == []

    def test_county_pages_neither_list_nor_set_the_other_countys_line(self, crossing, client):
        w = crossing
        client.force_login(w.users.county_a)
        response = client.post(
            reverse("pairing:handover_start", args=[w.leaving.pk]),
            {"new_status": "调离", "effective_on": "2025-09-01"},
        )
        handover = Handover.objects.get(cadre=w.leaving)
        assert response.url == reverse("pairing:handover_detail", args=[handover.pk])
        page = client.get(response.url)
        assert [line.pairing.household for line in page.context["lines"]] == [w.household_a3]
        assert "东乡户" not in page.content.decode() and "另有 1 户在其他乡镇/县" in page.content.decode()
        hidden = line_for(handover, w.household_b2)
        before = hidden.successor_id
        client.post(response.url, {f"successor-{hidden.pk}": w.cadre_b.pk})
        hidden.refresh_from_db()
        assert hidden.successor_id == before
        client.post(reverse("pairing:handover_apply", args=[handover.pk]))
        assert Pairing.objects.open().get(household=w.household_b2) == w.pairing_b

    def test_a_handover_with_no_line_in_scope_is_refused_and_writes_nothing(self, crossing):
        w = crossing
        services.end_relation(relation=w.pairing_a, ended_on=DAY, reason="调整")
        handover = services.start_handover(
            cadre=w.leaving, new_status="调离", effective_on=DAY, by=w.users.county_a
        )
        HandoverLine.objects.filter(handover=handover).update(successor=w.cadre_b)
        with pytest.raises(services.RuleBroken, match="没有您辖区内待实施"):
            services.apply_handover(handover=handover, by=w.users.county_a)
        w.pairing_b.refresh_from_db()
        assert w.pairing_b.is_open
        handover.refresh_from_db()
        assert handover.status == Handover.Status.DRAFT

    def test_starting_twice_reuses_the_waiting_handover(self, crossing):
        w = crossing
        first = services.start_handover(
            cadre=w.leaving, new_status="调离", effective_on=DAY, by=w.users.county_a
        )
        second = services.start_handover(
            cadre=w.leaving, new_status="调离", effective_on=DAY, by=w.users.county_b
        )
        assert first == second and first.lines.count() == 2

    def test_a_line_whose_pairing_ended_meanwhile_opens_nothing(self, crossing):
        w = crossing
        handover = services.start_handover(
            cadre=w.leaving, new_status="退休", effective_on=DAY, by=w.users.county_a
        )
        services.apply_handover(handover=handover, by=w.users.county_a)
        services.end_relation(relation=w.pairing_b, ended_on=DAY, reason="户迁出", by=w.users.town_b)
        services.apply_handover(handover=handover, by=w.users.county_b)
        assert not Pairing.objects.open().filter(household=w.household_b2).exists()
        w.pairing_b.refresh_from_db()
        assert w.pairing_b.end_reason == "户迁出"
        handover.refresh_from_db()
        assert handover.status == Handover.Status.APPLIED

    def test_successor_is_set_only_on_waiting_lines_in_scope(self, crossing):
        w = crossing
        handover = services.start_handover(
            cadre=w.leaving, new_status="调离", effective_on=DAY, by=w.users.county_a
        )
        with pytest.raises(services.OutOfScope):
            services.set_successor(
                line=line_for(handover, w.household_b2), successor=None, by=w.users.county_a
            )
        services.apply_handover(handover=handover, by=w.users.county_a)
        with pytest.raises(services.ValidationError, match="已实施"):
            services.set_successor(
                line=line_for(handover, w.household_a3), successor=None, by=w.users.county_a
            )

    def test_the_pages_say_what_is_left_and_where(self, crossing, client):
        w = crossing
        handover = services.start_handover(
            cadre=w.leaving, new_status="调离", effective_on=DAY, by=w.users.county_a
        )
        client.force_login(w.users.county_a)
        response = client.post(reverse("pairing:handover_apply", args=[handover.pk]), follow=True)
        assert "已实施本辖区 1 户的交接" in response.content.decode()
        client.force_login(w.users.county_b)
        html = client.get(reverse("pairing:proposal_list")).content.decode()
        assert "待办交接" in html and reverse("pairing:handover_detail", args=[handover.pk]) in html
        assert (
            "通渭户"
            not in client.get(reverse("pairing:handover_detail", args=[handover.pk])).content.decode()
        )


class TestTownshipScope:
    @pytest.fixture
    def spread(self, world):
        """cadre_a (a county unit) helps a household in 马营镇 and, by exception, one in 鸡川镇."""
        from pairing.models import PairingException

        PairingException.objects.create(cadre=world.cadre_a, village=world.village_a2, reason="驻村")
        world.pairing_a2 = f.pairing(world.cadre_a, world.household_a2)
        return world

    def test_cadre_page_shows_other_townships_households_only_as_a_count(self, spread, client):
        w = spread
        client.force_login(w.users.town_a)
        response = client.get(reverse("pairing:cadre_detail", args=[w.cadre_a.pk]))
        html = response.content.decode()
        assert [p.household for p in response.context["current_pairings"]] == [w.household_a]
        assert "赵德胜" not in html
        assert reverse("households:detail", args=[w.household_a2.pk]) not in html
        assert "另有 1 户在其他乡镇/县" in html
        client.force_login(w.users.county_a)
        html = client.get(reverse("pairing:cadre_detail", args=[w.cadre_a.pk])).content.decode()
        assert "赵德胜" in html and "另有" not in html

    def test_past_pairings_elsewhere_are_counted_too(self, spread, client):
        w = spread
        services.end_relation(relation=w.pairing_a2, ended_on=DAY, reason="调整", by=w.users.county_a)
        client.force_login(w.users.town_a)
        response = client.get(reverse("pairing:cadre_detail", args=[w.cadre_a.pk]))
        assert response.context["past_pairings"] == [] and response.context["past_elsewhere"] == 1
        assert "赵德胜" not in response.content.decode()

    def test_handover_started_by_a_township_lists_only_its_lines(self, spread, client):
        w = spread
        client.force_login(w.users.town_a)
        response = client.post(
            reverse("pairing:handover_start", args=[w.cadre_a.pk]),
            {"new_status": "调离", "effective_on": "2025-09-01"},
        )
        page = client.get(response.url)
        assert [line.pairing.household for line in page.context["lines"]] == [w.household_a]
        assert "赵德胜" not in page.content.decode() and page.context["elsewhere"] == 1
        # The county office sees and applies both.
        client.force_login(w.users.county_a)
        page = client.get(response.url)
        assert {line.pairing.household for line in page.context["lines"]} == {w.household_a, w.household_a2}


class TestOtherWritePaths:
    def test_pair_refuses_a_household_the_actor_cannot_see(self, world):
        household = f.household(world.village_b, "东乡新户", members=1)
        with pytest.raises(services.OutOfScope):
            services.pair(cadre=world.cadre_b, household=household, started_on=DAY, by=world.users.town_a)
        with pytest.raises(services.OutOfScope):
            services.pair_many(
                cadre=world.cadre_b, households=[household], started_on=DAY, by=world.users.county_a
            )
        assert not Pairing.objects.filter(household=household).exists()
        services.pair(cadre=world.cadre_b, household=household, started_on=DAY, by=world.users.town_b)

    def test_end_pairing_refuses_a_household_the_actor_cannot_see(self, world):
        pairing = Pairing.objects.get(household=world.household_b)
        with pytest.raises(services.OutOfScope):
            services.end_relation(relation=pairing, ended_on=DAY, reason="调整", by=world.users.county_a)
        pairing.refresh_from_db()
        assert pairing.is_open

    def test_proposals_stay_within_the_actors_scope(self, world):
        f.household(world.village_b, "东乡待帮", members=1)
        with pytest.raises(services.OutOfScope):
            services.create_proposal(region=world.town_b, started_on=DAY, by=world.users.county_a)
        proposal = services.create_proposal(region=world.town_b, started_on=DAY, by=world.users.town_b)
        line = proposal.lines.get()
        with pytest.raises(services.OutOfScope):
            services.change_line(line=line, cadre=None, removed=True, by=world.users.town_a)
        with pytest.raises(services.OutOfScope):
            services.apply_proposal(proposal=proposal, by=world.users.county_a)
        assert not Pairing.objects.filter(household=line.household).exists()
        proposal.refresh_from_db()
        assert proposal.status == "待审核"
        assert services.apply_proposal(proposal=proposal, by=world.users.county_b) == 1

    def test_the_admin_ends_only_pairings_in_scope(self, world, client):
        pairing = Pairing.objects.get(household=world.household_b)
        client.force_login(world.users.town_a)
        url = reverse("admin:pairing_pairing_change", args=[pairing.pk])
        assert client.post(url, {"ended_on": "2025-09-01", "end_reason": "调整"}).status_code in (
            302,
            403,
            404,
        )
        pairing.refresh_from_db()
        assert pairing.is_open


def test_handovers_applied_before_the_change_have_their_lines_applied(world):
    """The fill_ migration: a handover applied whole before lines were applied one office at a time."""
    import importlib

    from django.apps import apps
    from django.utils import timezone

    fill = importlib.import_module("pairing.migrations.0005_fill_handover_lines_applied").fill
    handover = services.start_handover(
        cadre=world.cadre_a, new_status="调离", effective_on=DAY, by=world.users.town_a
    )
    waiting = services.start_handover(
        cadre=world.cadre_b, new_status="调离", effective_on=DAY, by=world.users.town_b
    )
    applied_at = timezone.now()
    Handover.objects.filter(pk=handover.pk).update(
        status="已实施", applied_by=world.users.county_a, applied_at=applied_at
    )
    fill(apps, None)
    line = handover.lines.get()
    assert (line.applied_by, line.applied_at) == (world.users.county_a, applied_at)
    assert waiting.lines.get().applied_at is None
