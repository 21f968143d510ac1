"""Exports in the official forms: Excel and PDF round-trip the register; fonts, pages, signature,
formula injection, filed versions, access and audit."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.http import urlencode
from openpyxl import load_workbook

from controls.models import Control
from risk_registry.documents import pdf, rendering, selectors, services
from risk_registry.documents.archive import CHECKSUMS, DASHBOARD_TITLE, MANIFEST, ArchiveNames
from risk_registry.documents.definitions import FORMS
from risk_registry.documents.models import ExportJob
from risk_registry.models import RiskPointState
from risk_registry.models.register import Register, RegisterVersion
from risk_registry.organisation.models import AuditEntry
from risk_registry.tests.documents_helpers import enrich_register, pdf_fonts, pdf_reader, pdf_text, xlsx_text
from risk_registry.workflow.snapshots import content_hash, register_snapshot

pytestmark = pytest.mark.django_db


def export_data(query: dict) -> dict:
    """The POST of an export form: the form and format, the list's filters as its query string."""
    filters = {k: v for k, v in query.items() if k not in ("form", "format")}
    return {"form": query.get("form", "overview"), "format": query.get("format", "xlsx"), "filters": urlencode(filters)}


def render(world, form: str, fmt: str) -> bytes:
    points = selectors.register_points_for_filing(institution=world.a, year=2026)
    document = rendering.document_for_points(
        points=points, form_code=form, institution=world.a, year=2026, working=False
    )
    buffer = io.BytesIO()
    rendering.render(buffer, document=document, fmt=fmt)
    return buffer.getvalue()


def expected_points(points, form):
    return [p for p in points if p.position_id or not FORMS[form].positions_only]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("fmt", ["xlsx", "pdf"])
@pytest.mark.parametrize("form", list(FORMS))
def test_each_form_round_trips_every_point_level_and_control(world, form, fmt):
    points = enrich_register(world)
    data = render(world, form, fmt)
    text = squash(xlsx_text(data) if fmt == "xlsx" else pdf_text(data))
    assert squash(f"甲局2026年度{FORMS[form].title}") in text
    wanted = expected_points(points, form)
    assert wanted
    for point in wanted:
        assert squash(point.description) in text, point.description
        assert point.level.name in text
        columns = {column.key for column in FORMS[form].columns}
        if columns & {"measures", "prevention"}:
            for control in Control.objects.filter(risk_point=point):
                assert squash(control.measure) in text, control.measure
    for draft in (world.draft, world.draft2):
        assert squash(draft.description) not in text  # drafts stay with their authors


def test_xlsx_layout_title_merged_header_frozen_print_setup_and_level_colour(world):
    enrich_register(world)
    workbook = load_workbook(io.BytesIO(render(world, "overview", "xlsx")))
    sheet = workbook.worksheets[0]
    assert sheet["A1"].value == "甲局2026年度廉政风险点排查及防控措施一览表"
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert "A1:S1" in merged  # title across the table (19 columns: 检查频次、留存资料、依据制度 since issue 15)
    assert "J3:L3" in merged and sheet["J3"].value == "风险评估"  # grouped header over 概率/程度/等级
    assert "M3:O3" in merged and sheet["M3"].value == "防控措施"
    assert "A3:A4" in merged  # ungrouped headers span both header rows
    assert sheet.freeze_panes == "A5"
    assert sheet.print_title_rows == "$3:$4"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == int(sheet.PAPERSIZE_A4)
    assert "第 &P 页" in sheet.oddFooter.center.text
    assert sheet["F5"].alignment.wrap_text
    assert sheet.column_dimensions["F"].width >= 30
    level_cell = sheet["L5"]
    assert level_cell.value in {"一级", "二级", "三级"}
    colours = {"一级": "C62828", "二级": "EF6C00", "三级": "2E7D32"}
    assert level_cell.fill.fgColor.rgb.endswith(colours[level_cell.value])
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "主要领导签字：" in texts


def test_formula_injection_is_neutralised(world):
    enrich_register(world)
    data = render(world, "overview", "xlsx")
    workbook = load_workbook(io.BytesIO(data))
    cells = [c for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row]
    risky = [c for c in cells if isinstance(c.value, str) and c.value[:1] in "=+-@"]
    assert {c.value for c in risky} >= {"=1+1 表现"}
    assert any(c.value.startswith("@约谈") for c in risky)
    for cell in risky:
        assert cell.data_type == "s", cell.coordinate  # a string, never a formula
        assert cell.quotePrefix
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml


def test_pdf_embeds_a_cjk_font_and_has_pages_footer_and_signature(world):
    enrich_register(world)
    data = render(world, "department-register", "pdf")
    fonts = pdf_fonts(data)
    assert any(re.search(r"Noto-?(Serif|Sans)-?CJK-?SC", font) for font in fonts), fonts
    reader = pdf_reader(data)
    assert len(reader.pages) == 2  # one page per department of bureau A
    text = pdf_text(data)
    assert "第 1 页 共 2 页" in text and "第 2 页 共 2 页" in text
    for page in reader.pages:  # each department's table is signed by its head (issue 15, defect 7)
        assert "部门负责人签字" in page.extract_text() and "日期" in page.extract_text()
    assert "主要领导签字" not in text
    for words in ("主要领导签字", "单位盖章", "日期"):
        assert words in pdf_text(render(world, "unit-register", "pdf"))


def test_pdf_header_repeats_on_every_page(world):
    enrich_register(world)
    from risk_registry.models import RiskPoint

    base = RiskPoint.objects.get(pk=world.submitted.pk)
    for n in range(60):
        base.pk = None
        base.description = f"批量风险点{n}：" + "审批环节可能存在的廉政风险" * 3
        base.save()
    data = render(world, "overview", "pdf")
    reader = pdf_reader(data)
    assert len(reader.pages) > 2
    for page in reader.pages:
        assert "风险点描述" in page.extract_text()
    total = len(reader.pages)
    assert f"第 {total} 页 共 {total} 页" in reader.pages[-1].extract_text()


def test_pdf_refused_with_a_clear_message_without_cjk_font(world, monkeypatch):
    monkeypatch.setattr(pdf, "installed_cjk_families", lambda: [])
    with pytest.raises(pdf.DocumentUnavailable, match="fonts-noto-cjk"):
        render(world, "overview", "pdf")


def filed_version(world) -> RegisterVersion:
    points = enrich_register(world)
    register = Register.objects.create(institution=world.a, year=2026)
    snapshot = register_snapshot(
        institution=world.a, year=2026, points=world.a.risk_points.filter(pk__in=[p.pk for p in points])
    )
    from django.utils import timezone

    return RegisterVersion.objects.create(
        register=register,
        number=1,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        signed_by=world.principal,
        signed_at=timezone.now(),
        filed_with=world.county,
    )


def test_filed_version_pdf_has_version_and_hash_in_footer_and_is_frozen(world):
    version = filed_version(world)
    # A later edit does not change what the filed version prints.
    world.a.risk_points.filter(pk=world.submitted.pk).update(description="之后改过的描述")
    for fmt in ("pdf", "xlsx"):
        buffer = io.BytesIO()
        rendering.render(buffer, document=rendering.document_for_version(version=version), fmt=fmt)
        text = pdf_text(buffer.getvalue()) if fmt == "pdf" else xlsx_text(buffer.getvalue())
        assert "违规简化审批程序" in text and "之后改过的描述" not in text
        assert version.content_hash in squash(text)
        assert "v1" in text


def test_filed_version_footer_on_every_pdf_page(world):
    version = filed_version(world)
    buffer = io.BytesIO()
    rendering.render(buffer, document=rendering.document_for_version(version=version), fmt="pdf")
    for page in pdf_reader(buffer.getvalue()).pages:
        assert version.content_hash in squash(page.extract_text())


# --- the browser's exports ------------------------------------------------------------------


def test_list_export_keeps_filters_downloads_at_once_and_is_audited(world, login):
    enrich_register(world)
    client = login(world.discipline)
    response = client.post(
        reverse("documents_export"),
        export_data({"form": "overview", "format": "xlsx", "institution": "bureau-a", "q": "虚报"}),
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    text = xlsx_text(b"".join(response.streaming_content))
    assert "虚报冒领" in text and "违规简化审批程序" not in text  # the text filter was kept
    job = ExportJob.objects.get(owner=world.discipline)
    assert job.state == ExportJob.State.DONE and job.total == 1
    entry = AuditEntry.objects.get(action="document.export")
    assert entry.actor == world.discipline and entry.target_id == job.pk
    assert entry.changes["params"]["q"] == ["虚报"] and entry.changes["form"] == "overview"


def test_export_of_an_institution_outside_scope_is_404(world, login):
    client = login(world.outsider)
    response = client.post(
        reverse("documents_export"), export_data({"form": "overview", "format": "xlsx", "institution": "bureau-a"})
    )
    assert response.status_code == 404
    assert not AuditEntry.objects.filter(action="document.export").exists()


def test_holder_exports_only_own_points(world, login):
    enrich_register(world)
    client = login(world.holder3)
    response = client.post(reverse("documents_export"), export_data({"form": "unit-register", "format": "xlsx"}))
    text = xlsx_text(b"".join(response.streaming_content))
    assert "虚报冒领" in text
    assert "违规简化审批程序" not in text and "选择性执法" not in text


def test_filed_version_export_and_out_of_scope_404(world, login):
    version = filed_version(world)
    response = login(world.superior).post(
        reverse("documents_version_export", args=[version.pk]), {"format": "pdf", "form": "unit-register"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert login(world.outsider).post(reverse("documents_version_export", args=[version.pk])).status_code == 404


def test_large_export_runs_as_a_job_with_progress_and_download(
    world, login, monkeypatch, django_capture_on_commit_callbacks
):
    enrich_register(world)
    monkeypatch.setitem(rendering.SYNC_LIMITS, "xlsx", 1)
    calls = []
    from risk_registry.documents import tasks

    monkeypatch.setattr(tasks.export_job_run, "apply_async", lambda args, **options: calls.append(args[0]))
    client = login(world.discipline)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("documents_export"), export_data({"form": "overview", "format": "xlsx", "institution": "bureau-a"})
        )
    job = ExportJob.objects.get(owner=world.discipline)
    assert response.status_code == 302 and response.url == reverse("documents_job", args=[job.token])
    assert calls == [job.pk] and job.state == ExportJob.State.PENDING and job.total == 3
    page = client.get(response.url)
    assert b"progress-bar" in page.content and b"hx-get" in page.content
    assert client.get(reverse("documents_job_download", args=[job.token])).status_code == 404  # not yet

    services.export_job_run(job.pk)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE and job.percent == 100 and job.done == 3
    services.export_job_run(job.pk)  # a second delivery leaves the finished job alone
    download = client.get(reverse("documents_job_download", args=[job.token]))
    assert download.status_code == 200
    assert "虚报冒领" in xlsx_text(b"".join(download.streaming_content))
    assert login(world.superior).get(reverse("documents_job_download", args=[job.token])).status_code == 404


def test_task_marks_the_job_failed_and_reraises_a_permanent_error(world, monkeypatch):
    from risk_registry.documents.tasks import export_job_run

    job = ExportJob.objects.create(owner=world.discipline, form="overview", file_format="pdf", params={})
    monkeypatch.setattr(pdf, "installed_cjk_families", lambda: [])
    result = export_job_run.apply(args=[job.pk])
    assert result.failed()
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED and "fonts-noto-cjk" in job.error


def test_pdf_refusal_is_shown_to_the_user(world, login, monkeypatch):
    monkeypatch.setattr(pdf, "installed_cjk_families", lambda: [])
    client = login(world.discipline)
    response = client.post(reverse("documents_export"), export_data({"form": "overview", "format": "pdf"}), follow=True)
    assert "fonts-noto-cjk" in response.content.decode()


def test_list_page_has_the_export_menu_with_every_form(world, login):
    content = login(world.discipline).get(reverse("risk_point_list"), {"institution": "bureau-a"}).content.decode()
    for code in FORMS:
        for fmt in ("xlsx", "pdf"):
            assert f'data-testid="export-{code}-{fmt}"' in content
    assert "institution=bureau-a" in content


def test_documents_page_lists_forms_versions_and_archive(world, login):
    version = filed_version(world)
    content = login(world.discipline).get(reverse("documents_home"), {"institution": "bureau-a", "year": 2026}).content
    content = content.decode()
    assert reverse("documents_version_export", args=[version.pk]) in content
    assert 'data-testid="archive"' in content and 'data-testid="import"' in content


# --- command line ---------------------------------------------------------------------------


def test_export_register_command_writes_each_format(world, tmp_path, capsys):
    enrich_register(world)
    for fmt in ("xlsx", "pdf"):
        out = tmp_path / f"register.{fmt}"
        call_command(
            "export_register", institution="bureau-a", year=2026, form="personal-control", fmt=fmt, out=str(out)
        )
        assert out.stat().st_size > 1000
    assert "2 risk points" in capsys.readouterr().out  # personal forms: the points of positions only


def test_export_register_help_lists_the_forms(capsys):
    from django.core.management import get_commands, load_command_class

    command = load_command_class(get_commands()["export_register"], "export_register")
    help_text = command.create_parser("manage.py", "export_register").format_help()
    for code, form in FORMS.items():
        assert code in help_text and form.title in help_text


def test_export_archive_command_zip_with_manifest(world, tmp_path):
    import hashlib
    import json
    import zipfile

    version = filed_version(world)
    call_command("export_archive", institution="bureau-a", year=2026, out=str(tmp_path))
    names = ArchiveNames(world.a, 2026)
    path = tmp_path / names.zip_name
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(names.member(MANIFEST)))
        members = {item["name"] for item in manifest["files"]}
        assert len(members) == len(FORMS) * 2 + 4  # + the note naming the filed version authoritative
        assert names.member(names.filed(1, "pdf")) in members
        assert names.member(names.file(DASHBOARD_TITLE, "pdf")) in members
        for item in manifest["files"]:
            assert hashlib.sha256(archive.read(item["name"])).hexdigest() == item["sha256"]
        sums = archive.read(names.member(CHECKSUMS)).decode()
        assert f"{version.content_hash[:0]}" in sums and len(sums.splitlines()) == len(members)
    assert AuditEntry.objects.filter(action="document.archive").count() == 1


def test_archive_job_in_the_browser(world, login, monkeypatch, django_capture_on_commit_callbacks):
    import zipfile

    filed_version(world)
    from risk_registry.documents import tasks

    monkeypatch.setattr(tasks.export_job_run, "apply_async", lambda args, **options: None)
    client = login(world.discipline)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("documents_archive"), {"institution": "bureau-a", "year": "2026"})
    job = ExportJob.objects.get(kind="archive")
    assert response.url == reverse("documents_job", args=[job.token])
    services.export_job_run(job.pk)
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE
    with zipfile.ZipFile(job.file_path) as archive:
        assert ArchiveNames(world.a, 2026).member(MANIFEST) in archive.namelist()
    assert (
        login(world.outsider)
        .post(reverse("documents_archive"), {"institution": "bureau-a", "year": "2026"})
        .status_code
        == 404
    )


def test_state_filter_kept_for_registers(world, login):
    enrich_register(world)
    world.a.risk_points.filter(pk=world.submitted.pk).update(state=RiskPointState.SUBMITTED)
    response = login(world.discipline).post(
        reverse("documents_export"),
        export_data(
            {"form": "unit-register", "format": "xlsx", "institution": "bureau-a", "year": "2026", "state": "approved"}
        ),
    )
    text = xlsx_text(b"".join(response.streaming_content))
    assert "虚报冒领" in text and "违规简化审批程序" not in text
    assert "（工作稿）" in text  # a filtered register is a working copy, never the official form
