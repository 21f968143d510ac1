"""Documents as data and as files: the forms filled from live points or a frozen version, rendered to
Excel or PDF. No writes, no jobs: services.py runs exports and archive.py bundles these."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from risk_registry.documents import pdf, xlsx
from risk_registry.documents.definitions import FILED_FORM, FORMS, DocumentHeader, FormSpec
from risk_registry.models import RiskPoint
from risk_registry.models.register import RegisterVersion
from risk_registry.organisation.models import GradeLevel, Institution
from risk_registry.organisation.names import person
from risk_registry.workflow.snapshots import point_rows

DOCUMENT_LANGUAGE = "zh-hans"  # official forms are Chinese whatever the user's language
# Above these sizes an export runs as a background task with a progress bar instead of in the request.
SYNC_LIMITS = {"xlsx": 3000, "pdf": 150}


def export_dir() -> Path:
    path = Path(settings.BASE_DIR) / "var" / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- rendering ------------------------------------------------------------------------------


@dataclass
class Document:
    form: FormSpec
    header: DocumentHeader
    rows: Iterable[dict]
    total: int


def prepared_rows(rows: Iterable[dict], *, supervision: dict[str, str]) -> Iterator[dict]:
    """Point rows with what the forms add: who supervises the level (from the grading scheme)."""
    for row in rows:
        row["_supervision"] = supervision.get(row["level"]["code"], "")
        yield row


def _supervision_of(institution: Institution | None) -> dict[str, str]:
    if institution is None or institution.grading_scheme_id is None:
        return {}
    return dict(GradeLevel.objects.filter(scheme_id=institution.grading_scheme_id).values_list("code", "supervision"))


def _form(code: str) -> FormSpec:
    try:
        return FORMS[code]
    except KeyError:
        raise ValidationError(_("Unknown form: %(form)s") % {"form": code}) from None


def document_for_points(
    *, points: QuerySet[RiskPoint], form_code: str, institution: Institution | None, year: int | None, total=None
) -> Document:
    name = institution.name if institution is not None else _("All visible institutions")
    return Document(
        form=_form(form_code),
        header=DocumentHeader(institution=name, year=year),
        rows=prepared_rows(point_rows(points), supervision=_supervision_of(institution)),
        total=points.count() if total is None else total,
    )


def document_for_version(*, version: RegisterVersion, form_code: str = FILED_FORM) -> Document:
    """A filed version, from its frozen snapshot only: never from today's points."""
    snapshot = version.snapshot
    institution = version.register.institution
    signed = f"{person(version.signed_by)} {timezone.localtime(version.signed_at):%Y-%m-%d %H:%M}"
    return Document(
        form=_form(form_code),
        header=DocumentHeader(
            institution=snapshot["institution"]["name"],
            year=snapshot["year"],
            version=version.number,
            content_hash=version.content_hash,
            signed=signed,
        ),
        rows=prepared_rows((dict(point) for point in snapshot["points"]), supervision=_supervision_of(institution)),
        total=len(snapshot["points"]),
    )


def render(
    out,
    *,
    document: Document,
    fmt: str,
    progress: Callable[[int], None] | None = None,
    phase: Callable[[str], None] | None = None,
) -> int:
    """Write ``document`` as ``fmt`` (xlsx or pdf) to ``out``; returns the number of points written.
    An Excel file reports the points written (``progress``), a PDF its steps (``phase``)."""
    with translation.override(DOCUMENT_LANGUAGE):
        if fmt == "xlsx":
            return xlsx.write_workbook(
                out, form=document.form, header=document.header, rows=document.rows, progress=progress
            )
        if fmt == "pdf":
            return pdf.write_pdf(out, form=document.form, header=document.header, rows=document.rows, phase=phase)
    raise ValidationError(_("Unknown format: %(format)s") % {"format": fmt})


def filename_for(document: Document, fmt: str) -> str:
    parts = [document.header.institution, str(document.header.year or ""), document.form.title]
    if document.header.version:
        parts.append(f"v{document.header.version}")
    return "-".join(part for part in parts if part) + f".{fmt}"
