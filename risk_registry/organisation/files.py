"""Uploaded files, one way for the whole product: what a file is (by its content), whether it may be
kept (size and kind), where it lies (outside the web root, under a random name) and what it is called
when it is downloaded.

Four callers use it, each with its own folder setting, its accepted kinds and its own words for a
refusal: the rules' files (``controls.attachments``), the report files of warning notices
(``integrity_warnings.files``), the decisions' attachments (``risk_registry.workflow.attachments``)
and the unit assessments' evidence (``assessments.unit``).

- **Kind by content**, never by the name or the browser's word: PDF, PNG, JPEG, and Word (.docx) or
  Excel (.xlsx) packages without macros. A package is a zip holding ``[Content_Types].xml`` and
  ``word/document.xml`` or ``xl/workbook.xml``, no ``vbaProject.bin``, at most ``MAX_ZIP_ENTRIES``
  entries and ``MAX_ZIP_UNCOMPRESSED`` bytes unpacked (a zip bomb is refused from its table of
  contents, never unpacked).
- **Storage**: a ``FileStore`` per folder setting writes a file under a random key (streamed in
  chunks through a temporary file readable by the server's user alone, then renamed) and returns its
  size and SHA-256. ``path_of`` answers only for keys of the store's own pattern: no path from the
  database or a request ever leaves the folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError

MAX_ZIP_ENTRIES = 2000
MAX_ZIP_UNCOMPRESSED = 200 * 1024 * 1024
CHUNK = 64 * 1024
HEX = "[0-9a-f]{32}"


@dataclass(frozen=True)
class Kind:
    name: str  # what the records keep: pdf, png, jpeg, docx, xlsx
    extension: str  # the stored and downloaded file's extension, without the dot
    content_type: str


PDF = Kind("pdf", "pdf", "application/pdf")
PNG = Kind("png", "png", "image/png")
JPEG = Kind("jpeg", "jpg", "image/jpeg")
DOCX = Kind("docx", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = Kind("xlsx", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
ALL = (PDF, PNG, JPEG, DOCX, XLSX)
BY_NAME = {kind.name: kind for kind in ALL}
BY_EXTENSION = {kind.extension: kind for kind in ALL}


def _handle(source: bytes | IO[bytes]) -> IO[bytes]:
    return io.BytesIO(source) if isinstance(source, bytes | bytearray) else source


def _package_kind(handle: IO[bytes]) -> Kind | None:
    """DOCX or XLSX from the zip's table of contents (bounded), or None."""
    handle.seek(0)
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        handle.seek(0)
    if len(infos) > MAX_ZIP_ENTRIES or sum(info.file_size for info in infos) > MAX_ZIP_UNCOMPRESSED:
        return None
    names = {info.filename for info in infos}
    if "[Content_Types].xml" not in names or any(name.lower().endswith("vbaproject.bin") for name in names):
        return None  # not a package, or one with macros
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def sniff(source: bytes | IO[bytes] | Path, kinds: Collection[Kind] = ALL) -> Kind | None:
    """The file's kind from its content when it is one of ``kinds``, else None. A file object is
    left at its start."""
    if isinstance(source, Path):
        with source.open("rb") as opened:
            return sniff(opened, kinds)
    handle = _handle(source)
    handle.seek(0)
    head = handle.read(8)
    handle.seek(0)
    kind: Kind | None = None
    if head.startswith(b"%PDF-"):
        kind = PDF
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = PNG
    elif head.startswith(b"\xff\xd8\xff"):
        kind = JPEG
    elif head.startswith(b"PK\x03\x04"):
        kind = _package_kind(handle)
    return kind if kind in kinds else None


@dataclass(frozen=True)
class Refusals:
    """The caller's words for a refused file (already translated). ``too_large`` may use
    ``%(size)d`` and ``%(limit)d`` (KB) and ``%(mb)d`` (the limit in MB)."""

    empty: str
    too_large: str
    kind: str


def check(source: bytes | Any, *, limit: int, kinds: Collection[Kind], refusals: Refusals) -> Kind:
    """The kind of a file (bytes or an uploaded file), or a ValidationError in the caller's words
    (codes ``empty``, ``too_large``, ``type``). The size is checked before anything is read."""
    size = len(source) if isinstance(source, bytes | bytearray) else int(source.size)
    if size == 0:
        raise ValidationError(refusals.empty, code="empty")
    if size > limit:
        figures = {"size": size // 1024, "limit": limit // 1024, "mb": limit // (1024 * 1024)}
        raise ValidationError(refusals.too_large % figures, code="too_large")
    kind = sniff(source, kinds)
    if kind is None:
        raise ValidationError(refusals.kind, code="type")
    return kind


class TooLarge(Exception):
    """The stream turned out longer than the store's limit (its announced size lied); nothing kept."""


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


def _chunks(source: bytes | Any) -> Iterator[bytes]:
    if isinstance(source, bytes | bytearray):
        for start in range(0, len(source), CHUNK):
            yield bytes(source[start : start + CHUNK])
        return
    if hasattr(source, "seek"):
        source.seek(0)
    yield from source.chunks(CHUNK)


@dataclass(frozen=True)
class FileStore:
    """One folder of stored files. ``setting`` names the folder's setting; keys are
    ``<prefix-digits>-<32 hex>.<extension>``, ``<32 hex>.<extension>`` or ``<32 hex>`` as the store says;
    ``fan_out`` puts each file in a subfolder of its key's first two characters."""

    setting: str
    extensions: tuple[str, ...] = ()  # empty: keys without an extension
    numbered: bool = False  # keys start with a number (the owning row's) and a dash
    fan_out: bool = False

    @property
    def pattern(self) -> re.Pattern[str]:
        prefix = r"\d+-" if self.numbered else ""
        suffix = r"\.(" + "|".join(map(re.escape, self.extensions)) + ")" if self.extensions else ""
        return re.compile(prefix + HEX + suffix)

    def root(self) -> Path:
        return Path(getattr(settings, self.setting))

    def folder(self) -> Path:
        """The folder, created when missing."""
        path = self.root()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def path_of(self, key: str) -> Path:
        """The stored file of a key; ValueError for anything that is not one of this store's keys."""
        if not isinstance(key, str) or not self.pattern.fullmatch(key):
            raise ValueError(f"not a stored file's key: {key!r}")
        root = self.root()
        return root / key[:2] / key if self.fan_out else root / key

    def store(
        self, source: bytes | Any, *, kind: Kind | None = None, number: int | None = None, limit: int | None = None
    ) -> Stored:
        """Write bytes or an uploaded file (in chunks) under a new random key; with ``limit``, a
        stream longer than it raises TooLarge and leaves nothing behind."""
        key = secrets.token_hex(16)
        if self.numbered:
            key = f"{int(number or 0)}-{key}"
        if self.extensions:
            if kind is None:
                raise ValueError("this store's keys carry the kind's extension")
            key = f"{key}.{kind.extension}"
        target = self.path_of(key)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".part")
        digest, size = hashlib.sha256(), 0
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                for chunk in _chunks(source):
                    size += len(chunk)
                    if limit is not None and size > limit:
                        raise TooLarge(key)
                    digest.update(chunk)
                    out.write(chunk)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return Stored(key=key, size=size, sha256=digest.hexdigest())

    def open(self, key: str) -> IO[bytes]:
        return self.path_of(key).open("rb")

    def remove(self, key: str) -> None:
        if key:
            self.path_of(key).unlink(missing_ok=True)


FORBIDDEN = re.compile(r'[\\/:*?"<>|]+')


def write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` under a temporary name and rename it: a reader never sees half a
    file, and two writers of the same bytes at once are harmless."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def download_name(text: str, extension: str, *, fallback: str, length: int = 80, from_file_name: bool = False) -> str:
    """A file name for a download: ``text`` (a title, or with ``from_file_name`` the uploader's file
    name, of which the folders and the extension are dropped) without control characters or the
    characters a file system refuses, cut to ``length`` characters, with ``extension``."""
    text = str(text or "")
    if from_file_name:
        text = PurePath(text.replace("\\", "/")).name
        text = text.rsplit(".", 1)[0] if "." in text else text
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    stem = FORBIDDEN.sub("", text).strip(" .")[:length].strip() or fallback
    return f"{stem}.{extension}"
