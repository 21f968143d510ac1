"""Attachments of decisions (the meeting's minutes, a scan of the signed record): checked by their
content, stored outside the web root, frozen with the decision; a thin user of
``risk_registry.organisation.files``.

A file is accepted when its content says it is a PDF, a PNG, a JPEG or a DOCX; its name's extension
is not trusted and is replaced by the one of the kind found. At most
``RISK_REGISTRY_ATTACHMENT_MAX_BYTES`` each and ``RISK_REGISTRY_ATTACHMENTS_PER_DECISION`` per
decision. Files are written under ``RISK_REGISTRY_ATTACHMENTS_DIR`` with a random name (the
decision's id, a dash, random hex, the kind's extension); the original name is kept for the download.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from risk_registry.models import Decision, DecisionAttachment
from risk_registry.organisation import files

ACCEPTED = (files.PDF, files.PNG, files.JPEG, files.DOCX)
KINDS = {kind.extension: kind.content_type for kind in ACCEPTED}  # extension: content type
STORE = files.FileStore("RISK_REGISTRY_ATTACHMENTS_DIR", extensions=tuple(KINDS), numbered=True)
NAME_LENGTH = 150


@dataclass(frozen=True)
class Upload:
    name: str
    extension: str
    content: bytes

    @property
    def content_type(self) -> str:
        return KINDS[self.extension]


def attachments_dir() -> Path:
    return STORE.folder()


def attachment_path(attachment: DecisionAttachment) -> Path:
    return STORE.path_of(attachment.stored_as)


def sniff(content: bytes) -> str | None:
    """The extension of the kind the content is, or None when it is none of the accepted kinds."""
    kind = files.sniff(content, ACCEPTED)
    return kind.extension if kind is not None else None


def _display_name(raw: str, extension: str) -> str:
    """The uploader's file name without folders or control characters, with the found extension."""
    return files.download_name(
        raw, extension, fallback=_("attachment"), length=NAME_LENGTH - len(extension) - 1, from_file_name=True
    )


def check_uploads(files) -> list[Upload]:
    """The uploaded files as ``Upload``s, or a ValidationError that names each refused file."""
    files = list(files)
    limit, per_decision = settings.RISK_REGISTRY_ATTACHMENT_MAX_BYTES, settings.RISK_REGISTRY_ATTACHMENTS_PER_DECISION
    if len(files) > per_decision:
        raise ValidationError(_("At most %(n)d files may be attached to a decision.") % {"n": per_decision})
    uploads, errors = [], []
    for file in files:
        name = str(getattr(file, "name", "") or "")[:NAME_LENGTH]
        if file.size > limit:
            errors.append(_("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": limit // (1024 * 1024)})
            continue
        content = file.read()
        extension = sniff(content)
        if extension is None:
            errors.append(_("%(name)s is not a PDF, PNG, JPEG or Word (docx) file.") % {"name": name})
            continue
        uploads.append(Upload(name=_display_name(name, extension), extension=extension, content=content))
    if errors:
        raise ValidationError(errors)
    return uploads


def attach(*, decision: Decision, uploads: list[Upload], by) -> list[DecisionAttachment]:
    """Write the files and their rows (inside the decision's transaction: one request, then frozen)."""
    rows = []
    for upload in uploads:
        stored = STORE.store(upload.content, kind=files.BY_EXTENSION[upload.extension], number=decision.pk)
        rows.append(
            DecisionAttachment(
                decision=decision,
                name=upload.name,
                content_type=upload.content_type,
                size=stored.size,
                sha256=stored.sha256,
                stored_as=stored.key,
                uploaded_by=by,
            )
        )
    return DecisionAttachment.objects.bulk_create(rows)
