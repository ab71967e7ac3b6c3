"""What every page says around its content (issue 19): the icon, the title, who is signed in, and
an admin in Chinese."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from visits import worklists


def test_the_favicon_is_served_as_an_image(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body[:4] == b"\x00\x00\x01\x00"  # an .ico file


def test_pages_name_their_icon(client, world):
    client.force_login(world.users.town_a)
    assert '<link rel="icon" href="/static/favicon.ico">' in client.get(reverse("home")).content.decode()


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).strip()


def heading(response) -> str:
    return re.search(r"<h1>(.*?)</h1>", response.content.decode(), re.S).group(1).strip()


def test_every_worklist_has_its_own_title_naming_the_list(client, world):
    titles = []
    client.force_login(world.users.town_a)
    summary = client.get(reverse("visits:worklists"))
    titles.append(title(summary))
    for username in ("town_a", "province"):  # a township's lists, then the province's per-county figures
        client.force_login(getattr(world.users, username))
        for kind in worklists.KINDS:
            page = client.get(reverse("visits:worklist", args=[kind]))
            assert title(page).startswith(heading(page) + " · 工作清单"), (username, kind)
            titles.append(title(page))
    narrowed = client.get(reverse("visits:worklist", args=["stale"]), {"region": world.county_a.code})
    assert title(narrowed).startswith(f"{heading(narrowed)} · 通渭县 · 工作清单")
    titles.append(title(narrowed))
    assert len(set(titles)) == len(titles) == 10, titles


@pytest.mark.parametrize(
    "username, office",
    [
        ("town_a", "马营镇"),
        ("unit_a", "通渭县农业农村局"),
        ("county_a", "通渭县"),
        ("admin", "全省（系统管理员）"),
    ],
)
def test_the_header_names_the_office_or_unit_and_the_person(client, world, username, office):
    user = getattr(world.users, username)
    user.first_name = "张建华"
    user.save(update_fields=["first_name"])
    client.force_login(user)
    page = client.get(reverse("home")).content.decode()
    assert f'<span class="who">{office} 张建华</span>' in page
    assert f">{username}<" not in page


@pytest.mark.parametrize("username", ["town_a", "unit_a"])
def test_the_signed_in_account_comes_with_its_office_or_unit(
    client, world, username, django_assert_num_queries
):
    """Naming the office or unit in every header costs no query (accounts.backends)."""
    client.force_login(getattr(world.users, username))
    user = client.get(reverse("visits:list")).wsgi_request.user
    with django_assert_num_queries(0):
        assert user.acting_as.startswith(("马营镇 ", "通渭县农业农村局 "))


ENGLISH = [
    "Database Backend",
    "Task Result",
    "Ready",
    "Running",
    "Successful",
    "Failed",
    "Model name",
    "Add link",
    "Change or view list link",
    'alt="Search"',
    "Task name",
    "Enqueued at",
    "Can add",
    'alt="True"',
    'alt="False"',
    "DBTaskResult",
]


def test_the_admin_speaks_chinese_to_the_superuser(client, world):
    result = DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="imports.tasks.check_batch",
        backend_name="default",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )
    client.force_login(world.users.admin)
    pages = [
        reverse("admin:index"),
        reverse("admin:app_list", args=["django_tasks_database"]),
        reverse("admin:django_tasks_database_dbtaskresult_changelist"),
        reverse("admin:django_tasks_database_dbtaskresult_change", args=[result.pk]),
        reverse("admin:households_household_changelist"),
        reverse("admin:households_region_changelist"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_change", args=[world.users.town_a.pk]),
    ]
    for url in pages:
        body = client.get(url).content.decode()
        assert not [word for word in ENGLISH if word in body], url
    tasks = client.get(pages[2]).content.decode()
    assert (
        "后台任务" in tasks
        and "任务记录" in tasks
        and "等待执行" in tasks
        and "正在执行" in tasks
        and "检查名册" in tasks
    )
    assert "check_batch" not in tasks  # the function's path shows on the result's page, as 任务函数
    assert "检查名册（等待执行）" in client.get(pages[3]).content.decode()
    assert 'alt="是"' in client.get(reverse("admin:households_region_changelist")).content.decode()
