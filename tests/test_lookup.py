"""The server-side choosers: answers within scope, by name, ID tail, village, phone tail."""

import pytest
from django.urls import reverse

from tests import factories as f
from tests.queries import count_queries

pytestmark = pytest.mark.django_db


def answers(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return [item["text"] for item in response.json()["results"]]


def test_household_lookup_finds_by_name_id_tail_and_village_within_scope(client, world):
    mine = f.household(world.village_a, "马向东", members=2)
    f.household(world.village_b, "马向西", members=1)  # another county: never offered
    client.force_login(world.users.town_a)
    assert answers(client, "households:lookup", q="马向") == [mine.choice_label]
    assert answers(client, "households:lookup", q=mine.head_id_number[-6:]) == [mine.choice_label]
    assert mine.choice_label in answers(client, "households:lookup", q=world.village_a.name[:2])
    assert answers(client, "households:lookup", q="") == []
    assert answers(client, "households:lookup", q="马向", village=world.village_a.code) == [mine.choice_label]
    assert answers(client, "households:lookup", q="马向", village="620000000000") == []


def test_household_lookup_answers_at_most_twenty_in_one_query(client, world):
    for index in range(25):
        f.household(world.village_a, f"杨家{index}", members=1)
    client.force_login(world.users.town_a)
    assert len(answers(client, "households:lookup", q="杨家")) == 20
    assert count_queries(client, reverse("households:lookup") + "?q=杨家") == 3  # session, user, households


def test_cadre_lookup_offers_active_cadres_within_scope(client, world):
    active = f.cadre(world.unit_a, "赵立新", phone="13912345678")
    gone = f.cadre(world.unit_a, "赵立旧")
    gone.status = gone.Status.RETIRED
    gone.save()
    f.cadre(world.unit_b, "赵立远")  # another county's unit
    client.force_login(world.users.town_a)
    assert answers(client, "pairing:cadre_lookup", q="赵立") == [active.choice_label]
    assert answers(client, "pairing:cadre_lookup", q="5678") == [active.choice_label]


def test_a_household_is_named_by_village_group_and_id_tail_with_or_without_a_group(client, world):
    grouped = f.household(world.village_a, "马向东", members=1)
    grouped.group = "3社"
    grouped.save(update_fields=["group"])
    plain = f.household(world.village_a, "马向南", members=1)
    plain.group = ""
    plain.save(update_fields=["group"])
    client.force_login(world.users.town_a)
    tail = plain.head_id_number[-4:]
    assert answers(client, "households:lookup", q="马向南") == [
        f"马向南（{world.village_a.name}，尾号{tail}）"
    ]
    assert answers(client, "households:lookup", q="马向东") == [
        f"马向东（{world.village_a.name} 3社，尾号{grouped.head_id_number[-4:]}）"
    ]
