"""Export jobs: every export (downloaded at once or produced by a worker) and where its file is."""

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .definitions import FORMS

# A file type as people call it (the button that downloads it says the same).
FORMAT_NAMES = {"pdf": "PDF", "xlsx": "Excel", "zip": "ZIP"}


class ExportJob(models.Model):
    """One export a user asked for: what, with which filters, its progress and its file; or one
    step of an Excel import (``kind`` ``import-check``: read, check, preview; ``import-write``: the
    confirmed write), which runs on the same delivery machinery and keeps its outcome in ``result``
    (risk_registry/documents/import_jobs.py).

    Small exports are rendered in the request and recorded here already done (no file kept);
    large ones and archives are rendered by ``risk_registry.documents.tasks.export_job_run``. The ``token``
    (a UUID) names the job in URLs, so the download address cannot be guessed.

    Delivery (docs/documents.md, "Background exports"): a worker claims the job under a row lock
    (``holder`` = host:pid, ``attempts`` + 1) and stamps ``heartbeat_at`` while it runs, so a job
    whose worker was killed is taken over by the redelivered message or the sweep, and a job
    interrupted too often fails with a message. The file is written under a temporary ``.part``
    name first, so running the task twice renders twice at worst and never leaves a half-written
    file behind. ``done`` never exceeds ``total`` (a check constraint).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Phase(models.TextChoices):
        """The steps of a PDF, which WeasyPrint lays out in one piece (no count of points written)."""

        ROWS = "rows", _("Reading the risk points")
        LAYOUT = "layout", _("Laying out the pages")
        WRITING = "writing", _("Writing the file")

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="export_jobs", verbose_name=_("owner")
    )
    institution = models.ForeignKey(
        "organisation.Institution",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("institution"),
    )
    # list, register, version, archive; import-check, import-write (IMPORT_KINDS)
    kind = models.CharField(_("kind"), max_length=16, default="list")
    form = models.CharField(_("form"), max_length=40)
    file_format = models.CharField(_("format"), max_length=8)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    total = models.PositiveIntegerField(_("points"), default=0)
    done = models.PositiveIntegerField(_("points written"), default=0)
    file_path = models.CharField(max_length=500, blank=True)
    filename = models.CharField(_("file name"), max_length=200, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    error = models.TextField(_("error"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)  # an import's preview or outcome
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, blank=True)
    holder = models.CharField(_("worker"), max_length=200, blank=True)  # host:pid of the process running it
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    queued_at = models.DateTimeField(_("sent to the workers"), null=True, blank=True)  # None: not sent
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="exportjob_owner")]
        constraints = [
            models.CheckConstraint(condition=models.Q(done__lte=models.F("total")), name="exportjob_done_le_total")
        ]

    IMPORT_CHECK = "import-check"
    IMPORT_WRITE = "import-write"
    IMPORT_KINDS = (IMPORT_CHECK, IMPORT_WRITE)

    def __str__(self) -> str:
        return f"{self.form}.{self.file_format} ({self.state})"

    @property
    def is_import(self) -> bool:
        return self.kind in self.IMPORT_KINDS

    @property
    def title(self) -> str:
        """What the job makes, in words: the form's title (the archive: 年度档案) and the file type,
        never the internal form code or extension."""
        if self.kind == "archive":
            name = str(_("Annual archive"))
        else:
            form = FORMS.get(self.form)
            name = form.title if form else str(_("Document"))
        return f"{name} · {FORMAT_NAMES.get(self.file_format, self.file_format.upper())}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        if self.phase:
            return PHASE_PERCENT[ExportJob.Phase(self.phase)]
        return min(99, int(100 * self.done / self.total)) if self.total else 0

    @property
    def phase_number(self) -> int:
        return list(self.Phase.values).index(self.phase) + 1 if self.phase else 0

    @property
    def phase_count(self) -> int:
        return len(self.Phase.values)

    @property
    def file_available(self) -> bool:
        """Whether the finished file is on this server (a restore from backup brings back the job
        rows, not necessarily their files; an export downloaded at once keeps none)."""
        return self.state == self.State.DONE and bool(self.file_path) and Path(self.file_path).is_file()

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)


PHASE_PERCENT = {ExportJob.Phase.ROWS: 5, ExportJob.Phase.LAYOUT: 30, ExportJob.Phase.WRITING: 90}


class ImportMapping(models.Model):
    """How an institution's own register maps onto the product, remembered for next year's import.

    ``columns``: normalised header text → target (a field of the import, ``note`` or ``ignore``).
    ``values``: kind (``level``, ``risk_type``, ``found_by``, ``line``) → {word in the file: code}.
    Written when an import through the wizard is confirmed; offered as the suggestions of the next.
    """

    institution = models.OneToOneField(
        "organisation.Institution", on_delete=models.CASCADE, related_name="+", verbose_name=_("institution")
    )
    columns = models.JSONField(_("columns"), default=dict, blank=True)
    values = models.JSONField(_("values"), default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("updated by")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")

    def __str__(self) -> str:
        return str(self.institution_id)


class FiledPdf(models.Model):
    """A filed version's PDF in one form, rendered once from the version's snapshot and kept, with
    the SHA-256 of the bytes kept (risk_registry/documents/filed.py).

    A filed version never changes, so neither does its PDF: a download serves the kept bytes after
    checking them against ``sha256``, instead of laying out a long register again (1,000 points: a
    quarter of a minute of CPU). The file lives in ``RISK_REGISTRY_FILED_DIR`` under a name made of
    the version's id and the form. When it is missing or its bytes differ, the PDF is rendered again
    from the snapshot alone, kept, this row updated, and an audit entry says so.
    """

    version = models.ForeignKey(
        "risk_registry.RegisterVersion", on_delete=models.PROTECT, related_name="+", verbose_name=_("filed version")
    )
    form = models.CharField(_("form"), max_length=40)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size"))
    rendered_at = models.DateTimeField(_("rendered"))

    class Meta:
        verbose_name = _("filed version's PDF")
        verbose_name_plural = _("filed versions' PDFs")
        constraints = [models.UniqueConstraint(fields=["version", "form"], name="filed_pdf_unique_form")]

    def __str__(self) -> str:
        return f"{self.version_id} {self.form}"
