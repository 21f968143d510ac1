"""A live register's long PDF printed again lays out only the parts whose HTML changed (PDF, round
4): the kept parts give the same bytes as a fresh layout, a damaged kept file is never used, and
the housekeeping bounds the folder."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from risk_registry.documents import part_cache, pdf
from risk_registry.documents.housekeeping import documents_housekeeping
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import AuditEntry
from risk_registry.tests.documents_helpers import enrich_register
from risk_registry.tests.test_pdf_parts import FOOTER, _in_parts, _pages, _register, _render

pytestmark = pytest.mark.django_db

DAY = 24 * 3600


@pytest.fixture
def kept(settings, tmp_path) -> Path:
    settings.RISK_REGISTRY_PDF_PARTS_DIR = str(tmp_path / "pdf-parts")
    return tmp_path / "pdf-parts"


@pytest.fixture
def laid_out(monkeypatch) -> list[int]:
    """The number of HTMLs laid out, call by call."""
    real = pdf._lay_out
    calls: list[int] = []

    def counting(htmls: list[str]) -> list[bytes]:
        calls.append(len(htmls))
        return real(htmls)

    monkeypatch.setattr(pdf, "_lay_out", counting)
    return calls


def test_a_register_printed_again_lays_out_only_the_parts_that_changed(world, monkeypatch, settings, kept, laid_out):
    points = enrich_register(world)
    _in_parts(monkeypatch)  # a part per point
    first = _render(_register(world, "unit-register"))
    assert laid_out == [len(points), 1]  # every part, then the page numbers' document

    laid_out.clear()  # unchanged: the joined document kept, nothing laid out
    assert _render(_register(world, "unit-register")) == first and laid_out == []

    edited = points[-1]
    RiskPoint.objects.filter(pk=edited.pk).update(manifestation="改过的表现")
    again = _render(_register(world, "unit-register"))
    assert laid_out == [1]  # that point's part only; the same number of pages: their footer kept
    assert any("改过的表现" in text for text in _pages(again))
    settings.RISK_REGISTRY_PDF_PARTS_DIR = ""  # the same bytes as laid out afresh
    assert _render(_register(world, "unit-register")) == again
    pages = _pages(again)
    assert [FOOTER.findall(text) for text in pages] == [[(str(n), str(len(pages)))] for n in range(1, len(pages) + 1)]


def test_a_damaged_kept_part_is_never_used(world, monkeypatch, kept, laid_out):
    points = enrich_register(world)
    _in_parts(monkeypatch)
    first = _render(_register(world, "unit-register"))
    files = sorted(kept.iterdir())
    assert len(files) == len(points) + 2  # the parts, the page numbers, the joined document
    for path in files:  # one byte of each PDF changed (its recorded SHA-256 no longer matches)
        data = bytearray(path.read_bytes())
        data[-10] ^= 0xFF
        path.write_bytes(bytes(data))
    laid_out.clear()
    assert _render(_register(world, "unit-register")) == first
    assert laid_out == [len(points), 1]


def test_nothing_is_kept_when_the_folder_is_not_set(world, monkeypatch, settings, tmp_path, laid_out):
    settings.RISK_REGISTRY_PDF_PARTS_DIR = ""
    enrich_register(world)
    _in_parts(monkeypatch)
    first = _render(_register(world, "unit-register"))
    assert _render(_register(world, "unit-register")) == first
    assert laid_out[0] == laid_out[2] and len(laid_out) == 4 and not list(tmp_path.iterdir())


def test_the_key_changes_with_the_html_and_the_fonts(monkeypatch):
    assert part_cache.key("<p>甲</p>") == part_cache.key("<p>甲</p>") != part_cache.key("<p>乙</p>")
    before = part_cache.key("<p>甲</p>")
    monkeypatch.setattr(part_cache.fonts, "build_id", lambda: "another build")
    assert part_cache.key("<p>甲</p>") != before


def _keep(folder: Path, name: str, size: int, age_days: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(b"x" * size)
    stamp = time.time() - age_days * DAY
    os.utime(path, (stamp, stamp))
    return path


def test_the_housekeeping_removes_unused_and_least_recently_used_parts(world, kept, settings, tmp_path):
    settings.BASE_DIR = tmp_path  # a var/exports of the test's own
    settings.RISK_REGISTRY_PDF_PARTS_KEEP_DAYS = 7
    settings.RISK_REGISTRY_PDF_PARTS_MAX_BYTES = 2500
    name = lambda n: hashlib.sha256(str(n).encode()).hexdigest() + ".pdf"  # noqa: E731
    old = _keep(kept, name(1), 100, age_days=8)
    recent = [_keep(kept, name(n), 1000, age_days=n / 10) for n in range(2, 6)]  # 2: the most recent
    leftover = _keep(kept, name(6) + ".abc123.part", 50, age_days=1)
    young_leftover = _keep(kept, name(7) + ".abc123.part", 50, age_days=0)
    other = _keep(kept, "notes.txt", 10, age_days=30)

    result = documents_housekeeping()
    assert result.parts_removed == 4 and result.bytes_freed == 100 + 1000 + 1000 + 50
    assert [path.exists() for path in (old, *recent, leftover, young_leftover, other)] == [
        False,
        True,
        True,
        False,
        False,
        False,
        True,
        True,
    ]
    entry = AuditEntry.objects.get(action="documents.housekeeping")
    assert entry.changes["parts_removed"] == 4 and "4" in entry.summary
    assert documents_housekeeping().parts_removed == 0
