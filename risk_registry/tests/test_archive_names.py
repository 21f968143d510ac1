"""The annual archive's members are named in Chinese, by the institution, the year and the document's
title, and the zip marks those names as UTF-8 so that Windows' unzip shows them (issue 16)."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile

import pytest
from django.core.management import call_command

from risk_registry.documents.definitions import FILED_FORM, FORMS
from risk_registry.tests.test_documents_export import filed_version

pytestmark = pytest.mark.django_db

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
UTF8_FLAG = 0x800


def _archive(world, tmp_path):
    filed_version(world)
    call_command("export_archive", institution="bureau-a", year=2026, out=str(tmp_path))
    (path,) = tmp_path.glob("*.zip")
    return path


def test_every_member_of_the_archive_is_named_in_chinese_and_flagged_utf8(world, tmp_path):
    path = _archive(world, tmp_path)
    assert path.name == f"{world.a.name}_2026_年度归档.zip"
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        for info in infos:
            assert info.flag_bits & UTF8_FLAG, info.filename
        for name in names:
            stem = name.rsplit(".", 1)[0]
            assert not LATIN_WORD.search(stem.replace("SHA256", "")), name  # no English word, no code
            assert "bureau-a" not in name
        folder = f"{world.a.name}_2026_年度归档"
        assert all(name.startswith(f"{folder}/") for name in names)
        for form in FORMS.values():
            assert f"{folder}/{world.a.name}_2026_{form.title}.xlsx" in names
            assert f"{folder}/{world.a.name}_2026_{form.title}.pdf" in names
        filed = f"{folder}/备案文本/{world.a.name}_2026_{FORMS[FILED_FORM].title}_v1"
        assert f"{filed}.pdf" in names and f"{filed}.json" in names
        assert f"{folder}/{world.a.name}_2026_廉政风险统计看板.pdf" in names
        manifest = json.loads(archive.read(f"{folder}/文件清单.json"))
        assert {item["name"] for item in manifest["files"]} <= set(names)
        assert manifest["authoritative"]["documents"] == [f"{filed}.pdf", f"{filed}.json"]
        assert f"{world.a.name}_2026_{FORMS[FILED_FORM].title}_v1.pdf" in manifest["authoritative"]["statement"]
        sums = archive.read(f"{folder}/SHA256校验值.txt").decode()
        for line in sums.splitlines():
            digest, relative = line.split("  ", 1)
            assert hashlib.sha256(archive.read(f"{folder}/{relative}")).hexdigest() == digest
