"""Whole resident IDs and phones: masked on every page for every role; 显示完整 (a logged POST)
for the offices that keep the rosters, never for unit liaisons."""

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from docx import Document

from households.models import Household, Member, RevealLog
from pairing.models import Cadre
from reports.dispatch_views import DOCX
from shuanglian.lib import idcard
from shuanglian.lib.excel import XLSX
from tests.test_access_matrix import MATRIX


def _docx_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


WHOLE_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
WHOLE_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ROLES = (
    "admin",
    "province",
    "city_a",
    "city_b",
    "county_a",
    "county_b",
    "town_a",
    "town_b",
    "unit_a",
    "unit_b",
)
OFFICES_A = ("admin", "province", "city_a", "county_a", "town_a")


@pytest.fixture
def phoned(world):
    """Every household of the world has a mobile number (cadres have one from the factory)."""
    for index, household in enumerate(Household.objects.order_by("pk")):
        household.phone = f"139093100{index:02d}"
        household.save(update_fields=["phone"])
    for household in (world.household_a, world.household_a2, world.household_b):
        household.refresh_from_db()
    return world


def whole_values():
    return (
        set(Household.objects.values_list("head_id_number", flat=True))
        | set(Member.objects.values_list("id_number", flat=True))
        | set(Household.objects.exclude(phone="").values_list("phone", flat=True))
        | set(Cadre.objects.exclude(phone="").values_list("phone", flat=True))
    )


# The township's edit form holds the phone it edits, for the township that keeps the roster.
EDIT_FORMS = {"households:edit"}
# Evidence files go back byte for byte as the township uploaded them (photos, scans): not a page.
UPLOADED_FILES = {"inspections:rectification_file"}


def _pages(username):
    """Every GET page of the URL map `username` may open, edit forms aside."""
    for name, case in MATRIX.items():
        if case.method == "get" and username in case.allowed and name not in EDIT_FORMS | UPLOADED_FILES:
            yield name, case


@pytest.mark.parametrize("username", ROLES)
def test_no_page_shows_a_whole_id_or_phone_by_default(client, phoned, username):
    client.force_login(getattr(phoned.users, username))
    secrets = whole_values()
    scanned = 0
    for name, case in _pages(username):
        url = reverse(name, kwargs=case.kwargs(phoned) if case.kwargs else None)
        response = client.get(url, **case.extra)
        if response.get("Content-Type") == XLSX:
            continue  # the roster and coverage exports carry whole IDs on purpose (offices only)
        if response.get("Content-Type") == DOCX:
            body = _docx_text(response.content)  # the inspection report: read its text, not its zip
        else:
            body = response.content.decode()
        leaked = {value for value in secrets if value in body}
        assert not leaked, f"{name}: {leaked}"
        assert not WHOLE_ID.search(body) and not WHOLE_MOBILE.search(body), name
        scanned += 1
    assert scanned >= 10


def test_the_household_and_cadre_pages_show_masked_values_and_offer_the_reveal_to_offices_only(
    client, phoned
):
    household, cadre = phoned.household_a, phoned.cadre_a
    for username, offered in (("town_a", True), ("county_a", True), ("unit_a", False)):
        client.force_login(getattr(phoned.users, username))
        page = client.get(reverse("households:detail", args=[household.pk])).content.decode()
        assert idcard.mask(household.head_id_number) in page  # masked, not hidden
        assert ("显示完整" in page) is offered, username
        assert (reverse("households:reveal", args=[household.pk]) in page) is offered
        cadre_page = client.get(reverse("pairing:cadre_detail", args=[cadre.pk])).content.decode()
        assert cadre.phone[-4:] in cadre_page and cadre.phone not in cadre_page
        assert (reverse("pairing:cadre_reveal", args=[cadre.pk]) in cadre_page) is offered


@pytest.mark.parametrize("username", OFFICES_A)
def test_an_office_reveals_one_whole_value_and_it_is_logged(client, phoned, username):
    household, cadre = phoned.household_a, phoned.cadre_a
    user = getattr(phoned.users, username)
    client.force_login(user)
    response = client.post(reverse("households:reveal", args=[household.pk]), {"field": "head_id_number"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert household.head_id_number in body and household.phone not in body  # only what was asked for
    response = client.post(reverse("households:reveal", args=[household.pk]), {"field": "phone"})
    assert household.phone in response.content.decode()
    response = client.post(reverse("pairing:cadre_reveal", args=[cadre.pk]), {"field": "phone"})
    assert response.status_code == 200 and cadre.phone in response.content.decode()
    logged = list(
        RevealLog.objects.order_by("pk").values_list("user", "object_type", "object_id", "field", "subject")
    )
    assert logged == [
        (user.pk, "households.household", household.pk, "head_id_number", "王建国户"),
        (user.pk, "households.household", household.pk, "phone", "王建国户"),
        (user.pk, "pairing.cadre", cadre.pk, "phone", "李文华"),
    ]
    assert RevealLog.objects.filter(at__isnull=False).count() == 3
    # The next plain GET is masked again.
    assert (
        household.head_id_number
        not in client.get(reverse("households:detail", args=[household.pk])).content.decode()
    )


@pytest.mark.parametrize("username", ("unit_a", "unit_b"))
def test_a_unit_liaison_is_refused_the_reveal(client, phoned, username):
    client.force_login(getattr(phoned.users, username))
    assert (
        client.post(
            reverse("households:reveal", args=[phoned.household_a.pk]), {"field": "phone"}
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("pairing:cadre_reveal", args=[phoned.cadre_a.pk]), {"field": "phone"}).status_code
        == 403
    )
    assert not RevealLog.objects.exists()


def test_outside_the_scope_unknown_fields_and_gets_reveal_nothing(client, phoned):
    client.force_login(phoned.users.town_b)
    assert (
        client.post(
            reverse("households:reveal", args=[phoned.household_a.pk]), {"field": "phone"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("pairing:cadre_reveal", args=[phoned.cadre_a.pk]), {"field": "phone"}).status_code
        == 404
    )
    client.force_login(phoned.users.town_a)
    url = reverse("households:reveal", args=[phoned.household_a.pk])
    for data in ({}, {"field": "income_per_head"}, {"field": "members"}):
        assert client.post(url, data).status_code == 404
    assert (
        client.post(reverse("pairing:cadre_reveal", args=[phoned.cadre_a.pk]), {"field": "name"}).status_code
        == 404
    )
    assert client.get(url, {"field": "phone"}).status_code == 405
    assert not RevealLog.objects.exists()


def test_the_reveal_needs_the_csrf_token(phoned):
    client = Client(enforce_csrf_checks=True)
    client.force_login(phoned.users.town_a)
    url = reverse("households:reveal", args=[phoned.household_a.pk])
    assert client.post(url, {"field": "phone"}).status_code == 403
    page = client.get(reverse("households:detail", args=[phoned.household_a.pk]))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    assert client.post(url, {"field": "phone", "csrfmiddlewaretoken": token}).status_code == 200
    assert RevealLog.objects.count() == 1


def test_the_admin_masks_ids_and_phones_for_unit_liaisons(client, phoned):
    household = phoned.household_a
    member = household.members.exclude(id_number=household.head_id_number).first()
    pages = [
        reverse("admin:households_household_change", args=[household.pk]),
        reverse("admin:households_member_change", args=[member.pk]),
    ]
    client.force_login(phoned.users.unit_a)
    for url in pages:
        body = client.get(url).content.decode()
        assert idcard.mask(household.head_id_number) in body or idcard.mask(member.id_number) in body
        leaked = {value for value in whole_values() if value in body}
        assert not leaked, url
    client.force_login(phoned.users.town_a)  # the township keeps (and edits) its roster
    body = client.get(pages[0]).content.decode()
    assert household.head_id_number in body and household.phone in body and member.id_number in body


def test_superusers_read_the_reveal_log_and_nobody_else(client, phoned):
    client.force_login(phoned.users.town_a)
    client.post(reverse("households:reveal", args=[phoned.household_a.pk]), {"field": "phone"})
    changelist = reverse("admin:households_reveallog_changelist")
    assert client.get(changelist).status_code == 403
    client.force_login(phoned.users.admin)
    assert "王建国户" in client.get(changelist).content.decode()
    log = RevealLog.objects.get()
    assert (
        client.post(reverse("admin:households_reveallog_delete", args=[log.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert RevealLog.objects.count() == 1
