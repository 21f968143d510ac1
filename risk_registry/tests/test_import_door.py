"""Issue 15 defect 8 (the door's messages): an .xlsm, a password-protected workbook, an old .xls and
a damaged zip ("Bad CRC-32") are each refused with a Chinese message naming what the file is, and
the command line prints no English trailer after the Chinese problems."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from risk_registry.documents import services
from risk_registry.models import RiskPoint
from risk_registry.tests.test_documents_import import good_rows, snapshot_db, workbook_bytes

pytestmark = pytest.mark.django_db

ASCII_WORDS = re.compile(r"[A-Za-z]{4,}")


def problems_zh(world, data: bytes) -> list[str]:
    with translation.override("zh-hans"):
        result = services.register_import_check(by=world.discipline, institution=world.a, year=2026, data=data)
        return [str(problem) for problem in result.problems]


def english_words(text: str) -> list[str]:
    """Latin words of four letters or more, file extensions and product names aside."""
    return [word for word in ASCII_WORDS.findall(text) if word.lower() not in {"xlsx", "xlsm", "excel"}]


def rewritten(data: bytes, *, replace: dict[str, tuple[bytes, bytes]] | None = None, add=None, stored=()) -> bytes:
    """The zip ``data`` written again: members' bytes replaced, members added, some stored uncompressed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if replace and info.filename in replace:
                old, new = replace[info.filename]
                assert old in body
                body = body.replace(old, new)
            compress = zipfile.ZIP_STORED if info.filename in stored else zipfile.ZIP_DEFLATED
            target.writestr(info.filename, body, compress_type=compress)
        for name, body in (add or {}).items():
            target.writestr(name, body)
    return out.getvalue()


def compound_file(*streams: str) -> bytes:
    """A minimal OLE2 compound file whose directory names ``streams`` (what Excel writes for an
    old .xls, or around an .xlsx saved with a password to open). Built by hand: no library in the
    environment writes either."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512 - 8)
    entries = b"".join((name.encode("utf-16-le") + b"\0\0").ljust(128, b"\0") for name in ("Root Entry", *streams))
    return header + entries.ljust(512, b"\0") + bytes(1024)


def test_an_xlsm_is_refused_as_a_macro_enabled_workbook(world):
    good = workbook_bytes(good_rows())
    xlsm = rewritten(
        good,
        replace={
            "[Content_Types].xml": (
                b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
            )
        },
        add={"xl/vbaProject.bin": b"\0" * 64},
    )
    before = snapshot_db()
    problems = problems_zh(world, xlsm)
    assert problems == [
        "文件: 该文件是启用宏的工作簿（.xlsm），不是本页要求的 .xlsx。 "
        "（应为：在 Excel 或 WPS 中另存为 .xlsx（Excel 工作簿）的文件）"
    ]
    assert snapshot_db() == before
    # a vbaProject.bin alone (content type left as .xlsx) is refused the same way
    assert "启用宏" in problems_zh(world, rewritten(good, add={"xl/vbaProject.bin": b"\0"}))[0]
    assert problems_zh(world, good) == []  # the same workbook as .xlsx is fine


def test_a_password_protected_workbook_is_named_as_such(world):
    problems = problems_zh(world, compound_file("EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"))
    assert len(problems) == 1 and "密码" in problems[0]
    assert ".xls）" not in problems[0] and not english_words(problems[0])


def test_an_old_xls_is_named_as_such(world):
    problems = problems_zh(world, compound_file("Workbook", "\x05SummaryInformation"))
    assert len(problems) == 1 and "Excel 97–2003" in problems[0] and "（.xls）" in problems[0]
    assert "密码" not in problems[0] and not english_words(problems[0])


def test_a_bad_crc_becomes_a_chinese_message(world):
    sheet = "xl/worksheets/sheet1.xml"
    good = workbook_bytes(good_rows())
    stored = rewritten(good, stored=(sheet,))
    body = zipfile.ZipFile(io.BytesIO(stored)).read(sheet)
    at = stored.index(body) + body.index(b"<v>3</v>") + 3  # inside the member's stored bytes: the XML stays valid
    damaged = stored[:at] + b"2" + stored[at + 1 :]
    with pytest.raises(zipfile.BadZipFile, match="CRC"):
        zipfile.ZipFile(io.BytesIO(damaged)).read(sheet)  # the file really is damaged that way
    before = snapshot_db()
    problems = problems_zh(world, damaged)
    assert len(problems) == 1 and "损坏" in problems[0]
    assert "CRC" not in problems[0] and not english_words(problems[0])
    assert snapshot_db() == before


def test_a_damaged_workbook_part_hides_openpyxls_english(world):
    good = workbook_bytes(good_rows())
    broken = rewritten(good, replace={"xl/workbook.xml": (b"<sheets>", b"<sheets><broken")})
    problems = problems_zh(world, broken)
    assert len(problems) == 1 and "损坏" in problems[0] and not english_words(problems[0])


def test_the_command_prints_chinese_only(world, tmp_path, capsys):
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook_bytes(good_rows()))
    call_command("import_register", institution="bureau-a", file=str(good), year=2026, dry_run=True)
    out = capsys.readouterr().out
    assert "将导入 3 个风险点" in out and not english_words(out.replace("good.xlsx", ""))

    macro = tmp_path / "macro.xlsm"
    macro.write_bytes(rewritten(good.read_bytes(), add={"xl/vbaProject.bin": b"\0"}))
    before = RiskPoint.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command("import_register", institution="bureau-a", file=str(macro), year=2026)
    assert str(caught.value) == "发现 1 个问题：未导入任何内容。"
    err = capsys.readouterr().err
    assert "启用宏" in err and not english_words(err)
    assert RiskPoint.objects.count() == before

    with pytest.raises(CommandError) as caught:
        call_command("import_register", institution="no-such", file=str(good), year=2026)
    assert not english_words(str(caught.value).replace("no-such", ""))
