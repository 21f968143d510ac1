"""Files attached to the written reports of notices (成因剖析, 整改措施): checked, stored and read back.

- **Type by content**, never by name or the browser's word: PDF, PNG, JPEG, and Word/Excel documents
  without macros (a zip that holds ``word/document.xml`` or ``xl/workbook.xml`` and no
  ``vbaProject.bin``). Anything else is refused with a Chinese message.
- **Size**: at most ``RISK_REGISTRY_WARNING_FILE_MAX_BYTES`` (10 MB by default), checked before reading.
- **Storage outside the web root**: ``RISK_REGISTRY_WARNING_FILES_DIR`` (default ``var/warning-files``),
  under a random name the user never chooses, in a two-character subfolder, readable by the server's
  user alone. Nothing there is served by the web server: the one way out is the download view, which
  asks the access module and writes an audit entry, and answers ``attachment`` with the sniffed type
  and ``nosniff``, so a browser never runs what it receives.

The storage helper of the register's decision files is built apart (the lead may unify them later).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

KINDS = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Stored:
    stored_as: str
    kind: str
    size: int
    sha256: str


def folder() -> Path:
    return Path(settings.RISK_REGISTRY_WARNING_FILES_DIR)


def _office_kind(upload: IO[bytes]) -> str | None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        return None  # macros: refused
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def sniff(upload: IO[bytes]) -> str | None:
    """The file's kind from its first bytes (and, for a zip, its table of contents), or None."""
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return _office_kind(upload)
    return None


def check(upload) -> str:
    """The kind of an uploaded file, or a ValidationError saying why it is refused."""
    limit = settings.RISK_REGISTRY_WARNING_FILE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("The file is too large: at most %(mb)d MB.") % {"mb": limit // (1024 * 1024)}, code="too_large"
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    kind = sniff(upload)
    if kind is None:
        raise ValidationError(
            _("Only PDF, PNG, JPEG and Word or Excel files without macros can be attached."), code="type"
        )
    return kind


def path_of(stored_as: str) -> Path:
    if len(stored_as) != 32 or not all(c in "0123456789abcdef" for c in stored_as):
        raise ValueError(stored_as)  # never a path the database did not write
    return folder() / stored_as[:2] / stored_as


def store(upload, kind: str) -> Stored:
    """Write the upload under a random name (through a temporary file, then renamed)."""
    stored_as = secrets.token_hex(16)
    target = path_of(stored_as)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = target.with_suffix(".part")
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        for chunk in upload.chunks(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    os.replace(temporary, target)
    return Stored(stored_as=stored_as, kind=kind, size=size, sha256=digest.hexdigest())


def discard(stored_as: str) -> None:
    path_of(stored_as).unlink(missing_ok=True)


def open_stored(stored_as: str) -> IO[bytes]:
    return path_of(stored_as).open("rb")
