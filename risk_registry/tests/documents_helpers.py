"""Shared by the document tests: a register with every line of defence, and readers for xlsx/PDF."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader

from controls.models import Control
from risk_registry.models import RiskPoint, RiskPointState


def enrich_register(world) -> list[RiskPoint]:
    """Bureau A's 2026 register without drafts, approved by its leadership (the official register
    holds approved points only) and made richer: a department-level point, controls on all three
    lines with owners, a formula-like text. Returns the points."""
    RiskPoint.objects.filter(pk=world.dept_draft.pk).update(state=RiskPointState.SUBMITTED, manifestation="=1+1 表现")
    RiskPoint.objects.filter(pk__in=[world.submitted.pk, world.finance_point.pk, world.dept_draft.pk]).update(
        state=RiskPointState.APPROVED
    )
    for point in (world.submitted, world.finance_point, world.dept_draft):
        Control.objects.create(risk_point=point, line="monitoring", measure=f"每月抽查{point.pk}", owner="纪检员")
        Control.objects.create(risk_point=point, line="disposition", measure=f"@约谈{point.pk}", owner="局长")
    return list(
        RiskPoint.objects.filter(institution=world.a, year=2026)
        .exclude(state=RiskPointState.DRAFT)
        .select_related("level", "position")
    )


def xlsx_text(data: bytes) -> str:
    workbook = load_workbook(io.BytesIO(data))
    return "\n".join(
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value
    )


def pdf_reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in pdf_reader(data).pages)


def pdf_fonts(data: bytes) -> set[str]:
    fonts = set()
    for page in pdf_reader(data).pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            fonts.add(str(font.get_object().get("/BaseFont")))
    return fonts
