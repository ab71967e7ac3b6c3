"""load_demo: deterministic, idempotent, consistent with every rule the app enforces."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db.models import Count, Q
from django.test import RequestFactory

from accounts.models import User
from households.models import Household, Member
from pairing.models import Cadre, Pairing, Unit, VillageLink
from shuanglian.lib import idcard


def snapshot():
    return {
        "households": sorted(Household.objects.values_list("head_id_number", "village_id", "category")),
        "members": Member.objects.count(),
        "pairings": sorted(
            Pairing.objects.values_list("cadre__name", "household__head_id_number", "ended_on")
        ),
        "links": VillageLink.objects.count(),
        "cadres": sorted(Cadre.objects.values_list("name", "phone")),
        "users": sorted(
            User.objects.values_list("username", "first_name", "role", "region_id", "unit_id", "password")
        ),
    }


@pytest.mark.django_db
def test_load_demo_twice_is_consistent_and_writes_nothing_the_second_time():
    first_output = io.StringIO()
    call_command("load_demo", stdout=first_output)
    first = snapshot()
    second_output = io.StringIO()
    call_command("load_demo", stdout=second_output)
    assert snapshot() == first
    assert "演示数据已存在，未写入" in second_output.getvalue()
    for output in (first_output.getvalue(), second_output.getvalue()):
        assert "tongwei_town" in output and "shuanglian2026" in output

    assert 2500 <= Household.objects.count() <= 3500
    assert 550 <= Cadre.objects.count() <= 650
    assert 35 <= Unit.objects.count() <= 45
    assert (
        Household.objects.exclude(
            Q(village__code__startswith="621121") | Q(village__code__startswith="622926")
        ).count()
        == 0
    )

    # Each household: exactly one head, matching the household's head fields; size = members.
    heads = dict(Member.objects.filter(relation="户主").values_list("household_id", "id_number"))
    for household in Household.objects.annotate(size=Count("members")):
        assert heads[household.pk] == household.head_id_number
        assert household.size >= 1
    # Every ID is valid and sex and birth date agree with it.
    for member in Member.objects.all():
        parsed = idcard.parse(member.id_number)
        assert (parsed.sex, parsed.birth_date) == (member.sex, member.birth_date)

    # Open responsible pairings obey the rules the pages enforce.
    for pairing in Pairing.objects.open().responsible().select_related("cadre", "household"):
        assert not pairing.cadre.is_exempt
        assert pairing.cadre.status == Cadre.Status.ACTIVE
        assert pairing.household.is_poor
        assert (
            VillageLink.objects.open()
            .filter(unit=pairing.cadre.unit_id, village=pairing.household.village_id)
            .exists()
        )
    assert not Pairing.objects.filter(cadre__category__in=Cadre.EXEMPT_CATEGORIES).exists()
    assert Pairing.objects.exclude(ended_on=None).exists()  # some history

    expected = {
        "admin": "",
        "province": "province",
        "dingxi": "city",
        "linxia": "city",
        "tongwei": "county",
        "dongxiang": "county",
        "tongwei_town": "township",
        "dongxiang_town": "township",
        "tongwei_unit": "unit",
        "dongxiang_unit": "unit",
        "tongwei_town_unit": "unit",
        "dongxiang_town_unit": "unit",
    }
    for username, role in expected.items():
        # django-axes counts every login by its request, as the login page makes them.
        user = authenticate(
            RequestFactory().post("/accounts/login/"), username=username, password="shuanglian2026"
        )
        assert user is not None and user.role == role
    assert User.objects.get(username="admin").is_superuser
    # The demo township logins see households.
    for username in ("tongwei_town", "dongxiang_town", "tongwei_unit", "dongxiang_unit", "tongwei_town_unit"):
        assert Household.objects.visible_to(User.objects.get(username=username)).count() > 20


@pytest.mark.django_db
def test_demo_logins_are_named_people_and_the_township_government_has_a_liaison(client):
    output = io.StringIO()
    call_command("load_demo", stdout=output)
    printed = output.getvalue()
    # The township government's own unit (it links villages) has a liaison login, printed with the rest.
    liaison = User.objects.get(username="tongwei_town_unit")
    assert (liaison.role, liaison.unit.name) == ("unit", "马营镇人民政府")
    assert "tongwei_town_unit" in printed and "马营镇人民政府" in printed
    assert User.objects.get(username="dongxiang_town_unit").unit.name == "达板镇人民政府"
    # Every demo account is a person: the 马营镇 clerk is 常晓燕, not 「tongwei_town」.
    clerk = User.objects.get(username="tongwei_town")
    assert clerk.get_full_name() == "常晓燕" and "常晓燕" in printed
    assert not User.objects.filter(first_name="").exists()
    # Each other township with households has a clerk login of its own, a person too.
    clerks = User.objects.filter(role="township").exclude(username__in=["tongwei_town", "dongxiang_town"])
    assert clerks.count() >= 20
    assert all(c.region.level == "township" and not c.get_full_name().isascii() for c in clerks)
    # The header and the histories show the person.
    client.force_login(clerk)
    assert "常晓燕" in client.get("/").content.decode()
    assert clerk.acting_as == "马营镇 常晓燕"
    # A demo loaded before logins had names gets them on the next run, and nothing else changes.
    User.objects.filter(username="tongwei").update(first_name="")
    call_command("load_demo", stdout=io.StringIO())
    assert User.objects.get(username="tongwei").get_full_name() == "牛建华"
