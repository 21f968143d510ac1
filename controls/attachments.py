"""The files attached to rules (制度目录): what a file is, by its content, and where it lies.

A file is stored under ``RISK_REGISTRY_RULE_FILES_DIR`` (outside the web root: nothing serves
that folder) by a random key with the extension of its sniffed kind; the name the user gave it is
kept on the rule for the page, never used as a path. Its kind is told from its first bytes and,
for Word, from the parts of the package, never from the name or the browser's content type: a
PDF, a Word document (.docx), a PNG or a JPEG image. The pages serve a file only to those who may
see its rule, and the public disclosure page only for a rule it shows.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

KEY = re.compile(r"[0-9a-f]{32}\.(pdf|docx|png|jpg)")
MAX_DOCX_ENTRIES = 2000
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    extension: str
    content_type: str


PDF = Kind("pdf", "application/pdf")
DOCX = Kind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
PNG = Kind("png", "image/png")
JPEG = Kind("jpg", "image/jpeg")


def _is_docx(data: bytes) -> bool:
    """A Word package: a zip holding [Content_Types].xml and word/document.xml, of a sane size."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, ValueError):
        return False
    if len(infos) > MAX_DOCX_ENTRIES or sum(info.file_size for info in infos) > MAX_DOCX_UNCOMPRESSED:
        return False
    return {"[Content_Types].xml", "word/document.xml"} <= names


def sniff(data: bytes) -> Kind | None:
    """The file's kind from its content, or None for any other file."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"PK\x03\x04") and _is_docx(data):
        return DOCX
    return None


def check(data: bytes) -> Kind:
    """The file's kind; ValidationError (in words the form shows) for an empty, too large or
    unaccepted file."""
    limit = settings.RISK_REGISTRY_RULE_FILE_MAX_BYTES
    if not data:
        raise ValidationError(_("The file is empty."))
    if len(data) > limit:
        raise ValidationError(
            _("The file is %(size)d KB; at most %(limit)d KB.") % {"size": len(data) // 1024, "limit": limit // 1024}
        )
    kind = sniff(data)
    if kind is None:
        raise ValidationError(_("Only a PDF, a Word document (.docx), a PNG or a JPEG image can be attached."))
    return kind


def folder() -> Path:
    path = Path(settings.RISK_REGISTRY_RULE_FILES_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(key: str) -> Path:
    """The stored file of a key (a key is ours: random hex and a known extension, no path)."""
    if not KEY.fullmatch(key or ""):
        raise ValueError(f"not an attachment key: {key!r}")
    return folder() / key


def store(data: bytes, kind: Kind) -> str:
    """Write the file under a new random key; return the key."""
    key = f"{uuid.uuid4().hex}.{kind.extension}"
    path = path_of(key)
    with open(path, "xb") as out:  # a new file, never an existing one
        out.write(data)
    return key


def remove(key: str) -> None:
    if key:
        path_of(key).unlink(missing_ok=True)


def download_name(title: str, extension: str) -> str:
    """The rule's title as the file's name (Chinese, as the catalogue names it), without the
    characters a file system refuses."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "", title).strip(" .") or "制度"
    return f"{name[:80]}.{extension}"
