"""The county's pairing rules, the proposal, applying it, and handovers."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Count, Q

from households.choices import Category
from households.models import Household
from pairing import services
from pairing.models import Cadre, CountyRules, Pairing, PairingException, Proposal, RankLimit
from tests import factories as f

DAY = datetime.date(2025, 7, 1)


@pytest.fixture
def township(world):
    """马营镇 with two linked villages, eight unpaired poor households and three cadres."""
    world.village_a3 = f.region("621121101203", "西堡村民委员会", "village")
    f.link(world.unit_a, world.village_a3)
    world.unpaired = [f.household(world.village_a, f"东关{i}", members=1) for i in range(4)]
    world.unpaired += [f.household(world.village_a3, f"西堡{i}", members=1) for i in range(4)]
    world.ordinary = f.household(world.village_a, "富裕户", members=1, category=Category.ORDINARY)
    world.section = f.cadre(world.unit_a, "科长甲", rank=Cadre.Rank.SECTION)
    world.staff = f.cadre(world.unit_a, "科员乙")
    world.teacher = f.cadre(world.unit_a, "教师丙", category=Cadre.Category.TEACHER)
    return world


def messages(excinfo):
    return " ".join(excinfo.value.messages)


class TestRules:
    def test_exempt_categories_are_the_countys_data(self, township):
        with pytest.raises(services.RuleBroken) as caught:
            services.pair(cadre=township.teacher, household=township.unpaired[0], started_on=DAY)
        assert "豁免人员不联户" in messages(caught) and "教师丙" in messages(caught)
        CountyRules.objects.create(county=township.county_a, exempt_categories=["医务人员"])
        services.pair(cadre=township.teacher, household=township.unpaired[0], started_on=DAY)

    def test_limit_per_rank_names_rule_cadre_and_numbers(self, township):
        services.pair(cadre=township.staff, household=township.unpaired[0], started_on=DAY)
        services.pair(cadre=township.staff, household=township.unpaired[1], started_on=DAY)
        with pytest.raises(services.RuleBroken) as caught:
            services.pair(cadre=township.staff, household=township.unpaired[2], started_on=DAY)
        assert "一般干部帮扶贫困户上限" in messages(caught)
        assert "科员乙 已帮扶 2 户贫困户，上限 2 户" in messages(caught)
        RankLimit.objects.create(
            county=township.county_a, rank=Cadre.Rank.STAFF, max_households=6, max_poor=3
        )
        services.pair(cadre=township.staff, household=township.unpaired[2], started_on=DAY)

    def test_households_must_lie_in_the_units_villages_unless_excepted(self, township):
        with pytest.raises(services.RuleBroken) as caught:
            services.pair(cadre=township.staff, household=township.household_a2, started_on=DAY)
        assert "联系户须在本单位联系村" in messages(caught)
        PairingException.objects.create(
            cadre=township.staff, village=township.village_a2, reason="驻村工作队员"
        )
        services.pair(cadre=township.staff, household=township.household_a2, started_on=DAY)

    def test_responsible_cadre_only_for_poor_households(self, township):
        with pytest.raises(services.RuleBroken, match="只能作为联系户"):
            services.pair(cadre=township.staff, household=township.ordinary, started_on=DAY)
        services.pair(
            cadre=township.staff, household=township.ordinary, started_on=DAY, role=Pairing.Role.CONTACT
        )

    def test_a_second_responsible_cadre_is_named_in_the_refusal(self, township):
        with pytest.raises(services.RuleBroken, match="已有帮扶责任人 李文华"):
            services.pair(cadre=township.staff, household=township.household_a, started_on=DAY)

    def test_cadre_cannot_leave_with_open_pairings(self, township):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError, match="请先办理交接"):
            services.set_cadre_status(cadre=township.cadre_a, status=Cadre.Status.TRANSFERRED)
        township.cadre_a.status = Cadre.Status.TRANSFERRED
        with pytest.raises(ValidationError):
            township.cadre_a.full_clean()


class TestProposal:
    def test_covers_every_household_it_can_and_never_breaks_a_limit(self, township):
        proposal = services.create_proposal(region=township.town_a, started_on=DAY, by=township.users.town_a)
        lines = list(proposal.lines.select_related("cadre"))
        assert {line.household_id for line in lines} == {h.pk for h in township.unpaired}
        placed = [line for line in lines if line.cadre]
        # Capacity: 李文华 (一般, has 1 of 2) + 科员乙 (2) + 科长甲 (科级, 3) = 6; the teacher is exempt.
        assert len(placed) == 6
        per_cadre = {}
        for line in placed:
            per_cadre[line.cadre.name] = per_cadre.get(line.cadre.name, 0) + 1
        assert per_cadre == {"李文华": 1, "科员乙": 2, "科长甲": 3}
        unplaced = [line for line in lines if not line.cadre]
        assert all("均已达到帮扶上限" in line.unplaced_reason for line in unplaced)

    def test_same_result_twice(self, township):
        first = services.create_proposal(region=township.town_a, started_on=DAY, by=township.users.town_a)
        Proposal.objects.filter(pk=first.pk).update(
            status=Proposal.Status.DISCARDED
        )  # else it is returned again
        second = services.create_proposal(region=township.town_a, started_on=DAY, by=township.users.town_a)
        assert second.pk != first.pk

        def as_pairs(proposal):
            return [(line.household_id, line.cadre_id) for line in proposal.lines.order_by("household_id")]

        assert as_pairs(first) == as_pairs(second)

    def test_explains_a_village_without_a_unit(self, township):
        stray = f.household(township.village_a2, "无人联系", members=1)
        f.household(township.village_a, "待结对", members=1)  # placeable, so a proposal is made
        proposal = services.create_proposal(
            region=township.county_a, started_on=DAY, by=township.users.county_a
        )
        reasons = {line.household_id: line.unplaced_reason for line in proposal.lines.all()}
        assert "没有联系单位" in reasons[stray.pk]

    def test_nothing_to_place_makes_no_proposal_and_says_why(self, township):
        f.household(township.village_a2, "无人联系", members=1)
        with pytest.raises(services.NothingToPlace) as caught:
            services.create_proposal(region=township.town_a2, started_on=DAY, by=township.users.county_a)
        assert "未生成方案" in messages(caught) and "鸡川村民委员会没有联系单位" in messages(caught)
        empty = f.region("621121101299", "空村", "village")
        with pytest.raises(services.NothingToPlace, match="空村没有未落实帮扶责任人的贫困户"):
            services.create_proposal(region=empty, started_on=DAY, by=township.users.county_a)
        assert not Proposal.objects.exists()

    def test_a_draft_is_discarded_once_and_an_applied_one_never(self, township):
        proposal = services.create_proposal(region=township.town_a, started_on=DAY, by=township.users.town_a)
        assert services.discard_proposal(proposal=proposal, by=township.users.town_a) is True
        assert services.discard_proposal(proposal=proposal, by=township.users.town_a) is False
        proposal.refresh_from_db()
        assert (proposal.status, proposal.reviewed_by) == ("已作废", township.users.town_a)
        # Discarded, it no longer stands in the way of a new one for the same place and date.
        fresh = services.create_proposal(region=township.town_a, started_on=DAY, by=township.users.town_a)
        assert fresh.pk != proposal.pk
        services.apply_proposal(proposal=fresh, by=township.users.county_a)
        with pytest.raises(ValidationError, match="不能作废"):
            services.discard_proposal(proposal=fresh, by=township.users.county_a)
        with pytest.raises(services.OutOfScope):
            services.discard_proposal(proposal=proposal, by=township.users.town_b)

    def test_apply_opens_the_kept_lines_and_records_the_reviewer(self, township):
        proposal = services.create_proposal(region=township.town_a, started_on=DAY, by=township.users.town_a)
        line = proposal.lines.filter(cadre__isnull=False).first()
        services.change_line(line=line, cadre=None, removed=True, by=township.users.county_a)
        created = services.apply_proposal(proposal=proposal, by=township.users.county_a)
        assert created == 5
        proposal.refresh_from_db()
        assert proposal.status == "已实施" and proposal.reviewed_by == township.users.county_a
        assert not Pairing.objects.open().filter(household_id=line.household_id).exists()
        self.assert_no_limit_broken()

    def test_apply_rechecks_a_concurrent_pairing_and_writes_nothing(self, township):
        proposal = services.create_proposal(region=township.town_a, started_on=DAY, by=township.users.town_a)
        line = proposal.lines.filter(cadre__isnull=False).select_related("household").first()
        meanwhile = f.cadre(township.unit_a, "抢先者", rank=Cadre.Rank.SECTION)
        services.pair(cadre=meanwhile, household=line.household, started_on=DAY)
        before = Pairing.objects.count()
        with pytest.raises(services.RuleBroken) as caught:
            services.apply_proposal(proposal=proposal, by=township.users.county_a)
        assert "已有帮扶责任人 抢先者" in messages(caught)
        assert Pairing.objects.count() == before
        proposal.refresh_from_db()
        assert proposal.status == "待审核"

    @staticmethod
    def assert_no_limit_broken():
        loads = (
            Pairing.objects.open()
            .responsible()
            .values("cadre__rank")
            .annotate(n=Count("pk"))
            .values_list("cadre_id", "cadre__rank", "n")
        )
        limits = {rank: poor for rank, (total, poor) in RankLimit.DEFAULTS.items()}
        for _cadre, rank, count in loads:
            assert count <= limits[rank]


class TestHandover:
    def test_transferred_cadre_hands_households_to_successors_on_one_date(self, township):
        services.pair(cadre=township.staff, household=township.unpaired[0], started_on=DAY)
        handover = services.start_handover(
            cadre=township.staff,
            new_status=Cadre.Status.TRANSFERRED,
            effective_on=datetime.date(2025, 9, 1),
            by=township.users.town_a,
        )
        line = handover.lines.get()
        assert line.successor is not None and line.successor != township.staff
        services.apply_handover(handover=handover, by=township.users.county_a)
        old = Pairing.objects.get(cadre=township.staff)
        assert (old.ended_on, old.end_reason) == (datetime.date(2025, 9, 1), "调动")
        new = Pairing.objects.open().get(household=township.unpaired[0])
        assert new.cadre == line.successor and new.started_on == datetime.date(2025, 9, 1)
        township.staff.refresh_from_db()
        assert township.staff.status == Cadre.Status.TRANSFERRED

    def test_a_contact_household_is_handed_to_a_cadre_with_room(self, township):
        # 联系户 (not poor) take no 帮扶上限 place: the rule check that proposes the successor
        # is the one apply_handover makes, with the pairing's own role.
        services.pair(
            cadre=township.staff, household=township.ordinary, started_on=DAY, role=Pairing.Role.CONTACT
        )
        handover = services.start_handover(
            cadre=township.staff,
            new_status=Cadre.Status.TRANSFERRED,
            effective_on=datetime.date(2025, 9, 1),
            by=township.users.town_a,
        )
        line = handover.lines.get()
        assert line.successor is not None and line.unplaced_reason == ""
        services.apply_handover(handover=handover, by=township.users.county_a)
        assert Pairing.objects.open().get(household=township.ordinary).cadre == line.successor

    def test_the_unplaced_reason_names_the_rule_that_refused(self, township):
        from pairing import matching

        [placement] = matching.place([township.ordinary])  # as a responsible cadre: refused by rule
        assert placement.cadre is None
        assert "帮扶上限" not in placement.reason
        assert "帮扶责任人只联系贫困户（3 名）" in placement.reason
        RankLimit.objects.create(
            county=township.county_a, rank=Cadre.Rank.STAFF, max_households=6, max_poor=0, min_poor=0
        )
        RankLimit.objects.create(
            county=township.county_a, rank=Cadre.Rank.SECTION, max_households=6, max_poor=0, min_poor=0
        )
        [placement] = matching.place([township.unpaired[7]])
        assert placement.reason == "西堡村民委员会联系单位的 3 名可联户干部均已达到帮扶上限"

    def test_a_cadre_already_linked_to_the_household_is_not_its_successor(self, township):
        # The household's 联系干部 helps in its village, which the successor choice prefers: it must
        # be passed over, and chosen by hand it is refused with a message, nothing written.
        household = township.unpaired[0]
        services.pair(cadre=township.staff, household=household, started_on=DAY)
        f.pairing(township.section, household, role=Pairing.Role.CONTACT)
        handover = services.start_handover(
            cadre=township.staff,
            new_status=Cadre.Status.TRANSFERRED,
            effective_on=datetime.date(2025, 9, 1),
            by=township.users.town_a,
        )
        line = handover.lines.get()
        assert line.successor not in (township.section, township.staff)
        services.set_successor(line=line, successor=township.section, by=township.users.town_a)
        before = list(Pairing.objects.order_by("pk").values_list("pk", "ended_on"))
        with pytest.raises(services.RuleBroken) as caught:
            services.apply_handover(handover=handover, by=township.users.county_a)
        assert f"科长甲 已联系 {household}" in messages(caught)
        assert list(Pairing.objects.order_by("pk").values_list("pk", "ended_on")) == before

    def test_handover_without_a_successor_is_refused_whole(self, township):
        lonely = f.cadre(f.unit(township.county_a, "偏远站"), "独行者")
        village = f.region("621121101204", "偏远村", "village")
        f.link(lonely.unit, village)
        household = f.household(village, "偏远户", members=1)
        services.pair(cadre=lonely, household=household, started_on=DAY)
        handover = services.start_handover(
            cadre=lonely,
            new_status=Cadre.Status.RETIRED,
            effective_on=datetime.date(2025, 9, 1),
            by=township.users.town_a,
        )
        assert handover.lines.get().successor is None
        with pytest.raises(services.RuleBroken, match="尚未确定接任干部"):
            services.apply_handover(handover=handover, by=township.users.county_a)
        assert Pairing.objects.open().filter(cadre=lonely).count() == 1
        lonely.refresh_from_db()
        assert lonely.status == Cadre.Status.ACTIVE


def test_independent_count_of_unpaired_poor(township):
    from pairing.matching import unpaired_poor_households

    expected = (
        Household.objects.filter(village__code__startswith=township.town_a.prefix, status="在册")
        .poor()
        .annotate(n=Count("pairings", filter=Q(pairings__ended_on__isnull=True, pairings__role="帮扶责任人")))
        .filter(n=0)
    )
    assert sorted(h.pk for h in unpaired_poor_households(township.town_a.prefix)) == sorted(
        h.pk for h in expected
    )
