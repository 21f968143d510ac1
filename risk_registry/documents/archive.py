"""The annual archive: every document of an institution and year in one zip, with a SHA-256 manifest.

The zip holds each form in Excel and PDF, the year's dashboard as a PDF page (heat map, what to
watch, changes since the year before, distributions), each filed version as PDF and as its frozen JSON
snapshot, ``manifest.json`` (what each file is, its size and SHA-256) and ``SHA256SUMS`` in the
format ``sha256sum -c`` checks.
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
from django.utils import timezone

from risk_registry import dashboards
from risk_registry.documents import rendering
from risk_registry.documents.definitions import FILED_FORM, FORMATS, FORMS
from risk_registry.documents.pdf import PDF_MAX_POINTS, cjk_font, html_to_pdf
from risk_registry.models import RiskPoint

DASHBOARD_TITLE = "廉政风险统计看板"


def dashboard_pdf(
    *, institution, year: int, points: QuerySet[RiskPoint], previous: QuerySet[RiskPoint], working: bool
) -> bytes:
    """The dashboard of the archive's points as one PDF: the same figures as the leadership's page
    (``risk_registry.dashboards``), counted over the points the archive holds."""
    query = {"institution": institution.code, "year": year}
    html = render_to_string(
        "documents/pdf/dashboard.html",
        {
            "title": DASHBOARD_TITLE,
            "font": cjk_font(),
            "institution": institution,
            "year": year,
            "working": working,
            "heat": dashboards.heat_map(points, institution=institution, query=query),
            "watch": dashboards.watch(points, previous, query=query, year=year),
            "charts": dashboards.distributions(points, institution=institution, query=query),
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
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Write the archive to ``path``; return the manifest. ``points`` is a queryset (re-read per
    document, so memory stays bounded): the official register, or with ``working`` a working copy
    (工作稿) for a reader who may not read the whole register; ``versions`` the filed versions;
    ``previous`` the points of the year before the same reader may read (the dashboard's changes)."""
    total = points.count()
    files: list[dict] = []
    skipped: list[dict] = []
    prefix = f"{institution.code}-{year}"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(name: str, data: bytes, **meta) -> None:
            archive.writestr(name, data)
            files.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), **meta})

        step = 0
        for code, form in FORMS.items():
            for fmt in FORMATS:
                step += 1
                if fmt == "pdf" and total > PDF_MAX_POINTS:
                    skipped.append({"name": f"{code}.pdf", "reason": f"more than {PDF_MAX_POINTS} points"})
                    continue
                document = rendering.document_for_points(
                    points=points, form_code=code, institution=institution, year=year, working=working
                )
                buffer = io.BytesIO()
                written = rendering.render(buffer, document=document, fmt=fmt)
                add(f"{prefix}/{code}.{fmt}", buffer.getvalue(), form=form.title, points=written)
                if progress:
                    progress(step)
        data = dashboard_pdf(
            institution=institution,
            year=year,
            points=points,
            previous=previous if previous is not None else points.none(),
            working=working,
        )
        add(f"{prefix}/dashboard.pdf", data, form=DASHBOARD_TITLE, points=total)
        for version in versions:
            snapshot = json.dumps(version.snapshot, ensure_ascii=False, sort_keys=True, indent=1).encode()
            add(f"{prefix}/filed/v{version.number}.json", snapshot, version=version.number, hash=version.content_hash)
            document = rendering.document_for_version(version=version, form_code=FILED_FORM)
            buffer = io.BytesIO()
            written = rendering.render(buffer, document=document, fmt="pdf")
            add(f"{prefix}/filed/v{version.number}.pdf", buffer.getvalue(), version=version.number, points=written)
        manifest = {
            "institution": {"code": institution.code, "name": institution.name},
            "year": year,
            "generated_at": timezone.now().isoformat(timespec="seconds"),
            "points": total,
            "working_copy": working,
            "files": files,
            "skipped": skipped,
        }
        archive.writestr(f"{prefix}/manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        sums = "".join(f"{item['sha256']}  {item['name'].split('/', 1)[1]}\n" for item in files)
        archive.writestr(f"{prefix}/SHA256SUMS", sums)
    return manifest
