"""Files attached to the written reports of notices (成因剖析, 整改措施): a thin user of
``risk_registry.organisation.files``.

- **Type by content**, never by name or the browser's word: PDF, PNG, JPEG, and Word/Excel documents
  without macros. Anything else is refused with a Chinese message.
- **Size**: at most ``RISK_REGISTRY_WARNING_FILE_MAX_BYTES`` (10 MB by default), checked before reading.
- **Storage outside the web root**: ``RISK_REGISTRY_WARNING_FILES_DIR`` (default ``var/warning-files``),
  under a random name the user never chooses, in a two-character subfolder, readable by the server's
  user alone. Nothing there is served by the web server: the one way out is the download view, which
  asks the access module and writes an audit entry, and answers ``attachment`` with the sniffed type
  and ``nosniff``, so a browser never runs what it receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from risk_registry.organisation import files

ACCEPTED = (files.PDF, files.PNG, files.JPEG, files.DOCX, files.XLSX)
KINDS = {kind.name: kind.content_type for kind in ACCEPTED}  # the kind a row keeps: its content type
STORE = files.FileStore("RISK_REGISTRY_WARNING_FILES_DIR", fan_out=True)


@dataclass(frozen=True)
class Stored:
    stored_as: str
    kind: str
    size: int
    sha256: str


def folder() -> Path:
    return Path(settings.RISK_REGISTRY_WARNING_FILES_DIR)


def sniff(upload: IO[bytes]) -> str | None:
    """The file's kind from its first bytes (and, for a zip, its table of contents), or None."""
    kind = files.sniff(upload, ACCEPTED)
    return kind.name if kind is not None else None


def check(upload: Any) -> str:
    """The kind of an uploaded file, or a ValidationError saying why it is refused."""
    return files.check(
        upload,
        limit=settings.RISK_REGISTRY_WARNING_FILE_MAX_BYTES,
        kinds=ACCEPTED,
        refusals=files.Refusals(
            empty=_("The file is empty."),
            too_large=_("The file is too large: at most %(mb)d MB."),
            kind=_("Only PDF, PNG, JPEG and Word or Excel files without macros can be attached."),
        ),
    ).name


def path_of(stored_as: str) -> Path:
    return STORE.path_of(stored_as)  # never a path the database did not write


def store(upload: Any, kind: str) -> Stored:
    """Write the upload under a random name (through a temporary file, then renamed)."""
    stored = STORE.store(upload)
    return Stored(stored_as=stored.key, kind=kind, size=stored.size, sha256=stored.sha256)


def discard(stored_as: str) -> None:
    STORE.remove(stored_as)


def open_stored(stored_as: str) -> IO[bytes]:
    return STORE.open(stored_as)
