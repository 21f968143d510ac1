"""Workbooks built to beat an import: small on disk, huge once read (issue 15 defect 2).

``benchmark_documents --bombs`` times the reader on each at full size (17.3 million empty rows in
a file of a few hundred KB, 5.5 million shared strings, …); the tests build the same at a size
they can afford and assert that each is refused at its first bound. The parts are written in
chunks, so building the full-size bombs costs little memory either.
"""

from __future__ import annotations

import io
import itertools
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
OFFICE_RELS = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = b"http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    b"</Types>"
)
CHUNK_ITEMS = 10_000


@dataclass(frozen=True)
class Bomb:
    description: str  # for the benchmark's table
    full_size: int  # what the benchmark builds (the figures where it gave them)
    test_size: int  # what the suite builds, past the bounds it sets


BOMBS = {
    "rows": Bomb("17.3 M empty <row/>", 17_300_000, 1000),
    "shared-strings": Bomb("5.5 M shared strings", 5_500_000, 1000),
    "shared-text": Bomb("shared strings of 10,000 characters, 95 MB in all", 4_750, 100),
    "styles": Bomb("5 M cell styles", 5_000_000, 1000),
    "sheets": Bomb("1 M sheets", 1_000_000, 100),
    "cell": Bomb("one cell of 90 M characters", 90_000_000, 100_000),
    "cells": Bomb("15 M empty <c/> in 40-cell rows", 15_000_000, 1000),
    "tag": Bomb("one attribute of 90 MB", 90_000_000, 2_000_000),
    "lie": Bomb("17.3 M rows in a sheet claiming 1 KB", 17_300_000, 1000),
}


def _repeat(item: bytes, count: int) -> Iterable[bytes]:
    for start in range(0, count, CHUNK_ITEMS):
        yield item * min(CHUNK_ITEMS, count - start)


def _numbered(template: str, count: int) -> Iterable[bytes]:
    for start in range(0, count, CHUNK_ITEMS):
        yield "".join(template.format(n) for n in range(start, min(start + CHUNK_ITEMS, count))).encode()


def _chars(count: int, char: bytes = b"x") -> Iterable[bytes]:
    return _repeat(char, count) if count < CHUNK_ITEMS else _repeat(char * 1000, count // 1000)


def _document(root: bytes, body: Iterable[bytes]) -> Iterable[bytes]:
    yield b'<?xml version="1.0" encoding="UTF-8"?><' + root + b' xmlns="' + MAIN + b'" xmlns:r="' + OFFICE_RELS + b'">'
    yield from body
    yield b"</" + root + b">"


def workbook_zip(
    *,
    sheet: bytes | Iterable[bytes] = b"<sheetData/>",
    shared: bytes | Iterable[bytes] | None = None,
    styles: bytes | Iterable[bytes] | None = None,
    sheet_count: int = 1,
    sheet_document: bytes | None = None,
) -> bytes:
    """A minimal .xlsx: its sheet's body (``<sheetData>`` and what goes with it), optional shared
    strings' and styles' bodies, ``sheet_count`` sheets listed (all the same part), or a whole sheet
    document as given."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr(
            "_rels/.rels",
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="' + PACKAGE_RELS + b'">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            b'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        related = [(b"worksheet", b"worksheets/sheet1.xml")]
        if shared is not None:
            related.append((b"sharedStrings", b"sharedStrings.xml"))
            _write(archive, "xl/sharedStrings.xml", _document(b"sst", _chunks(shared)))
        if styles is not None:
            related.append((b"styles", b"styles.xml"))
            _write(archive, "xl/styles.xml", _document(b"styleSheet", _chunks(styles)))
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
            + PACKAGE_RELS
            + b'">'
            + b"".join(
                b'<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/%s"'
                b' Target="%s"/>' % (number, kind, target)
                for number, (kind, target) in enumerate(related, start=1)
            )
            + b"</Relationships>",
        )
        listed = _numbered('<sheet name="表{0}" sheetId="{0}" r:id="rId1"/>', sheet_count)
        _write(
            archive, "xl/workbook.xml", _document(b"workbook", itertools.chain([b"<sheets>"], listed, [b"</sheets>"]))
        )
        if sheet_document is not None:
            archive.writestr("xl/worksheets/sheet1.xml", sheet_document)
        else:
            _write(archive, "xl/worksheets/sheet1.xml", _document(b"worksheet", _chunks(sheet)))
    return out.getvalue()


def _chunks(body: bytes | Iterable[bytes]) -> Iterable[bytes]:
    return [body] if isinstance(body, bytes) else body


def _write(archive: zipfile.ZipFile, name: str, chunks: Iterable[bytes]) -> None:
    with archive.open(name, "w", force_zip64=True) as target:
        for chunk in chunks:
            target.write(chunk)


def _sheet_data(body: Iterable[bytes]) -> Iterable[bytes]:
    yield b"<sheetData>"
    yield from body
    yield b"</sheetData>"


def build_bomb(kind: str, size: int) -> bytes:
    """The bomb ``kind`` of BOMBS at ``size`` (rows, strings, styles, sheets, characters, cells or bytes)."""
    if kind == "rows":
        return workbook_zip(sheet=_sheet_data(_repeat(b"<row/>", size)))
    if kind == "lie":
        document = b"".join(_document(b"worksheet", _sheet_data(_repeat(b"<row/>", size))))
        return claiming(workbook_zip(sheet_document=document), "xl/worksheets/sheet1.xml", 1024)
    if kind == "shared-strings":
        return workbook_zip(shared=_repeat(b"<si><t>x</t></si>", size))  # 17 bytes each: 93.5 MB at 5.5 M
    if kind == "shared-text":
        return workbook_zip(shared=_repeat(b"<si><t>" + b"x" * 10_000 + b"</t></si>", size))
    if kind == "styles":
        return workbook_zip(
            styles=itertools.chain([b"<cellXfs>"], _repeat(b'<xf numFmtId="0"/>', size), [b"</cellXfs>"])
        )
    if kind == "sheets":
        return workbook_zip(sheet_count=size)
    if kind == "cell":
        cell = itertools.chain([b'<row r="1"><c r="A1" t="inlineStr"><is><t>'], _chars(size), [b"</t></is></c></row>"])
        return workbook_zip(sheet=_sheet_data(cell))
    if kind == "cells":
        return workbook_zip(sheet=_sheet_data(_repeat(b"<row>" + b"<c/>" * 40 + b"</row>", size // 40)))
    if kind == "tag":
        tag = itertools.chain([b'<row r="1" spans="'], _chars(size), [b'"/>'])
        return workbook_zip(sheet=_sheet_data(tag))
    raise ValueError(kind)


def claiming(data: bytes, member: str, claimed: int) -> bytes:
    """The zip with ``member``'s uncompressed size replaced by ``claimed`` in its local header and
    in the central directory: the table of contents lies about what the part inflates to. The
    member must have been written without zip64 (``writestr`` of bytes under 4 GB)."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(member)
    buffer = bytearray(data)
    struct.pack_into("<I", buffer, info.header_offset + 22, claimed)
    central = data.rindex(b"PK\x05\x06")  # the end of the central directory: where it starts
    (central,) = struct.unpack_from("<I", buffer, central + 16)
    while True:
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", buffer, central + 28)
        if bytes(buffer[central + 46 : central + 46 + name_length]).decode() == member:
            struct.pack_into("<I", buffer, central + 24, claimed)
            return bytes(buffer)
        central += 46 + name_length + extra_length + comment_length
