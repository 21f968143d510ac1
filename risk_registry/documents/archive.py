"""The annual archive: every document of an institution and year in one zip, with a SHA-256 manifest.

The zip holds each form in Excel and PDF, the year's dashboard as a PDF page (heat map, what to
watch, changes since the year before, distributions), each filed version as PDF and as its frozen JSON
snapshot, ``文件清单.json`` (the manifest: what each file is, its size and SHA-256; its time in the
configured time zone, Asia/Shanghai) and ``SHA256校验值.txt`` in the format ``sha256sum -c`` checks.

Every member is named in Chinese by the institution, the year and the document's title
(``云岭县市场监督管理局_2026_单位廉政风险点和防范措施登记表.pdf``; filed versions in ``备案文本/`` with
``_v1``), in one folder ``<institution>_<year>_年度归档/`` (:class:`ArchiveNames`). Python's zipfile
sets the UTF-8 flag on every non-ASCII name, so Windows' Explorer shows them as written.

When the year has a filed version, the archive states which document is authoritative: the latest
filed version (its PDF and frozen JSON), never the forms written from today's points; the points
added, removed or changed since that filing are listed (``manifest["authoritative"]`` and the text
file ``权威文本说明.txt``), so a reader who finds a difference knows which text counts.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from openpyxl import Workbook

from risk_registry import dashboards
from risk_registry.documents import rendering
from risk_registry.documents.definitions import FILED_FORM, FORMATS, FORMS
from risk_registry.documents.filed import filed_pdf
from risk_registry.documents.pdf import PDF_MAX_POINTS, cjk_font, html_to_pdf
from risk_registry.documents.xlsx import is_formula_like
from risk_registry.models import PostGrade, RiskPoint
from risk_registry.organisation.files import download_name
from risk_registry.organisation.names import person
from risk_registry.workflow.registers import version_diff
from risk_registry.workflow.snapshots import point_rows

DASHBOARD_TITLE = "廉政风险统计看板"
AUTHORITY_NOTE = "权威文本说明.txt"
MANIFEST = "文件清单.json"
CHECKSUMS = "SHA256校验值.txt"
FILED_FOLDER = "备案文本"


class ArchiveNames:
    """The Chinese names of the archive and its members: ``<institution>_<year>_<title>.<ext>``."""

    def __init__(self, institution, year: int, *, working: bool = False) -> None:
        self.stem = f"{institution.name}_{year}"
        self.working = working
        self.zip_name = download_name(f"{self.stem}_年度归档", "zip", fallback=f"{year}_年度归档", length=120)
        self.folder = self.zip_name.removesuffix(".zip")

    def file(self, title: str, extension: str) -> str:
        """A document's name inside the archive (without the folder)."""
        mark = "_工作稿" if self.working else ""
        return download_name(f"{self.stem}_{title}{mark}", extension, fallback=title, length=120)

    def filed(self, number: int, extension: str) -> str:
        """A filed version's name inside the archive (without the folder)."""
        title = FORMS[FILED_FORM].title
        return f"{FILED_FOLDER}/" + download_name(
            f"{self.stem}_{title}_v{number}", extension, fallback=title, length=120
        )

    def member(self, relative: str) -> str:
        return f"{self.folder}/{relative}"


POST_GRADES_TITLE = "岗位廉政风险等级（A/B/C）及监管主体"
POST_GRADES_NAME = "岗位风险等级"
POST_GRADE_COLUMNS = (
    "序号",
    "科室",
    "岗位",
    "建议等级",
    "依据（最高分档·已核实风险点数）",
    "核定等级",
    "核定理由",
    "监管主体",
    "核定人",
    "核定时间",
)


def post_grades_xlsx(*, institution, year: int, grades: QuerySet[PostGrade]) -> bytes:
    """The posts' A/B/C grades of the year (篇5) with who supervises each: one sheet, always in Chinese.
    A grade not decided yet says so; the supervision follows the decided grade, else the proposal."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "岗位风险等级"
    sheet.append([f"{institution.name}{year}年{POST_GRADES_TITLE}"])
    sheet.append(list(POST_GRADE_COLUMNS))
    rows = grades.select_related("position__department", "decided_by").order_by(
        "position__department__name", "position__title", "pk"
    )
    with translation.override("zh-hans"):
        for serial, grade in enumerate(rows, start=1):
            band = grade.get_proposed_band_display() if grade.proposed_band else "无已核实风险点"
            values = [
                serial,
                grade.position.department.name,
                grade.position.title,
                grade.proposed,
                f"{band}·{grade.proposed_points}",
                grade.grade or "待核定",
                grade.reason,
                grade.get_supervision_display(),
                person(grade.decided_by) if grade.decided_by else "",
                f"{timezone.localtime(grade.decided_at):%Y-%m-%d}" if grade.decided_at else "",
            ]
            sheet.append(["'" + v if isinstance(v, str) and is_formula_like(v) else v for v in values])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def dashboard_pdf(
    *, institution, year: int, points: QuerySet[RiskPoint], previous: QuerySet[RiskPoint], working: bool
) -> bytes:
    """The dashboard of the archive's points as one PDF: the same figures as the leadership's page
    (``risk_registry.dashboards``), counted over the points the archive holds."""
    query = {"institution": institution.code, "year": year}
    charts, watch = dashboards.point_figures(points, previous, institution=institution, query=query, year=year)
    html = render_to_string(
        "documents/pdf/dashboard.html",
        {
            "title": DASHBOARD_TITLE,
            "font": cjk_font(),
            "institution": institution,
            "year": year,
            "working": working,
            "heat": dashboards.heat_map(points, institution=institution, query=query),
            "watch": watch,
            "charts": charts,
        },
    )
    return html_to_pdf(html)


def write_archive(
    path: Path,
    *,
    institution,
    year: int,
    points,
    working: bool,
    versions,
    previous: QuerySet[RiskPoint] | None = None,
    post_grades: QuerySet[PostGrade] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Write the archive to ``path``; return the manifest. ``points`` is a queryset (re-read per
    document, so memory stays bounded): the official register, or with ``working`` a working copy
    (工作稿) for a reader who may not read the whole register; ``versions`` the filed versions;
    ``previous`` the points of the year before the same reader may read (the dashboard's changes);
    ``post_grades`` the institution's post grades of the year the reader may read (a list of them,
    with their supervision, when there are any)."""
    total = points.count()
    files: list[dict] = []
    skipped: list[dict] = []
    names = ArchiveNames(institution, year, working=working)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes, **meta) -> None:
            archive.writestr(name, data)
            files.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), **meta})

        step = 0
        for code, form in FORMS.items():
            for fmt in FORMATS:
                step += 1
                if fmt == "pdf" and total > PDF_MAX_POINTS:
                    skipped.append({"name": names.file(form.title, fmt), "reason": f"超过 {PDF_MAX_POINTS} 个风险点"})
                    continue
                document = rendering.document_for_points(
                    points=points, form_code=code, institution=institution, year=year, working=working
                )
                buffer = io.BytesIO()
                written = rendering.render(buffer, document=document, fmt=fmt)
                add(names.member(names.file(form.title, fmt)), buffer.getvalue(), form=form.title, points=written)
                if progress:
                    progress(step)
        data = dashboard_pdf(
            institution=institution,
            year=year,
            points=points,
            previous=previous if previous is not None else points.none(),
            working=working,
        )
        add(names.member(names.file(DASHBOARD_TITLE, "pdf")), data, form=DASHBOARD_TITLE, points=total)
        if post_grades is not None and post_grades.exists():
            data = post_grades_xlsx(institution=institution, year=year, grades=post_grades)
            add(
                names.member(names.file(POST_GRADES_NAME, "xlsx")),
                data,
                form=POST_GRADES_TITLE,
                posts=post_grades.count(),
            )
        for version in versions:
            snapshot = json.dumps(version.snapshot, ensure_ascii=False, sort_keys=True, indent=1).encode()
            add(
                names.member(names.filed(version.number, "json")),
                snapshot,
                version=version.number,
                hash=version.content_hash,
            )
            add(
                names.member(names.filed(version.number, "pdf")),
                filed_pdf(version=version, form_code=FILED_FORM),  # kept once rendered (documents/filed.py)
                version=version.number,
                points=len(version.snapshot["points"]),
            )
        authority = authoritative(versions, points, names=names, working=working)
        if authority:
            add(names.member(AUTHORITY_NOTE), authority_note(authority).encode(), form="权威文本说明")
        manifest = {
            "institution": {"code": institution.code, "name": institution.name},
            "year": year,
            "generated_at": timezone.localtime().isoformat(timespec="seconds"),  # +08:00 (TIME_ZONE)
            "points": total,
            "working_copy": working,
            "authoritative": authority,
            "files": files,
            "skipped": skipped,
        }
        archive.writestr(names.member(MANIFEST), json.dumps(manifest, ensure_ascii=False, indent=1))
        sums = "".join(f"{item['sha256']}  {item['name'].split('/', 1)[1]}\n" for item in files)
        archive.writestr(names.member(CHECKSUMS), sums)
    return manifest


def authoritative(versions, points, *, names: ArchiveNames, working: bool) -> dict | None:
    """Which document of the archive is authoritative, and what changed after it was filed: the
    latest filed version (None when the year has none). The changes compare that version's frozen
    snapshot with the archive's points; a working copy (工作稿, a partial view) lists the points
    changed or added in what it shows, never "removed" (a point it does not show may still exist)."""
    latest = max(versions, key=lambda version: version.number, default=None)
    if latest is None:
        return None
    diff = version_diff(latest.snapshot, {"points": list(point_rows(points))})
    filed_at = timezone.localtime(latest.signed_at).isoformat(timespec="seconds")
    return {
        "version": latest.number,
        "documents": [
            names.member(names.filed(latest.number, "pdf")),
            names.member(names.filed(latest.number, "json")),
        ],
        "filed_at": filed_at,
        "hash": latest.content_hash,
        "statement": (
            f"本年度登记表以第 {latest.number} 版备案文本（{names.filed(latest.number, 'pdf')}，"
            f"{filed_at[:10]} 备案）为准；本档案中按当前数据生成的各表仅供参考，"
            "备案后的变更列于下方，未经备案。"
        ),
        "changes_after_filing": {
            "added": [{"id": row["id"], "description": row["description"]} for row in diff["added"]],
            "removed": []
            if working
            else [{"id": row["id"], "description": row["description"]} for row in diff["removed"]],
            "changed": [
                {"id": row["id"], "description": row["description"], "fields": sorted(row["fields"])}
                for row in diff["changed"]
            ],
        },
    }


FIELD_LABELS = {
    "department": "部门",
    "position": "岗位",
    "risk_type": "风险类型",
    "description": "风险点描述",
    "manifestation": "风险表现形式",
    "likelihood": "发生概率",
    "severity": "危害程度",
    "level": "风险等级",
    "controls": "防控措施",
}


def authority_note(authority: dict) -> str:
    """The archive's plain-text statement of which document is authoritative and what changed."""
    changes = authority["changes_after_filing"]
    lines = [authority["statement"], "", f"备案文本 SHA-256：{authority['hash']}", ""]
    if not any(changes.values()):
        lines.append("备案后没有变更：当前数据与备案文本一致。")
    for key, title in (
        ("added", "备案后新增的风险点"),
        ("removed", "备案后删除的风险点"),
        ("changed", "备案后修改的风险点"),
    ):
        if changes[key]:
            lines.append(f"{title}（{len(changes[key])} 个）：")
            for row in changes[key]:
                fields = "、".join(FIELD_LABELS.get(field, field) for field in row.get("fields", []))
                lines.append(f"  - [{row['id']}] {row['description']}" + (f"（{fields}）" if fields else ""))
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
