"""Issue 15 defect 2: small files that beat the import guard. Each bomb is built here with zipfile
(small on disk), refused with a Chinese message naming what was too large, and the reading stops
at the first bound crossed: the number of XML elements parsed is asserted, never the time (the
time and memory of the full-size bombs are the benchmark's: ``benchmark_documents --bombs``)."""

from __future__ import annotations

import pytest
from django.utils import translation

from risk_registry.documents import importer, services
from risk_registry.documents.bombs import BOMBS, build_bomb, workbook_zip
from risk_registry.documents.workbook import ImportRefused
from risk_registry.models import RiskPoint
from risk_registry.tests.test_documents_import import good_rows, workbook_bytes

# The parts of a workbook before its sheet (content types aside): rels, workbook, its rels.
OVERHEAD = 20


def refused(data: bytes) -> ImportRefused:
    with translation.override("zh-hans"), pytest.raises(ImportRefused) as caught:
        importer.read_grid(data)
    return caught.value


def chinese(error: ImportRefused) -> str:
    with translation.override("zh-hans"):
        return str(error.problem)


def test_empty_rows_stop_at_the_row_bound(settings):
    settings.RISK_REGISTRY_IMPORT_MAX_ROWS = 500
    data = build_bomb("rows", 200_000)
    assert len(data) < 100_000
    error = refused(data)
    assert "工作表超过 510 行" in chinese(error)
    assert error.elements <= 510 + 1 + OVERHEAD  # 200,000 rows in the file: reading stopped at 511


def test_the_default_row_bound_refuses_the_17_million_row_bomb_early():
    """A smaller count than the reported 17.3 M, still past the default bound (20,000 + header)."""
    error = refused(build_bomb("rows", 60_000))
    assert "工作表超过 20,010 行" in chinese(error)
    assert error.elements <= 20_011 + OVERHEAD


def test_shared_strings_stop_at_their_count(settings):
    settings.RISK_REGISTRY_IMPORT_MAX_SHARED_STRINGS = 1000
    error = refused(build_bomb("shared-strings", 50_000))
    assert "共享字符串超过 1,000 个" in chinese(error)
    assert error.elements <= 2 * 1000 + 2 + OVERHEAD  # <si><t> per string


def test_shared_strings_stop_at_their_total_length(settings):
    settings.RISK_REGISTRY_IMPORT_MAX_SHARED_TEXT = 100_000
    error = refused(build_bomb("shared-text", 1000))  # 1,000 strings of 10,000 characters
    assert "共享字符串合计超过 100,000 个字符" in chinese(error)
    assert error.elements <= 2 * 11 + 2 + OVERHEAD


def test_many_styles_are_refused(settings):
    settings.RISK_REGISTRY_IMPORT_MAX_STYLES = 500
    error = refused(build_bomb("styles", 10_000))
    assert "单元格样式超过 500 个" in chinese(error)
    assert error.elements <= 500 + 3 + OVERHEAD


def test_the_default_style_bound_is_excels_own():
    error = refused(build_bomb("styles", 70_000))
    assert "单元格样式超过 64,000 个" in chinese(error)


def test_many_sheets_are_refused():
    error = refused(build_bomb("sheets", 1000))
    assert "工作簿的工作表超过 100 个" in chinese(error)
    assert error.elements <= 100 + 3 + OVERHEAD


def test_a_huge_inline_cell_is_refused_while_it_is_read():
    error = refused(build_bomb("cell", 5_000_000))  # one cell of 5 million characters
    assert "有单元格超过 32,767 个字符" in chinese(error)


def test_a_huge_shared_string_is_refused():
    data = workbook_zip(
        sheet=b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>',
        shared=b"<si><t>" + "字".encode() * 40_000 + b"</t></si>",
    )
    assert "有单元格超过 32,767 个字符" in chinese(refused(data))


def test_many_empty_cells_stop_at_the_cell_bound(settings):
    settings.RISK_REGISTRY_IMPORT_MAX_CELLS = 1000
    error = refused(build_bomb("cells", 100_000))  # rows of 40 empty <c/>
    assert "工作表超过 1,000 个单元格" in chinese(error)
    assert error.elements <= 1000 + 1000 // 40 + 2 + OVERHEAD


def test_a_tag_that_never_ends_is_refused():
    error = refused(build_bomb("tag", 8 * 1024 * 1024))  # one attribute of 8 MB
    assert "单个标记超过 1,048,576 字节" in chinese(error)


def test_a_document_type_declaration_is_refused():
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>'
    )
    data = workbook_zip(sheet=b"", sheet_document=laughs)
    assert "文档类型声明" in chinese(refused(data))


def test_a_zip_that_lies_about_its_size_reads_no_more_than_it_claims():
    """The sheet claims 1 KB and inflates to megabytes: reading stops at the claimed size and the
    file is refused as damaged (its check sum cannot match), never read on."""
    error = refused(build_bomb("lie", 200_000))
    assert "损坏" in chinese(error)
    assert error.elements < 1024


def test_a_zip_whose_contents_claim_too_much_is_refused_before_reading(settings):
    settings.RISK_REGISTRY_IMPORT_MAX_UNPACKED_BYTES = 100_000
    error = refused(build_bomb("rows", 200_000))  # 1.4 MB of <row/> claimed honestly
    assert error.elements == 0


@pytest.mark.django_db
def test_a_bomb_through_the_import_service_writes_nothing(world, settings):
    settings.RISK_REGISTRY_IMPORT_MAX_SHARED_STRINGS = 1000
    before = RiskPoint.objects.count()
    with translation.override("zh-hans"):
        result = services.register_import_check(
            by=world.discipline, institution=world.a, year=2026, data=build_bomb("shared-strings", 5000)
        )
    assert not result.ok
    assert "共享字符串" in str(result.problems[0])
    assert RiskPoint.objects.count() == before


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_every_bomb_of_the_benchmark_is_refused(kind, settings):
    """The benchmark's bombs (at a size the suite can afford) are each refused."""
    settings.RISK_REGISTRY_IMPORT_MAX_ROWS = 100
    settings.RISK_REGISTRY_IMPORT_MAX_SHARED_STRINGS = 100
    settings.RISK_REGISTRY_IMPORT_MAX_SHARED_TEXT = 10_000
    settings.RISK_REGISTRY_IMPORT_MAX_STYLES = 100
    settings.RISK_REGISTRY_IMPORT_MAX_SHEETS = 10
    settings.RISK_REGISTRY_IMPORT_MAX_CELLS = 100
    settings.RISK_REGISTRY_IMPORT_MAX_CELL_TEXT = 1000
    refused(build_bomb(kind, BOMBS[kind].test_size))


@pytest.mark.django_db
def test_an_ordinary_register_passes_the_bounds(world):
    grid = importer.read_grid(workbook_bytes(good_rows()))
    assert len(grid.cells) >= 3
