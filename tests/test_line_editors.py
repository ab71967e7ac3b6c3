"""The proposal and handover line editors: formsets of one form per line, saved by one service call
in one transaction (pairing.review.save_edits); and 确认导入 as a service (imports.services)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from imports import services as import_services
from imports.models import ImportBatch
from pairing import services
from pairing.forms import HandoverLineFormSet, ProposalLineFormSet
from pairing.models import Cadre, HandoverLine, Pairing, Proposal
from tests import factories as f

DAY = "2025-07-01"


@pytest.fixture
def proposal(world):
    for index in range(3):
        f.household(world.village_a, f"待帮{index}", members=1)
    f.cadre(world.unit_a, "周新来", rank=Cadre.Rank.SECTION)
    made = services.create_proposal(
        region=world.town_a, started_on=timezone.localdate(), by=world.users.town_a
    )
    return Proposal.objects.get(pk=made.pk)


def lines_of(proposal):
    return {line.household.head_name: line for line in proposal.lines.select_related("household")}


def test_the_formset_names_each_field_by_its_line(world, proposal):
    lines = list(proposal.lines.select_related("household", "cadre__unit"))
    formset = ProposalLineFormSet(lines=lines, form_kwargs={"candidates": {}})
    html = str(formset.forms[0])
    assert f'name="cadre-{lines[0].pk}"' in html and f'name="removed-{lines[0].pk}"' in html
    # No management form: the lines are the server's, posted choices are matched by line.
    bound = ProposalLineFormSet({}, lines=lines, form_kwargs={"candidates": {}})
    assert bound.is_valid(), bound.non_form_errors()
    assert [line for line, _values in bound.edits()] == lines


def test_a_cadre_no_longer_a_candidate_is_no_cadre(client, world, proposal):
    """As before the formset: a choice the page offered but the server no longer does clears the line."""
    line = next(line for line in lines_of(proposal).values() if line.cadre_id)
    client.force_login(world.users.town_a)
    response = client.post(
        reverse("pairing:proposal_detail", args=[proposal.pk]), {f"cadre-{line.pk}": world.cadre_b.pk}
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.cadre_id is None and line.changed_by == world.users.town_a


def test_the_lines_are_saved_all_or_none(world, proposal):
    lines = list(lines_of(proposal).values())
    first, second = lines[0], lines[1]
    # The second line's household is outside the county office's colleague's scope: refused.
    outsider = world.users.town_b
    changes = [(first, {"cadre": None, "removed": True}), (second, {"cadre": None, "removed": True})]
    with pytest.raises(ValidationError):
        services.change_lines(changes=changes, by=outsider)
    assert not Proposal.objects.get(pk=proposal.pk).lines.filter(removed=True).exists()
    assert services.change_lines(changes=changes, by=world.users.town_a) == 2
    # Saving the same choices again changes nothing and says so.
    again = [(line, {"cadre": None, "removed": True}) for line in proposal.lines.all()[:2]]
    assert services.change_lines(changes=again, by=world.users.town_a) == 0


def test_a_refused_save_is_a_message_not_an_error_page(client, world, proposal, monkeypatch):
    """A line refused while saving (here: applied by another office meanwhile) was a 500."""

    def refuse(**kwargs):
        raise ValidationError("方案已已实施，不能再修改")

    monkeypatch.setattr(services, "change_lines", refuse)
    client.force_login(world.users.town_a)
    line = next(iter(lines_of(proposal).values()))
    response = client.post(
        reverse("pairing:proposal_detail", args=[proposal.pk]), {f"removed-{line.pk}": "on"}, follow=True
    )
    assert response.status_code == 200
    assert "方案已已实施，不能再修改" in response.content.decode()


@pytest.fixture
def handover(world):
    f.cadre(world.unit_a, "接任者")
    return services.start_handover(
        cadre=world.cadre_a,
        new_status=Cadre.Status.TRANSFERRED,
        effective_on=timezone.localdate(),
        by=world.users.unit_a,
    )


def test_the_handover_page_renders_and_saves_successors(client, world, handover):
    other = f.cadre(world.unit_a, "另一位")
    line = HandoverLine.objects.get(handover=handover)
    client.force_login(world.users.unit_a)
    url = reverse("pairing:handover_detail", args=[handover.pk])
    page = client.get(url).content.decode()
    assert f'name="successor-{line.pk}"' in page and 'aria-label="王建国的接任干部"' in page
    response = client.post(url, {f"successor-{line.pk}": other.pk}, follow=True)
    assert "已保存接任安排" in response.content.decode()
    line.refresh_from_db()
    assert line.successor == other


def test_successors_are_saved_all_or_none(world, handover):
    line = HandoverLine.objects.select_related("pairing__household").get(handover=handover)
    second_pairing = f.pairing(world.cadre_a, f.household(world.village_a, "第二户", members=1))
    handover = services.start_handover(
        cadre=world.cadre_a,
        new_status=Cadre.Status.TRANSFERRED,
        effective_on=timezone.localdate(),
        by=world.users.unit_a,
    )
    added = HandoverLine.objects.select_related("pairing__household").get(pairing=second_pairing)
    added.applied_at = timezone.now()  # applied by another office meanwhile: refused
    HandoverLine.objects.filter(pk=added.pk).update(applied_at=added.applied_at)
    with pytest.raises(ValidationError):
        services.set_successors(
            choices=[(line, {"successor": None}), (added, {"successor": None})], by=world.users.unit_a
        )
    line.refresh_from_db()
    assert line.successor_id is not None


def test_the_handover_formset_only_holds_the_lines_it_is_given(world, handover):
    lines = list(HandoverLine.objects.select_related("pairing__household").filter(handover=handover))
    formset = HandoverLineFormSet(
        {"successor-999999": world.cadre_b.pk}, lines=lines, form_kwargs={"candidates": {}}
    )
    assert formset.is_valid()
    assert [(line.pk, values) for line, values in formset.edits()] == [(lines[0].pk, {"successor": None})]


def test_pair_many_names_an_already_paired_household(world):
    helper = f.cadre(world.unit_a, "周新来", rank=Cadre.Rank.SECTION)
    with pytest.raises(services.RuleBroken, match="王建国户 已有帮扶责任人 李文华"):
        services.pair_many(cadre=helper, households=[world.household_a], started_on=timezone.localdate())
    assert not Pairing.objects.filter(cadre=helper).exists()


def checked_batch(world):
    return ImportBatch.objects.create(
        kind=ImportBatch.Kind.HOUSEHOLDS,
        filename="名册.xlsx",
        size=1,
        sha256="0" * 64,
        content=b"x",
        created_by=world.users.town_a,
        status=ImportBatch.Status.CHECKED,
        scope_code=world.town_a.code[:9],
    )


def test_confirm_batch_confirms_once(world):
    batch = checked_batch(world)
    assert import_services.confirm_batch(batch=batch, user=world.users.town_a) is True
    assert batch.status == ImportBatch.Status.APPLYING and batch.confirmed_by == world.users.town_a
    again = ImportBatch.objects.get(pk=batch.pk)
    assert import_services.confirm_batch(batch=again, user=world.users.town_a) is False
    assert again.status == ImportBatch.Status.APPLYING


def test_confirm_batch_refuses_a_deleted_file_or_another_status(world):
    batch = checked_batch(world)
    batch.content_deleted_at = timezone.now()
    with pytest.raises(import_services.NotAllowed, match="已在保留期满后删除"):
        import_services.confirm_batch(batch=batch, user=world.users.town_a)
    refused = checked_batch(world)
    ImportBatch.objects.filter(pk=refused.pk).update(status=ImportBatch.Status.REFUSED)
    with pytest.raises(import_services.NotAllowed, match="不能导入"):
        import_services.confirm_batch(batch=refused, user=world.users.town_a)
    assert ImportBatch.objects.get(pk=refused.pk).status == ImportBatch.Status.REFUSED
