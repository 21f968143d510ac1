"""Pages of the documents: export (at once or as a job), the job's progress, archive, import."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from risk_registry import access
from risk_registry.documents import import_jobs, selectors, services
from risk_registry.documents.definitions import FORMATS, FORMS
from risk_registry.documents.importer import MAX_FILE_BYTES
from risk_registry.documents.models import ExportJob
from risk_registry.documents.pdf import DocumentUnavailable
from risk_registry.models import RiskPointState
from risk_registry.organisation.users import AuthenticatedRequest
from risk_registry.web.htmx import render_page_or_partial
from risk_registry.web.params import BadParameter, year_param
from risk_registry.web.redirects import redirect_back

NOT_FILTERS = ("form", "format", "after")


def _download(outcome: services.ExportOutcome) -> FileResponse:
    return FileResponse(outcome.file, as_attachment=True, filename=outcome.filename, content_type=outcome.content_type)


def _start(request: HttpRequest, *, kind: str, params: dict) -> HttpResponseBase:
    """An export is a POST (it writes a job and an audit entry): ``form`` and ``format`` come
    with it; a list's filters come as ``filters``, the list's query string."""
    try:
        outcome = services.export_start(
            user=request.user,
            kind=kind,
            form_code=request.POST.get("form", "overview"),
            fmt=request.POST.get("format", "xlsx"),
            params=params,
        )
    except (DocumentUnavailable, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect_back(request, fallback=reverse("documents_home"))
    if outcome.file is not None:
        return _download(outcome)
    messages.info(request, _("This export is large: it is being prepared. You can leave this page."))
    return redirect("documents_job", token=outcome.job.token)


@require_POST
def export(request: HttpRequest) -> HttpResponseBase:
    """Export the risk-point list in a form, keeping its filters (institution and year = a register)."""
    filters = QueryDict(request.POST.get("filters", ""))
    params = {key: values for key, values in filters.lists() if key not in NOT_FILTERS}
    return _start(request, kind="list", params=params)


@require_POST
def version_export(request: HttpRequest, pk: int) -> HttpResponseBase:
    version = access.object_or_404(access.versions_visible_to(request.user), pk=pk)
    return _start(request, kind="version", params={"version": version.pk})


@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    """Every form of an institution's register for a year, its filed versions, archive, import."""
    institutions = access.institutions_visible_to(request.user).order_by("path")
    code = request.GET.get("institution", "")
    institution = access.object_or_404(institutions, code=code) if code else institutions.first()
    year = year_param(request.GET.get("year")) or timezone.localdate().year
    versions = (
        access.versions_visible_to(request.user)
        .filter(register__institution=institution, register__year=year)
        .order_by("-number")
        if institution
        else []
    )
    context = {
        "institution": institution,
        "institutions": institutions[:200],
        "year": year,
        "forms": FORMS.values(),
        "formats": FORMATS,
        "versions": versions,
        "can_import": institution is not None and selectors.can_import_into(request.user, institution),
        "jobs": selectors.export_jobs_of(request.user).select_related("institution")[:10],
    }
    return render(request, "documents/home.html", context)


@require_POST
def archive(request: HttpRequest) -> HttpResponse:
    institution = access.object_or_404(
        access.institutions_visible_to(request.user), code=request.POST.get("institution")
    )
    year = year_param(request.POST.get("year"))
    if year is None:
        raise BadParameter(_("Choose the year of the archive."))
    try:
        job = services.archive_start(user=request.user, institution=institution, year=year)
    except DocumentUnavailable as error:
        messages.error(request, str(error))
        return redirect(f"{reverse('documents_home')}?institution={institution.code}&year={year}")
    return redirect("documents_job", token=job.token)


def _own_job(request: AuthenticatedRequest, token: uuid.UUID) -> ExportJob:
    return access.object_or_404(selectors.export_jobs_of(request.user).select_related("institution"), token=token)


@require_GET
def job(request: AuthenticatedRequest, token: uuid.UUID) -> HttpResponse:
    """The job's progress; the status part refreshes itself (htmx) until the job has finished."""
    found = _own_job(request, token)
    silent = not found.is_finished and selectors.workers_silent()
    return render_page_or_partial(
        request,
        page="documents/job.html",
        partial="documents/_job_status.html",
        context={"job": found, "workers_silent": silent},
    )


@require_GET
def job_download(request: AuthenticatedRequest, token: uuid.UUID) -> FileResponse:
    job = _own_job(request, token)
    if job.state != ExportJob.State.DONE or not job.file_path or not Path(job.file_path).is_file():
        raise Http404
    content_type = services.CONTENT_TYPES.get(job.file_format, "application/octet-stream")
    return FileResponse(open(job.file_path, "rb"), as_attachment=True, filename=job.filename, content_type=content_type)


# --- import ---------------------------------------------------------------------------------


def _importable(request: HttpRequest, code: str):
    institution = access.object_or_404(
        access.institutions_visible_to(request.user).select_related("grading_scheme"), code=code
    )
    access.require(selectors.can_import_into(request.user, institution))
    return institution


@require_GET
def import_template(request: HttpRequest, code: str) -> HttpResponse:
    institution = _importable(request, code)
    response = HttpResponse(
        services.import_template(institution=institution), content_type=services.CONTENT_TYPES["xlsx"]
    )
    response["Content-Disposition"] = content_disposition_header(True, f"{institution.name}-导入模板.xlsx")
    return response


def _import_context(institution, year) -> dict:
    """What the import page shows around the form and the job, on the upload and on the job's page."""
    return {
        "institution": institution,
        "year": year,
        "max_kb": MAX_FILE_BYTES // 1024,
        "submitted_label": RiskPointState.SUBMITTED.label,
    }


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, code: str) -> HttpResponse:
    """Upload: the file is kept and its check starts in a worker (nothing written to the
    register); the job's page shows the progress, then the preview."""
    institution = _importable(request, code)
    year = timezone.localdate().year
    context = _import_context(institution, year)
    if request.method == "POST":
        upload = request.FILES.get("file")
        year = year_param(request.POST.get("year")) or year
        if upload is None:
            messages.error(request, _("Choose a file."))
            return render(request, "documents/import.html", context)
        job = import_jobs.import_check_start(
            user=request.user,
            institution=institution,
            year=year,
            data=upload.read(MAX_FILE_BYTES + 1),
            filename=upload.name or "",
            sheet=request.POST.get("sheet", "").strip()[:31],  # Excel's limit on a sheet name
        )
        return redirect("documents_import_job", code=institution.code, token=job.token)
    return render(request, "documents/import.html", context)


@require_GET
def import_job(request: AuthenticatedRequest, code: str, token: uuid.UUID) -> HttpResponse:
    """An import's check or write: its progress (the status part polls itself), then the preview
    with the confirm button, or what was imported."""
    institution = _importable(request, code)
    found = access.object_or_404(selectors.import_jobs_of(request.user, institution), token=token)
    context = {
        **_import_context(institution, found.params.get("year")),
        "job": found,
        "workers_silent": not found.is_finished and selectors.workers_silent(),
    }
    return render_page_or_partial(
        request, page="documents/import.html", partial="documents/_import_status.html", context=context
    )


@require_POST
def import_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """Confirm a clean check: the write starts in a worker; its page shows the progress."""
    institution = _importable(request, code)
    try:
        token = uuid.UUID(request.POST.get("job", ""))
    except ValueError:
        raise Http404 from None
    check = access.object_or_404(selectors.import_jobs_of(request.user, institution), token=token)
    try:
        job = import_jobs.import_write_start(user=request.user, check=check)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("documents_import", code=institution.code)
    return redirect("documents_import_job", code=institution.code, token=job.token)
