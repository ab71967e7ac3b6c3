"""Evidence files of a rectification answer (整改佐证材料): checked before anything is written.

As with rosters (imports/), an upload's size is checked before it is read and its content is kept
in the database, so any worker on any host serves it. A file is accepted by what it is, not by what
it is called: its extension must be one of ALLOWED and its first bytes must match that type (a
renamed script is refused). Names are cut to their last path part, stripped of control and
path characters and shortened, so a name never reaches a header or the disk as given.
"""

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Extension -> the leading bytes its files start with. docx and xlsx are zip archives.
ALLOWED = {
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".pdf": (b"%PDF-",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
}
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
NAME_MAX = 100
_UNSAFE = re.compile(r'[\\/:*?"<>|;\x00-\x1f\x7f]+')


@dataclass(frozen=True)
class EvidenceFile:
    name: str
    content: bytes
    sha256: str

    @property
    def extension(self) -> str:
        return os.path.splitext(self.name)[1].lower()


def max_bytes() -> int:
    return settings.INSPECTION_EVIDENCE_MAX_MB * 1024 * 1024


def max_files() -> int:
    return settings.INSPECTION_EVIDENCE_MAX_FILES


def allowed_text() -> str:
    return "、".join(sorted({ext.lstrip(".") for ext in ALLOWED}))


def sanitize_name(raw: str) -> str:
    """The last part of the name as the browser sent it, without path or control characters,
    at most NAME_MAX characters with its extension kept."""
    name = unicodedata.normalize("NFKC", raw or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("_", "".join(ch for ch in name if ch.isprintable())).strip(" ._")
    stem, extension = os.path.splitext(name)
    extension = extension.lower()
    stem = stem[: NAME_MAX - len(extension)] or _("佐证材料")
    return stem + extension


def read_upload(upload) -> EvidenceFile:
    """One uploaded file, checked: size (before reading), type by extension and content, name."""
    name = sanitize_name(getattr(upload, "name", ""))
    extension = os.path.splitext(name)[1]
    shown = {"name": name}
    if extension not in ALLOWED:
        raise ValidationError(
            _("“%(name)s”的类型不能作为佐证材料，可上传 %(allowed)s 文件")
            % {**shown, "allowed": allowed_text()}
        )
    if upload.size > max_bytes():
        raise ValidationError(
            _("“%(name)s”大小超过 %(limit)d MB 的上限")
            % {**shown, "limit": settings.INSPECTION_EVIDENCE_MAX_MB}
        )
    if upload.size == 0:
        raise ValidationError(_("“%(name)s”是空文件") % shown)
    content = upload.read(max_bytes() + 1)
    if len(content) > max_bytes():
        raise ValidationError(
            _("“%(name)s”大小超过 %(limit)d MB 的上限")
            % {**shown, "limit": settings.INSPECTION_EVIDENCE_MAX_MB}
        )
    if not content.startswith(ALLOWED[extension]):
        raise ValidationError(_("“%(name)s”的内容与扩展名不符，请上传原始文件") % shown)
    return EvidenceFile(name=name, content=content, sha256=hashlib.sha256(content).hexdigest())


def read_uploads(uploads) -> list[EvidenceFile]:
    """Every file checked, or a ValidationError naming each refused one (nothing is kept then)."""
    files, errors = [], []
    for upload in uploads:
        try:
            files.append(read_upload(upload))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return files
