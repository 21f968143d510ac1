"""The one module for uploaded files: kinds by content, bounds, stores that refuse foreign keys."""

import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from risk_registry.organisation import files

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n rest"
JPEG = b"\xff\xd8\xff\xe0 jpeg"
REFUSALS = files.Refusals(empty="空", too_large="大 %(size)d/%(limit)d KB %(mb)d MB", kind="类型")


def package(*names: str, size: int = 3) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, b"x" * size)
    return buffer.getvalue()


DOCX = package("[Content_Types].xml", "word/document.xml")
XLSX = package("[Content_Types].xml", "xl/workbook.xml")


def test_kinds_are_told_by_content_and_only_the_accepted_ones_answer():
    assert [files.sniff(data) for data in (PDF, PNG, JPEG, DOCX, XLSX)] == list(files.ALL)
    assert files.sniff(XLSX, (files.PDF, files.DOCX)) is None  # the caller's kinds only
    assert files.sniff(b"GIF89a") is None and files.sniff(b"") is None
    assert files.sniff(package("word/document.xml")) is None  # no [Content_Types].xml
    assert files.sniff(package("[Content_Types].xml", "evil.exe")) is None
    assert files.sniff(b"PK\x03\x04 not a zip") is None
    assert files.JPEG.extension == "jpg" and files.JPEG.name == "jpeg"


def test_macros_and_zip_bombs_are_refused_from_the_table_of_contents(monkeypatch):
    assert files.sniff(package("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin")) is None
    assert files.sniff(package("[Content_Types].xml", "xl/workbook.xml", "xl/vbaProject.bin")) is None
    monkeypatch.setattr(files, "MAX_ZIP_UNCOMPRESSED", 1000)
    assert files.sniff(package("[Content_Types].xml", "word/document.xml", size=2000)) is None
    monkeypatch.setattr(files, "MAX_ZIP_UNCOMPRESSED", 10**9)
    monkeypatch.setattr(files, "MAX_ZIP_ENTRIES", 3)
    assert files.sniff(package("[Content_Types].xml", "word/document.xml", "a", "b")) is None
    assert files.sniff(DOCX) == files.DOCX


def test_sniff_reads_uploads_and_paths_and_leaves_an_upload_at_its_start(tmp_path):
    upload = SimpleUploadedFile("a.xlsx", XLSX)
    assert files.sniff(upload) == files.XLSX and upload.read() == XLSX
    (tmp_path / "f").write_bytes(PNG)
    assert files.sniff(tmp_path / "f") == files.PNG


def test_check_bounds_size_and_kind_in_the_callers_words():
    assert files.check(PDF, limit=100, kinds=files.ALL, refusals=REFUSALS) == files.PDF
    with pytest.raises(ValidationError) as empty:
        files.check(b"", limit=100, kinds=files.ALL, refusals=REFUSALS)
    assert empty.value.messages == ["空"] and empty.value.code == "empty"
    with pytest.raises(ValidationError) as large:
        files.check(SimpleUploadedFile("a.pdf", PDF * 200), limit=2048, kinds=files.ALL, refusals=REFUSALS)
    assert large.value.messages == ["大 2/2 KB 0 MB"] and large.value.code == "too_large"
    with pytest.raises(ValidationError) as kind:
        files.check(XLSX, limit=10**6, kinds=(files.PDF,), refusals=REFUSALS)
    assert kind.value.messages == ["类型"] and kind.value.code == "type"


@pytest.fixture
def folder(settings, tmp_path):
    settings.RISK_REGISTRY_TEST_FILES_DIR = str(tmp_path / "store")
    return tmp_path / "store"


@pytest.mark.parametrize(
    "store",
    [
        files.FileStore("RISK_REGISTRY_TEST_FILES_DIR"),
        files.FileStore("RISK_REGISTRY_TEST_FILES_DIR", fan_out=True),
        files.FileStore("RISK_REGISTRY_TEST_FILES_DIR", extensions=("pdf", "jpg"), numbered=True),
    ],
)
def test_a_store_writes_streams_under_random_keys_and_refuses_foreign_keys(store, folder):
    data = PDF * 10_000  # several chunks
    stored = store.store(SimpleUploadedFile("../../a.pdf", data), kind=files.PDF, number=7)
    assert stored.sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    assert store.pattern.fullmatch(stored.key) and "/" not in stored.key
    with store.open(stored.key) as handle:
        assert handle.read() == data
    assert store.path_of(stored.key).stat().st_mode & 0o777 == 0o600
    assert store.path_of(stored.key).is_relative_to(folder)
    for foreign in ("../../etc/passwd", "/etc/passwd", "", "a" * 32 + "/../x", "0" * 31, "0" * 32 + ".exe", "x"):
        with pytest.raises(ValueError):
            store.path_of(foreign)
    store.remove(stored.key)
    assert not store.path_of(stored.key).exists()
    assert not [p for p in folder.rglob("*") if p.is_file()]  # no temporary file left


def test_a_stream_longer_than_the_limit_leaves_nothing(folder):
    store = files.FileStore("RISK_REGISTRY_TEST_FILES_DIR")
    with pytest.raises(files.TooLarge):
        store.store(PDF * 10_000, limit=1000)
    assert not [p for p in folder.rglob("*") if p.is_file()]


def test_download_names_drop_folders_and_forbidden_characters():
    assert files.download_name('关于/印发:*"规定"', "pdf", fallback="制度") == "关于印发规定.pdf"
    assert files.download_name(" . ", "pdf", fallback="制度") == "制度.pdf"
    assert files.download_name("..\\x\\纪要.final.PDF", "pdf", fallback="f", from_file_name=True) == "纪要.final.pdf"
    assert files.download_name("a\x00b\x1fc.docx", "docx", fallback="f", from_file_name=True) == "abc.docx"
    assert files.download_name("长" * 200, "pdf", fallback="f", length=80) == "长" * 80 + ".pdf"
