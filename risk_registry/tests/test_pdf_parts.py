"""A long PDF laid out in parts by child processes, joined and numbered (issue 15, PDF speed): the
joined document reads as the one laid out in one piece — every point once and in order, serial
numbers unbroken, headings and signatures once, 第 N 页 共 M 页 right on every page, the CJK
fonts embedded — and is the same bytes every time (a filed version)."""

from __future__ import annotations

import io
import json
import re
import struct

import pytest

from risk_registry.documents import pdf, rendering, selectors
from risk_registry.models import RiskPoint
from risk_registry.models.register import Register, RegisterVersion
from risk_registry.tests.documents_helpers import enrich_register, pdf_fonts, pdf_reader
from risk_registry.workflow.snapshots import content_hash, register_snapshot

pytestmark = pytest.mark.django_db

FOOTER = re.compile(r"第 (\d+) 页 共 (\d+) 页")


def _render(document: rendering.Document) -> bytes:
    buffer = io.BytesIO()
    rendering.render(buffer, document=document, fmt="pdf")
    return buffer.getvalue()


def _register(world, form: str) -> rendering.Document:
    points = selectors.register_points_for_filing(institution=world.a, year=2026)
    return rendering.document_for_points(points=points, form_code=form, institution=world.a, year=2026, working=False)


def _in_parts(monkeypatch, size: int = 1) -> None:
    monkeypatch.setattr(pdf, "PARTS_FROM", 0)
    monkeypatch.setattr(pdf, "PART_POINTS", size)


def _pages(data: bytes) -> list[str]:
    return [page.extract_text() or "" for page in pdf_reader(data).pages]


def _body(pages: list[str], repeated: set[str]) -> list[str]:
    """The pages' text as lines, without the page footer and the ``repeated`` lines (the table's
    header, on every page: a document in parts has more pages)."""
    return [
        line for text in pages for line in FOOTER.sub("", text).splitlines() if line.strip() and line not in repeated
    ]


@pytest.mark.parametrize("form", ["unit-register", "department-register"])
def test_a_pdf_in_parts_reads_as_the_one_in_one_piece_with_its_pages_numbered(world, monkeypatch, form):
    enrich_register(world)
    whole = _pages(_render(_register(world, form)))
    _in_parts(monkeypatch)
    data = _render(_register(world, form))
    pages = _pages(data)
    total = len(pages)
    assert total >= len(whole) and total > 1
    # every page numbered once, 1 to M, M the joined document's pages (not a part's)
    assert [FOOTER.findall(text) for text in pages] == [[(str(n), str(total))] for n in range(1, total + 1)]
    # every point, heading and signature line once and in the same order as in one piece
    repeated = set.intersection(*(set(text.splitlines()) for text in pages))
    assert _body(pages, repeated) == _body(whole, repeated)
    assert len(_body(whole, repeated)) > 10
    assert any(re.search(r"Noto-?(Serif|Sans)-?CJK-?SC", font) for font in pdf_fonts(data))


def test_the_parts_join_in_the_same_bytes_every_time_for_a_filed_version(world, monkeypatch):
    points = enrich_register(world)
    snapshot = register_snapshot(
        institution=world.a, year=2026, points=world.a.risk_points.filter(pk__in=[p.pk for p in points])
    )
    version = RegisterVersion.objects.create(
        register=Register.objects.create(institution=world.a, year=2026),
        number=1,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        signed_by=world.principal,
        signed_at=world.principal.date_joined,
        filed_with=world.county,
    )
    _in_parts(monkeypatch, size=2)
    first = _render(rendering.document_for_version(version=version))
    assert _render(rendering.document_for_version(version=version)) == first
    pages = _pages(first)
    assert len(pages) > 1
    for text in pages:  # the version and its hash in every page's footer, beside the page number
        assert version.content_hash in re.sub(r"\s+", "", text) and FOOTER.search(text)


def test_a_long_section_goes_on_in_the_next_part_with_its_heading_and_signature_once():
    rows = [{"cells": [{"text": str(n)}]} for n in range(1, 6)]
    sections = [
        {"label": "甲", "rows": rows, "figure": "<svg/>", "signature": ["签字"], "heading": True},
        {"label": "乙", "rows": rows[:1], "figure": "", "signature": ["签字"], "heading": True},
    ]
    parts = pdf._parts(sections, 2)
    assert [[(s["label"], [r["cells"][0]["text"] for r in s["rows"]]) for s in part] for part in parts] == [
        [("甲", ["1", "2"])],
        [("甲", ["3", "4"])],
        [("甲", ["5"]), ("乙", ["1"])],
    ]
    flat = [section for part in parts for section in part]
    assert [(s["heading"], bool(s["figure"]), s["signature"]) for s in flat] == [
        (True, True, []),
        (False, False, []),
        (False, False, ["签字"]),
        (True, False, ["签字"]),
    ]


def test_a_part_that_fails_fails_the_document_and_writes_nothing(world, monkeypatch):
    enrich_register(world)
    _in_parts(monkeypatch)
    monkeypatch.setattr(pdf, "PDF_WORKERS", 2)  # a share of the parts goes to a child process, which fails
    monkeypatch.setattr(pdf, "_CHILD", "import sys; sys.exit(3)")
    buffer = io.BytesIO()
    with pytest.raises(RuntimeError, match="PDF part failed"):
        rendering.render(buffer, document=_register(world, "unit-register"), fmt="pdf")
    assert buffer.getvalue() == b""


class _Crashed:
    """A child process killed by SIGSEGV."""

    returncode = -11

    def communicate(self, *args, **kwargs):
        return b"", b"Fatal Python error: Segmentation fault"


def test_a_part_whose_child_crashes_is_laid_out_again_once_and_a_second_crash_fails(monkeypatch):
    html = '<html lang="zh-Hans"><body><p>廉政风险防控</p></body></html>'
    real_child = pdf._child
    crashes = {"left": 1}

    def crashing_child():
        if crashes["left"]:
            crashes["left"] -= 1
            return _Crashed()
        return real_child()

    warnings: list[str] = []
    monkeypatch.setattr(pdf, "_child", crashing_child)
    monkeypatch.setattr(pdf.logger, "warning", lambda message, *args: warnings.append(message % args))
    (data,) = pdf._in_child([html])
    assert crashes["left"] == 0 and "廉政风险防控" in pdf_reader(data).pages[0].extract_text()
    assert len(warnings) == 1 and "killed by signal 11" in warnings[0] and "Segmentation fault" in warnings[0]

    crashes["left"] = 2  # the same part crashes twice: the document fails, nothing half-made is returned
    with pytest.raises(RuntimeError, match="PDF part failed"):
        pdf._in_child([html])


def _counting_children(monkeypatch) -> list[tuple[object, int]]:
    """Each child process started, with the number of documents it was given (0: none)."""
    real_child = pdf._child
    children: list[tuple[object, int]] = []

    def counting_child():
        child = real_child()
        communicate = child.communicate
        index = len(children)
        children.append((child, 0))

        def counted(input=None, timeout=None):
            if input is not None:  # None: stopped unused
                children[index] = (child, len(json.loads(input)))
            return communicate(input, timeout=timeout)

        child.communicate = counted
        return child

    monkeypatch.setattr(pdf, "_child", counting_child)
    return children


def test_this_process_and_a_child_each_lay_out_a_share_of_the_parts_and_they_come_back_in_order(monkeypatch):
    htmls = [f'<html lang="zh-Hans"><body><p>第{n}部分</p></body></html>' for n in range(1, 6)]
    monkeypatch.setattr(pdf, "PDF_WORKERS", 2)
    children = _counting_children(monkeypatch)
    datas = pdf._lay_out(htmls)
    # one child for the second share (parts 2 and 4), one start-up for both; parts 1, 3 and 5 laid out here
    assert [count for _child, count in children] == [2]
    assert all(child.returncode == 0 for child, _count in children)
    assert [pdf_reader(data).pages[0].extract_text().strip() for data in datas] == [f"第{n}部分" for n in range(1, 6)]
    # a part's bytes depend neither on the parts laid out before it nor on the process that laid it out
    children.clear()
    assert pdf._lay_out([htmls[1], htmls[4]]) == [datas[1], datas[4]]  # part 2 here now, part 5 in a child
    assert [count for _child, count in children] == [1]
    children.clear()
    assert pdf._lay_out([htmls[3]]) == [datas[3]]  # a single part: laid out here, no child started
    assert children == []


def test_a_first_print_starts_one_child_and_an_edited_register_none(world, monkeypatch, tmp_path):
    points = enrich_register(world)
    monkeypatch.setattr(pdf, "PDF_WORKERS", 2)
    monkeypatch.setattr(pdf.settings, "RISK_REGISTRY_PDF_PARTS_DIR", str(tmp_path))
    _in_parts(monkeypatch)
    parts = len(list(_register(world, "unit-register").rows))
    assert parts > 2
    children = _counting_children(monkeypatch)
    first = _render(_register(world, "unit-register"))
    # one child for half the parts (this process lays out the others, then the page numbers' document)
    assert [count for _child, count in children] == [parts // 2]
    assert all(child.returncode == 0 for child, _count in children)  # ended, none left behind
    pages = len(pdf_reader(first).pages)
    assert f"第 {pages} 页 共 {pages} 页" in pdf_reader(first).pages[-1].extract_text()

    # one point edited in place: only its part is laid out again, here, and no child is started
    edited = points[-1]
    RiskPoint.objects.filter(pk=edited.pk).update(manifestation="改过的表现")
    children.clear()
    again = _render(_register(world, "unit-register"))
    assert children == [] and again != first
    assert any("改过的表现" in text for text in _pages(again))


def test_a_child_whose_output_does_not_hold_its_parts_fails_the_document():
    one = b"%PDF-1.7 a part"
    framed = struct.pack(">Q", len(one)) + one
    assert pdf._framed(framed * 2, 2) == [one, one]
    for output, count in ((framed, 2), (framed[:-3], 1), (framed + b"more", 1), (b"", 1)):
        with pytest.raises(RuntimeError, match="PDF part failed"):
            pdf._framed(output, count)
