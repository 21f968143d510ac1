"""Attachments of decisions (the meeting's minutes, a scan of the signed record): checked by their
content, stored outside the web root, frozen with the decision.

A file is accepted when its content says it is a PDF, a PNG, a JPEG or a DOCX (the same sniffing as
the rules' files, ``controls.attachments.sniff``); its name's extension is not trusted and is
replaced by the one of the kind found. At most ``RISK_REGISTRY_ATTACHMENT_MAX_BYTES`` each and
``RISK_REGISTRY_ATTACHMENTS_PER_DECISION`` per decision. Files are written under
``RISK_REGISTRY_ATTACHMENTS_DIR`` with a random name; the original name is kept for the download.
"""

from __future__ import annotations

import hashlib
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from controls.attachments import sniff as sniff_kind
from risk_registry.models import Decision, DecisionAttachment

KINDS = {  # extension: content type
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
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
    path = Path(settings.RISK_REGISTRY_ATTACHMENTS_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def attachment_path(attachment: DecisionAttachment) -> Path:
    return attachments_dir() / attachment.stored_as


def sniff(content: bytes) -> str | None:
    """The extension of the kind the content is, or None when it is none of the accepted kinds.
    One way to tell a file's kind for the whole product: the rules' files' (controls.attachments),
    which also bounds a DOCX's entries and unpacked size."""
    kind = sniff_kind(content)
    return kind.extension if kind is not None else None


def _display_name(raw: str, extension: str) -> str:
    """The uploader's file name without folders or control characters, with the found extension."""
    name = PurePath(str(raw).replace("\\", "/")).name
    stem = "".join(ch for ch in name.rsplit(".", 1)[0] if unicodedata.category(ch)[0] != "C").strip()
    stem = stem[: NAME_LENGTH - len(extension) - 1] or _("attachment")
    return f"{stem}.{extension}"


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
    folder = attachments_dir()
    for upload in uploads:
        stored_as = f"{decision.pk}-{uuid.uuid4().hex}.{upload.extension}"
        (folder / stored_as).write_bytes(upload.content)
        rows.append(
            DecisionAttachment(
                decision=decision,
                name=upload.name,
                content_type=upload.content_type,
                size=len(upload.content),
                sha256=hashlib.sha256(upload.content).hexdigest(),
                stored_as=stored_as,
                uploaded_by=by,
            )
        )
    return DecisionAttachment.objects.bulk_create(rows)
