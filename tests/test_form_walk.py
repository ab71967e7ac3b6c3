"""The second walk's form items (issues 16 and 19): the household edit page's village chooser, other
poverty causes that repeat the main one, the visit entry's hints, filter labels, unit-visit cadres
as checkboxes and the coverage page's two cadre figures."""

import pytest
from django.urls import reverse

from households.models import Household
from tests import factories as f

pytestmark = pytest.mark.django_db


def edit_data(household, **changes):
    data = {"village": household.village_id, "group": household.group, "category": household.category,
            "main_cause": household.main_cause, "income_per_head": "", "housing": "", "phone": household.phone,
            "status": household.status, "version": household.version}
    data.update(changes)
    return data


class TestOtherCauses:
    def test_the_main_cause_again_under_other_causes_is_refused_by_name(self, client, world):
        household = world.household_a
        client.force_login(world.users.town_a)
        data = edit_data(household, main_cause="缺技术", other_causes=["缺技术", "缺资金"])
        response = client.post(reverse("households:edit", args=[household.pk]), data)
        assert response.status_code == 200
        page = response.content.decode()
        assert "其他致贫原因：「缺技术」已是主要致贫原因，不要再选" in page
        household.refresh_from_db()
        assert "缺技术" not in household.other_causes

    def test_other_causes_besides_the_main_one_are_saved(self, client, world):
        household = world.household_a
        client.force_login(world.users.town_a)
        data = edit_data(household, main_cause="缺技术", other_causes=["缺资金"])
        assert client.post(reverse("households:edit", args=[household.pk]), data).status_code == 302
        household.refresh_from_db()
        assert (household.main_cause, household.other_causes) == ("缺技术", ["缺资金"])
