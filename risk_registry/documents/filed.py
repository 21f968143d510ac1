"""A filed version's PDF, rendered once and kept: every later download serves the kept bytes.

A filed version is frozen (``RegisterVersion``: insert-only, a trigger refuses changes) and its PDF
is made from its snapshot alone, so its bytes never change (tested). Laying out a long register
again for every download costs a quarter of a minute of CPU per 1,000 points; instead the PDF is
rendered when the version is filed (``tasks.filed_pdf_keep``, sent after the filing commits) or at
its first download, written to ``RISK_REGISTRY_FILED_DIR``, and its SHA-256 recorded (``FiledPdf``).

A download reads the kept file and checks it against the recorded SHA-256. A file that is missing
(a restore without the folder, a disk cleaned by hand) or whose bytes differ (altered on disk) is
never served: the PDF is rendered again from the snapshot alone (never from today's points), kept,
the row updated, and an audit entry ``document.rerender`` records the form, what was found and the
hashes. The folder needs no backup: everything in it can be made again.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from risk_registry.documents.definitions import FILED_FORM, FORMS
from risk_registry.documents.models import FiledPdf
from risk_registry.documents.rendering import document_for_version, render
from risk_registry.models.register import RegisterVersion
from risk_registry.organisation.files import write_whole
from risk_registry.organisation.models import ActorKind, AuditAction
from risk_registry.organisation.services import audit_record


def kept_path(version_id: int, form_code: str) -> Path:
    """Where a version's PDF in ``form_code`` is kept (the form's code is one of ``FORMS``' keys)."""
    return Path(settings.RISK_REGISTRY_FILED_DIR) / f"{version_id}-{form_code}.pdf"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _kept(version: RegisterVersion, form_code: str) -> tuple[FiledPdf | None, bytes | None, bool]:
    """The version's record in ``form_code``, the bytes found in its file, and whether they match
    the recorded SHA-256."""
    kept = FiledPdf.objects.filter(version=version, form=form_code).first()
    found = _read(kept_path(version.pk, form_code)) if kept is not None else None
    return kept, found, kept is not None and found is not None and _digest(found) == kept.sha256


def kept_pdf(*, version: RegisterVersion, form_code: str) -> bytes | None:
    """The kept bytes of the version's PDF when they are there and match the recorded SHA-256."""
    _record, found, matches = _kept(version, form_code)
    return found if matches else None


def filed_pdf(*, version: RegisterVersion, form_code: str = FILED_FORM, by=None) -> bytes:
    """The version's PDF in ``form_code``: the kept bytes when they match their SHA-256, else
    rendered from the snapshot alone and kept (``by``: who asked, for the audit entry; none for the
    task that renders at filing). Safe to run twice at once: both render the same bytes, the file
    is replaced whole and the row written by one upsert."""
    kept, found, matches = _kept(version, form_code)
    if matches and found is not None:
        return found
    buffer = io.BytesIO()
    render(buffer, document=document_for_version(version=version, form_code=form_code), fmt="pdf")
    data = buffer.getvalue()
    write_whole(kept_path(version.pk, form_code), data)
    digest = _digest(data)
    with transaction.atomic():
        FiledPdf.objects.bulk_create(
            [FiledPdf(version=version, form=form_code, sha256=digest, size=len(data), rendered_at=timezone.now())],
            update_conflicts=True,
            unique_fields=["version", "form"],
            update_fields=["sha256", "size", "rendered_at"],
        )
        if kept is not None:
            audit_record(
                actor=by,
                actor_kind=ActorKind.PERSON if by is not None else ActorKind.SYSTEM,
                action=AuditAction.DOCUMENT_RERENDER,
                target=version.register,
                institution=version.register.institution,
                summary=f"v{version.number} {FORMS[form_code].title} PDF",
                changes={
                    "version": version.number,
                    "form": form_code,
                    "found": "missing" if found is None else "altered",
                    "recorded": kept.sha256,
                    "found_sha256": "" if found is None else _digest(found),
                    "rendered": digest,
                },
            )
    return data


def filed_pdf_keep(version_id: int) -> None:
    """The task's body: render and keep the filed PDF of a version just filed (nothing when it is
    kept already, or when the version does not exist in this database)."""
    version = RegisterVersion.objects.select_related("register__institution").filter(pk=version_id).first()
    if version is not None:
        filed_pdf(version=version)
