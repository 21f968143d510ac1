"""Laid-out parts of long PDFs, kept by the SHA-256 of what makes them (PDF, round 4).

A PDF of more than ``pdf.PARTS_FROM`` points is laid out in parts by child processes
(``pdf._write_in_parts``), the costly step (about 12 ms of CPU per point). A live register (the
official register before it is filed, a working copy) is printed again after a change, and a
change to one point in place changes the HTML of one part only. So each part's PDF, the footer
document of the page numbers and the joined document are kept in ``RISK_REGISTRY_PDF_PARTS_DIR``
under the SHA-256 of everything their bytes depend on: ``FORMAT``, the versions of WeasyPrint,
pydyf and pypdf, the documents' built fonts (``fonts.build_id``, their ``@font-face`` rules), the
forms' user-agent stylesheet (``user_agent.FORMS_CSS``) and the HTML. A register printed again
lays out only the parts whose HTML changed. A point added or removed renumbers (序号) every later
point, so every later part is laid out again.

- **Whole files only.** A file holds the SHA-256 of the PDF and the PDF; it is written under a
  temporary name and renamed. A file whose bytes do not match is a miss: removed and laid out again.
- **Nothing to guard.** A name is the hash of the HTML, which only the renderer holds once the
  access checks have passed; nothing lists the folder or serves it.
- **Bounded.** The hourly housekeeping (``housekeeping.py``) removes the files unused for
  ``RISK_REGISTRY_PDF_PARTS_KEEP_DAYS`` and, beyond ``RISK_REGISTRY_PDF_PARTS_MAX_BYTES``, the
  least recently used (a hit touches its file). Everything here can be laid out again: no backup.
- **Off** when the setting is empty (the test settings; the tests of this module turn it on).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

from django.conf import settings

from risk_registry.documents import fonts, user_agent
from risk_registry.organisation.files import write_whole

FORMAT = 1  # raise when the way a part is laid out changes in a way the key does not see
NAME = re.compile(r"[0-9a-f]{64}\.pdf")
PARTIAL = re.compile(r"[0-9a-f]{64}\.pdf\..+\.part")  # left by a writer killed before its rename
DIGEST = 32  # bytes of the SHA-256 before the PDF


def folder() -> Path | None:
    """Where the parts are kept, or None when keeping them is off."""
    configured = settings.RISK_REGISTRY_PDF_PARTS_DIR
    return Path(configured) if configured else None


@functools.cache
def _renderer() -> bytes:
    return f"{FORMAT}\0{version('weasyprint')}\0{version('pydyf')}\0{version('pypdf')}".encode()


def key(*texts: str) -> str:
    """The name of what is laid out from ``texts`` (an HTML, or the keys of the parts joined)."""
    digest = hashlib.sha256(_renderer())
    for text in (fonts.build_id(), fonts.font_face_css(), user_agent.FORMS_CSS, *texts):
        digest.update(b"\0")
        digest.update(text.encode())
    return digest.hexdigest()


def get(name: str) -> bytes | None:
    """The kept PDF named ``name``, or None (not kept, keeping off, or damaged: then removed)."""
    where = folder()
    if where is None:
        return None
    path = where / f"{name}.pdf"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    pdf = data[DIGEST:]
    if hashlib.sha256(pdf).digest() != data[:DIGEST]:
        path.unlink(missing_ok=True)
        return None
    try:
        os.utime(path)  # used now: the housekeeping removes the least recently used first
    except FileNotFoundError:  # removed meanwhile by the housekeeping: the bytes read are whole
        pass
    return pdf


def put(name: str, pdf: bytes) -> None:
    where = folder()
    if where is not None:
        write_whole(where / f"{name}.pdf", hashlib.sha256(pdf).digest() + pdf)


def rendered(
    htmls: list[str], render: Callable[[list[str]], list[bytes]], *, names: list[str] | None = None
) -> list[bytes]:
    """Each HTML's PDF: the kept bytes where they are, the others laid out by ``render`` in one call
    (so still ``PDF_WORKERS`` at a time) and kept. ``names``: the HTMLs' keys when the caller has
    them already (a long document names its joined file by its parts' keys)."""
    names = names if names is not None else [key(html) for html in htmls]
    found = [get(name) for name in names]
    missing = [index for index, data in enumerate(found) if data is None]
    for index, data in zip(missing, render([htmls[index] for index in missing]) if missing else [], strict=True):
        put(names[index], data)
        found[index] = data
    return [data for data in found if data is not None]


def trim(*, now: float) -> tuple[int, int]:
    """Remove the files unused for ``RISK_REGISTRY_PDF_PARTS_KEEP_DAYS``, then the least recently
    used beyond ``RISK_REGISTRY_PDF_PARTS_MAX_BYTES``, and writers' leftovers; returns the files
    removed and the bytes freed. Other names are not this module's and stay."""
    where = folder()
    if where is None or not where.is_dir():
        return 0, 0
    cutoff = now - settings.RISK_REGISTRY_PDF_PARTS_KEEP_DAYS * 24 * 3600
    kept: list[tuple[float, int, Path]] = []
    doomed: list[tuple[int, Path]] = []
    for path in where.iterdir():
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if NAME.fullmatch(path.name) and stat.st_mtime >= cutoff:
            kept.append((stat.st_mtime, stat.st_size, path))
        elif NAME.fullmatch(path.name) or (PARTIAL.fullmatch(path.name) and stat.st_mtime < now - 3600):
            doomed.append((stat.st_size, path))
    total = 0
    for _mtime, size, path in sorted(kept, key=lambda entry: entry[0], reverse=True):
        total += size
        if total > settings.RISK_REGISTRY_PDF_PARTS_MAX_BYTES:
            doomed.append((size, path))
    removed = freed = 0
    for size, path in doomed:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed, freed = removed + 1, freed + size
    return removed, freed
