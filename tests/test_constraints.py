"""Rules the database itself enforces, whatever form or script writes."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from households.choices import Relation
from households.models import Member
from pairing.models import Pairing, VillageLink
from tests import factories as f


def test_a_second_open_responsible_pairing_is_refused_without_any_form(world):
    other = f.cadre(world.unit_a, "周新来")
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.create(cadre=other, household=world.household_a, started_on=datetime.date(2025, 1, 1))


def test_a_contact_pairing_beside_the_responsible_one_is_allowed(world):
    other = f.cadre(world.unit_a, "周新来")
    f.pairing(other, world.household_a, role=Pairing.Role.CONTACT)
    assert world.household_a.pairings.filter(ended_on__isnull=True).count() == 2


def test_after_ending_a_pairing_a_new_one_may_open(world):
    from pairing.services import end_relation, pair

    old = world.household_a.pairings.get()
    end_relation(relation=old, ended_on=datetime.date(2025, 6, 30), reason="调动")
    new = pair(
        cadre=f.cadre(world.unit_a, "周新来"),
        household=world.household_a,
        started_on=datetime.date(2025, 7, 1),
    )
    assert new.is_open and not Pairing.objects.get(pk=old.pk).is_open


def test_an_end_before_the_start_is_refused(world):
    pairing = world.household_a.pairings.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        Pairing.objects.filter(pk=pairing.pk).update(ended_on=datetime.date(2020, 1, 1))
    link = VillageLink.objects.get(unit=world.unit_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        VillageLink.objects.filter(pk=link.pk).update(ended_on=datetime.date(2020, 1, 1))


def test_a_person_id_is_unique_across_households(world):
    head = world.household_b.members.get(relation=Relation.HEAD)
    with pytest.raises(IntegrityError), transaction.atomic():
        f.member(world.household_a, "冒名", head.id_number, Relation.OTHER)


def test_one_head_per_household(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        f.member(world.household_a, "第二户主", f.resident_id(), Relation.HEAD)


def test_member_sex_and_birth_date_come_from_the_id(world):
    member = Member(household=world.household_a, name="新生", relation=Relation.GRANDSON)
    member.set_id_number(" " + f.resident_id(born=datetime.date(2020, 2, 29), male=False).lower() + "\u3000")
    assert member.sex == "F"
    assert member.birth_date.strftime("%Y%m%d") == member.id_number[6:14]
    assert member.birth_date.year == 2020


def test_exempt_and_inactive_cadres_cannot_be_paired(world):
    from django.core.exceptions import ValidationError

    from pairing.models import Cadre
    from pairing.services import pair

    teacher = f.cadre(world.unit_a, "钱老师", category=Cadre.Category.TEACHER)
    with pytest.raises(ValidationError, match="不安排联户"):
        pair(cadre=teacher, household=world.household_a2, started_on=datetime.date(2025, 1, 1))
    retired = f.cadre(world.unit_a, "孙退休", status=Cadre.Status.RETIRED)
    with pytest.raises(ValidationError, match="在岗干部方可联户"):
        pair(cadre=retired, household=world.household_a2, started_on=datetime.date(2025, 1, 1))


def test_a_staff_scope_must_match_the_role(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="bad", role="township", unit=world.unit_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="bad2", role="unit", region=world.town_a)


def test_a_taken_id_in_the_admin_forms_gets_a_clear_message_on_its_field(world):
    # The IDs are unique through Meta.constraints (no PostgreSQL "_like" index); model forms must
    # still report a duplicate on the ID field itself, as unique=True did.
    from django.forms.models import model_to_dict

    from households.admin import HouseholdForm, MemberForm

    taken = world.household_b.head_id_number
    data = model_to_dict(world.household_a) | {"head_id_number": taken, "other_causes": []}
    household_form = HouseholdForm(data=data, instance=world.household_a)
    assert not household_form.is_valid()
    assert "已存在" in " ".join(household_form.errors["head_id_number"])

    member = world.household_a.members.get(relation=Relation.HEAD)
    member_form = MemberForm(data=model_to_dict(member) | {"id_number": taken}, instance=member)
    assert not member_form.is_valid()
    assert "已存在" in " ".join(member_form.errors["id_number"])
