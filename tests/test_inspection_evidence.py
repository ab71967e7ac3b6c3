"""Evidence files of a rectification answer: checked before they are kept (size, type by content,
name), shown to the office that closes the item, downloaded only by those who see the item."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from inspections import evidence, services
from inspections.models import Rectification, RectificationEvidence
from tests.test_inspections import _flag

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


def _item(world) -> Rectification:
    flag = services.review_flag(by=world.users.county_a, flag=_flag(world), confirm=True, note="核实")
    return flag.finding.rectifications.get()


def _page(item):
    return reverse("inspections:rectification", args=[item.pk])


def _answer(client, item, *files, answer="已约谈干部", evidence_text=""):
    data = {"action": "answer", "answer": answer, "evidence": evidence_text}
    if files:
        data["evidence_files"] = list(files)
    return client.post(_page(item), data, follow=True)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\张三\\整改照片.JPG", "整改照片.jpg"),
        ('a"b;\r\nc.pdf', "a_b_c.pdf"),
        ("...", "佐证材料"),
        ("长" * 300 + ".pdf", "长" * 96 + ".pdf"),
    ],
)
def test_names_keep_their_last_part_without_unsafe_characters(raw, clean):
    assert evidence.sanitize_name(raw) == clean


def test_the_township_answers_with_files_and_the_county_downloads_them(client, world):
    item = _item(world)
    client.force_login(world.users.town_a)
    response = _answer(
        client,
        item,
        SimpleUploadedFile("../约谈照片.png", PNG, content_type="image/png"),
        SimpleUploadedFile("约谈记录.pdf", PDF, content_type="application/pdf"),
    )
    assert "已提交整改情况" in response.content.decode()
    item.refresh_from_db()
    assert item.status == Rectification.Status.ANSWERED
    files = list(item.files.order_by("name"))
    assert [(file.name, file.size, file.uploaded_by) for file in files] == [
        ("约谈照片.png", len(PNG), world.users.town_a),
        ("约谈记录.pdf", len(PDF), world.users.town_a),
    ]
    # The office that closes the item sees the files on its page and downloads them as attachments.
    client.force_login(world.users.county_a)
    body = client.get(_page(item)).content.decode()
    photo = files[0]
    url = reverse("inspections:rectification_file", args=[item.pk, photo.pk])
    assert url in body and "约谈照片.png" in body
    response = client.get(url)
    assert response.status_code == 200 and response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment; filename*=UTF-8''")


def test_outsiders_get_404_for_a_file(client, world):
    item = _item(world)
    client.force_login(world.users.town_a)
    _answer(client, item, SimpleUploadedFile("照片.png", PNG))
    file = item.files.get()
    url = reverse("inspections:rectification_file", args=[item.pk, file.pk])
    for name in ("town_b", "county_b", "unit_a"):
        client.force_login(getattr(world.users, name))
        assert client.get(url).status_code == 404, name
    # The right file under another item's number is not found either.
    client.force_login(world.users.county_a)
    assert (
        client.get(reverse("inspections:rectification_file", args=[item.pk + 1, file.pk])).status_code == 404
    )
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("脚本.exe", b"MZ" + b"\x00" * 10, "类型不能作为佐证材料"),
        ("伪装.png", b"<script>alert(1)</script>", "内容与扩展名不符"),
        ("空.pdf", b"", "空文件"),
        ("大.pdf", b"%PDF-" + b"x" * (1024 * 1024), "超过 1 MB 的上限"),
    ],
)
@override_settings(INSPECTION_EVIDENCE_MAX_MB=1)
def test_a_refused_file_keeps_the_whole_answer_out(client, world, name, content, message):
    item = _item(world)
    client.force_login(world.users.town_a)
    response = _answer(
        client,
        item,
        SimpleUploadedFile("好的.png", PNG),
        SimpleUploadedFile(name, content),
        evidence_text="照片",
    )
    body = response.content.decode()
    assert message in body and name in body
    item.refresh_from_db()
    assert item.status == Rectification.Status.OPEN and not item.files.exists()


def test_files_alone_are_evidence_and_a_second_press_keeps_them_once(client, world):
    item = _item(world)
    client.force_login(world.users.town_a)
    _answer(client, item)  # neither words nor files
    item.refresh_from_db()
    assert item.status == Rectification.Status.OPEN
    for _press in range(2):
        _answer(client, item, SimpleUploadedFile("照片.png", PNG))
    item.refresh_from_db()
    assert item.status == Rectification.Status.ANSWERED
    assert RectificationEvidence.objects.filter(rectification=item).count() == 1


@override_settings(INSPECTION_EVIDENCE_MAX_FILES=2)
def test_an_item_holds_at_most_the_set_number_of_files(world):
    item = _item(world)
    files = [
        evidence.EvidenceFile(name=f"{n}.pdf", content=PDF + bytes([n]), sha256=str(n)) for n in range(3)
    ]
    with pytest.raises(services.ValidationError):
        services.answer_rectification(
            by=world.users.town_a, item=item, answer="已整改", evidence="", files=files
        )
    assert not item.files.exists()
    services.answer_rectification(
        by=world.users.town_a, item=item, answer="已整改", evidence="", files=files[:2]
    )
    assert item.files.count() == 2


def test_the_page_offers_the_upload_to_the_answering_side_only(client, world):
    item = _item(world)
    client.force_login(world.users.town_a)
    body = client.get(_page(item)).content.decode()
    assert 'enctype="multipart/form-data"' in body and 'name="evidence_files"' in body
    client.force_login(world.users.county_a)
    assert 'name="evidence_files"' not in client.get(_page(item)).content.decode()
