"""The files attached to rules (制度目录): a thin user of ``risk_registry.organisation.files``.

A file is stored under ``RISK_REGISTRY_RULE_FILES_DIR`` (outside the web root: nothing serves
that folder) by a random key with the extension of its sniffed kind; the name the user gave it is
kept on the rule for the page, never used as a path. Its kind is told from its content: a PDF, a
Word document (.docx), a PNG or a JPEG image. The pages serve a file only to those who may see its
rule, and the public disclosure page only for a rule it shows.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from risk_registry.organisation import files
from risk_registry.organisation.files import DOCX, JPEG, PDF, PNG, Kind

__all__ = [
    "DOCX",
    "JPEG",
    "KINDS",
    "PDF",
    "PNG",
    "Kind",
    "check",
    "download_name",
    "path_of",
    "remove",
    "sniff",
    "store",
]

KINDS = (PDF, DOCX, PNG, JPEG)
STORE = files.FileStore("RISK_REGISTRY_RULE_FILES_DIR", extensions=("pdf", "docx", "png", "jpg"))


def sniff(data: bytes) -> Kind | None:
    """The file's kind from its content, or None for any other file."""
    return files.sniff(data, KINDS)


def check(data: bytes) -> Kind:
    """The file's kind; ValidationError (in words the form shows) for an empty, too large or
    unaccepted file."""
    return files.check(
        data,
        limit=settings.RISK_REGISTRY_RULE_FILE_MAX_BYTES,
        kinds=KINDS,
        refusals=files.Refusals(
            empty=_("The file is empty."),
            too_large=_("The file is %(size)d KB; at most %(limit)d KB."),
            kind=_("Only a PDF, a Word document (.docx), a PNG or a JPEG image can be attached."),
        ),
    )


def folder() -> Path:
    return STORE.folder()


def path_of(key: str) -> Path:
    """The stored file of a key (a key is ours: random hex and a known extension, no path)."""
    return STORE.path_of(key)


def store(data: bytes, kind: Kind) -> str:
    """Write the file under a new random key; return the key."""
    return STORE.store(data, kind=kind).key


def remove(key: str) -> None:
    STORE.remove(key)


def download_name(title: str, extension: str) -> str:
    """The rule's title as the file's name (Chinese, as the catalogue names it), without the
    characters a file system refuses."""
    return files.download_name(title, extension, fallback="制度")
