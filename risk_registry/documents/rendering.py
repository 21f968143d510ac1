"""Documents as data and as files: the forms filled from live points or a frozen version, rendered to
Excel or PDF. No writes, no jobs: services.py runs exports and archive.py bundles these."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from controls.models import in_line_order
from risk_registry.documents import pdf, xlsx
from risk_registry.documents.definitions import (
    FILED_FORM,
    FORMS,
    NOT_RECORDED,
    WORKING_MARK,
    DocumentHeader,
    FormSpec,
    as_before,
    spanning,
    working_copy,
)
from risk_registry.models import RiskPoint
from risk_registry.models.register import RegisterVersion
from risk_registry.organisation.models import Institution
from risk_registry.organisation.selectors import band_legend
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
    figures: dict[str, str] = field(default_factory=dict)  # PDF only: markup shown above a section's table


def _form(code: str) -> FormSpec:
    try:
        return FORMS[code]
    except KeyError:
        raise ValidationError(_("Unknown form: %(form)s") % {"form": code}) from None


def document_for_points(
    *,
    points: QuerySet[RiskPoint],
    form_code: str,
    institution: Institution | None,
    year: int | None,
    working: bool,
    total=None,
) -> Document:
    """Live points in a form. ``working`` False is the official form of a register: the caller
    passes the register's official points (``access.official_register_for``); True is a working
    copy (工作稿) of any other selection, marked as such and with a 状态 column.

    Without ``institution`` the points may come from several institutions: the form gets a 单位
    column and the county-wide band, its rows run from the most serious, and it carries the legend
    of the schemes present (``spanning_legend``)."""
    form = _form(form_code)
    form = working_copy(form) if working else form
    if institution is not None:
        return Document(
            form=form,
            header=DocumentHeader(institution=institution.name, year=year, working=working),
            rows=point_rows(points),
            total=points.count() if total is None else total,
        )
    return Document(
        form=spanning(form),
        header=DocumentHeader(
            institution=_("All visible institutions"), year=year, working=working, legend=spanning_legend(points)
        ),
        rows=point_rows(points, spanning=True),
        total=points.count() if total is None else total,
    )


LEGEND_TITLE = "分级方案图例（各单位自己的等级名称 = 全县统一分档；表中按分档、再按等级排序）"


def spanning_legend(points: QuerySet[RiskPoint]) -> tuple[str, ...]:
    """The legend lines of a document over several institutions (one query)."""
    entries = band_legend(points.order_by().values("level__scheme_id"))
    return (LEGEND_TITLE, *(entry.text(limit=20) for entry in entries)) if entries else ()


def _filed_rows(snapshot: dict) -> Iterator[dict]:
    for point in snapshot["points"]:
        row = dict(point)
        row["controls"] = in_line_order(point.get("controls", []))
        yield row


def _filed_signature(snapshot: dict) -> tuple[int | None, str]:
    """(filing number, "signatory time") as the snapshot recorded them; format 1 recorded neither."""
    filing = snapshot.get("filing") or {}
    if not filing:
        return None, NOT_RECORDED
    filed_at = datetime.datetime.fromisoformat(filing["filed_at"])  # stored in local time: printed as stored
    return filing.get("number"), f"{filing.get('signatory') or NOT_RECORDED} {filed_at:%Y-%m-%d %H:%M}"


def document_for_version(*, version: RegisterVersion, form_code: str = FILED_FORM) -> Document:
    """A filed version, from its frozen snapshot alone: never from today's points, scheme or
    institution. What a format-1 snapshot did not record prints as 未记录; a snapshot of format 1
    or 2 prints in the layout of its time (``definitions.as_before``), identical to what it printed
    then."""
    snapshot = version.snapshot
    number, signed = _filed_signature(snapshot)
    scheme = snapshot.get("scheme") or {}
    form = _form(form_code)
    return Document(
        form=form if snapshot.get("format", 1) >= 3 else as_before(form),
        header=DocumentHeader(
            institution=snapshot["institution"]["name"],
            year=snapshot["year"],
            version=number or version.number,
            content_hash=version.content_hash,
            signed=signed,
            scheme=scheme.get("name") or NOT_RECORDED,
        ),
        rows=_filed_rows(snapshot),
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
            return pdf.write_pdf(
                out,
                form=document.form,
                header=document.header,
                rows=document.rows,
                phase=phase,
                figures=document.figures,
            )
    raise ValidationError(_("Unknown format: %(format)s") % {"format": fmt})


def filename_for(document: Document, fmt: str) -> str:
    parts = [document.header.institution, str(document.header.year or ""), document.form.title]
    if document.header.version:
        parts.append(f"v{document.header.version}")
    if document.header.working:
        parts.append(WORKING_MARK)
    return "-".join(part for part in parts if part) + f".{fmt}"
