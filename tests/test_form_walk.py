"""The second walk's form items (issues 16 and 19): the household edit page's village chooser, other
poverty causes that repeat the main one, the visit entry's hints, filter labels, unit-visit cadres
as checkboxes and the coverage page's two cadre figures."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from households.models import Household, Region
from pairing import selectors as coverage_selectors
from pairing import tallies as pairing_tallies
from pairing.models import Pairing
from tests import factories as f

pytestmark = pytest.mark.django_db


def edit_data(household, **changes):
    data = {
        "village": household.village_id,
        "group": household.group,
        "category": household.category,
        "main_cause": household.main_cause,
        "income_per_head": "",
        "housing": "",
        "phone": household.phone,
        "status": household.status,
        "version": household.version,
    }
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

    def test_the_admin_form_refuses_it_too(self, world):
        from django.forms.models import model_to_dict

        from households.admin import HouseholdForm

        data = model_to_dict(world.household_a) | {
            "main_cause": "缺技术",
            "other_causes": ["缺技术"],
            "version": world.household_a.version,
        }
        form = HouseholdForm(data=data, instance=world.household_a)
        assert not form.is_valid()
        assert form.errors.get("other_causes") == ["「缺技术」已是主要致贫原因，不要再选"], form.errors

    def test_other_causes_besides_the_main_one_are_saved(self, client, world):
        household = world.household_a
        client.force_login(world.users.town_a)
        data = edit_data(household, main_cause="缺技术", other_causes=["缺资金"])
        assert client.post(reverse("households:edit", args=[household.pk]), data).status_code == 302
        household.refresh_from_db()
        assert (household.main_cause, household.other_causes) == ("缺技术", ["缺资金"])


def many_villages(count):
    """`count` villages spread over new townships of county A, as a wide scope sees them."""
    villages = []
    for index in range(count):
        township, number = divmod(index, 999)
        parent = f.region(f"6211211{50 + township:02d}000", f"新乡{township}", "township")
        villages.append(
            Region(
                code=f"6211211{50 + township:02d}{number + 1:03d}",
                name=f"新村{index}",
                level="village",
                parent=parent,
            )
        )
    Region.objects.bulk_create(villages)


class TestHouseholdVillageChooser:
    def test_the_edit_page_stays_small_for_a_superuser_with_thousands_of_villages(self, client, world):
        many_villages(3000)
        client.force_login(world.users.admin)
        response = client.get(reverse("households:edit", args=[world.household_a.pk]))
        page = response.content.decode()
        assert len(response.content) < 60_000
        assert "新村2999" not in page
        # The household's village is still the chosen one, named with its township.
        assert f'<option value="{world.village_a.code}" selected>东关村民委员会（马营镇）</option>' in page
        assert reverse("households:village_lookup") in page
        assert "---------" not in page and ">（未填）</option>" in page

    def test_the_village_lookup_answers_within_scope_by_village_or_township_name(self, client, world):
        client.force_login(world.users.town_a)
        assert answers(client, "households:village_lookup", q="东关") == ["东关村民委员会（马营镇）"]
        assert answers(client, "households:village_lookup", q="马营") == ["东关村民委员会（马营镇）"]
        assert answers(client, "households:village_lookup", q=world.village_b.name[:2]) == []
        assert answers(client, "households:village_lookup", q="") == []
        client.force_login(world.users.admin)
        assert world.village_b.choice_label in answers(
            client, "households:village_lookup", q=world.village_b.name
        )

    def test_a_village_outside_scope_is_refused(self, client, world):
        household = world.household_a
        client.force_login(world.users.town_a)
        response = client.post(
            reverse("households:edit", args=[household.pk]),
            edit_data(household, village=world.village_b.code),
        )
        assert response.status_code == 200
        assert "所在村：" in response.content.decode()
        household.refresh_from_db()
        assert household.village_id == world.village_a.code

    def test_moving_a_household_to_a_chosen_village_in_scope_saves(self, client, world):
        household = world.household_a
        west = f.region("621121101202", "西关村民委员会", "village")
        client.force_login(world.users.town_a)
        response = client.post(
            reverse("households:edit", args=[household.pk]), edit_data(household, village=west.code)
        )
        assert response.status_code == 302
        household.refresh_from_db()
        assert household.village_id == west.code


def answers(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == 200
    return [item["text"] for item in response.json()["results"]]


class TestVisitEntryHints:
    def test_the_choosers_say_what_to_do_and_the_keyboard_hint_can_be_hidden(self, client, world):
        client.force_login(world.users.town_a)
        page = client.get(reverse("visits:new")).content.decode()
        assert "再从列表中选定" in page and "身份证号的后几位" in page
        assert '<option value="" selected>（先在搜索框输入姓名或身份证尾号）</option>' in page
        assert '<option value="" selected>（不选：该日的帮扶责任人）</option>' in page
        assert "---------" not in page
        # app.css hides .key-hint on phones and touch screens.
        assert '保存并录入下一条<span class="key-hint">（Ctrl+Enter）</span>' in page
        assert 'src="/static/js/visit_entry.js"' in page and "<script>" not in page

    def test_the_responsible_cadre_is_named_for_the_visit_date(self, client, world):
        household = f.household(world.village_a, "马向东", members=1)
        f.pairing(world.cadre_a, household)  # from tests.factories.START
        client.force_login(world.users.town_a)
        url = reverse("visits:responsible", args=[household.pk])
        assert client.get(url).json() == {"cadre": world.cadre_a.choice_label}
        assert client.get(url, {"on": "2025-05-12"}).json() == {"cadre": world.cadre_a.choice_label}
        assert client.get(url, {"on": "2024-01-01"}).json() == {"cadre": None}  # before the pairing began
        assert client.get(url, {"on": "昨天"}).json() == {
            "cadre": world.cadre_a.choice_label
        }  # not a date: today
        client.force_login(world.users.town_b)
        assert client.get(url).status_code == 404


class TestCoverageCadreFigures:
    @pytest.fixture
    def helped(self, world):
        """Township A's poor households all paired, by cadres of a unit seated at the county."""
        county_unit = f.unit(world.county_a, "县教育局", level="county")
        first, second = f.cadre(county_unit, "甲干部"), f.cadre(county_unit, "乙干部")
        for household in Household.objects.filter(village__code__startswith=world.town_a.prefix):
            doomed = Pairing.objects.filter(household=household)
            pairing_tallies.count_ended(doomed.open().select_related("household"))  # as a system write would
            doomed.delete()
            f.pairing(first, household)
        f.pairing(second, f.household(world.village_a, "马向东", members=1))
        f.pairing(first, f.household(world.village_a2, "鸡川户", members=1))  # first helps in two townships
        f.pairing(second, world.household_a2)
        return world

    def test_rows_count_cadres_helping_here_besides_those_seated_here(self, helped):
        world = helped
        rows, _own, totals = coverage_selectors.coverage_rows(world.county_a, [world.town_a, world.town_a2])
        town = next(row for row in rows if row["region"] == world.town_a)
        assert town["cadres_helping"] == 2
        assert totals["cadres_helping"] == 2  # a cadre helping in two townships is one cadre
        assert town["unpaired"] == 0 and town["coverage_rate"] == 100

    def test_the_page_labels_both_figures_and_the_rate_and_zero_is_not_a_warning(self, client, helped):
        world = helped
        client.force_login(world.users.county_a)
        page = client.get(reverse("pairing:coverage_region", args=[world.county_a.code])).content.decode()
        assert (
            ">单位驻地在此的在岗干部</th>" in page
            and ">在此帮扶的干部</th>" in page
            and ">落实率</th>" in page
        )
        assert '<td data-label="落实率">100%</td>' in page
        assert '<td data-label="在此帮扶的干部">2</td>' in page
        # 未落实 0 reads as good news, not in the alarm colour.
        unpaired = reverse("pairing:coverage_list", args=[world.county_a.code, "unpaired"])
        assert f'<a class="stat ok" href="{unpaired}" title=' in page


class FilterForms(HTMLParser):
    """The controls of every <form class="filters"> on a page, each with whether a <label> names it
    (wrapping it, or pointing at its id), and the options' texts."""

    def __init__(self):
        super().__init__()
        self.depth = 0  # inside a filters form
        self.labels = 0  # inside a <label>
        self.label_for = set()
        self.controls = []  # (tag, name, id, labelled)
        self.options = []
        self.in_option = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "filters" in (attrs.get("class") or "").split():
            self.depth = 1
            return
        if not self.depth:
            return
        if tag == "label":
            self.labels += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("select", "textarea") or (
            tag == "input" and attrs.get("type", "text") not in ("hidden", "submit", "button")
        ):
            self.controls.append((tag, attrs.get("name"), attrs.get("id"), self.labels > 0))
        elif tag == "option":
            self.in_option = True
            self.options.append("")

    def handle_endtag(self, tag):
        if tag == "form" and self.depth:
            self.depth = 0
        elif tag == "label" and self.depth:
            self.labels -= 1
        elif tag == "option":
            self.in_option = False

    def handle_data(self, data):
        if self.depth and self.in_option:
            self.options[-1] += data

    def unlabelled(self):
        return [
            name for _tag, name, id_, labelled in self.controls if not labelled and id_ not in self.label_for
        ]


def filter_pages(world):
    """Every page of the access matrix that town_a or county_a may open with a GET."""
    from tests.test_access_matrix import MATRIX

    for name, case in MATRIX.items():
        if case.method != "get" or name.endswith("lookup") or name == "visits:responsible":
            continue
        for username in ("town_a", "county_a"):
            if username in case.allowed:
                yield (
                    name,
                    username,
                    reverse(name, kwargs=case.kwargs(world) if case.kwargs else None),
                    case.extra,
                )


def test_every_filter_has_a_visible_label_and_no_bare_dashes(client, world):
    checked, problems = 0, []
    for name, username, url, extra in filter_pages(world):
        client.force_login(getattr(world.users, username))
        response = client.get(url, **extra)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        forms = FilterForms()
        forms.feed(response.content.decode())
        checked += bool(forms.controls)
        if forms.unlabelled():
            problems.append((name, username, "unlabelled", forms.unlabelled()))
        if any(text.strip().strip("-") == "" and "-" in text for text in forms.options):
            problems.append((name, username, "---------"))
    assert checked >= 8
    assert not problems, "\n".join(map(str, problems))


def test_unit_visit_cadres_are_checkboxes_with_a_search(client, world):
    other = f.cadre(world.unit_a, "周参加")
    client.force_login(world.users.unit_a)
    page = client.get(reverse("visits:unit_visit_new")).content.decode()
    assert f'<input type="checkbox" name="cadres" value="{other.pk}"' in page
    assert 'data-filter-for="id_cadres"' in page
    assert "Ctrl" not in page.split("<main")[1]  # no Ctrl-click list, no keyboard-only hint
    assert "---------" not in page
