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
