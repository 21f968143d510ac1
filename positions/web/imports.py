"""The power inventory (职权目录) from Excel: template → upload → preview (every problem by row and
column, nothing written) → confirm (the whole file or nothing, through the inventory's services).

The checked file waits in the exports folder under a random token kept in the user's session, as
the register's import does, until it is confirmed; it is read and checked again on confirming."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from risk_registry import access
from risk_registry.documents import power_import, rendering
from risk_registry.documents.importer import MAX_FILE_BYTES
from risk_registry.organisation.models import Institution

SESSION_KEY = "power_import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _importable(request: HttpRequest, code: str) -> Institution:
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    access.require(power_import.can_import_powers(request.user, institution))
    return institution


def _upload_path(token: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        raise Http404
    return rendering.export_dir() / f"power-import-{token}.xlsx"


@require_GET
def power_import_template(request: HttpRequest, code: str) -> HttpResponse:
    institution = _importable(request, code)
    response = HttpResponse(power_import.power_import_template(institution=institution), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"{institution.name}-职权目录导入模板.xlsx")
    return response


@require_http_methods(["GET", "POST"])
def power_import_upload(request: HttpRequest, code: str) -> HttpResponse:
    institution = _importable(request, code)
    context: dict = {"institution": institution, "max_kb": MAX_FILE_BYTES // 1024}
    if request.method == "POST":
        upload = request.FILES.get("file")
        sheet = request.POST.get("sheet", "").strip()[:31]  # Excel's limit on a sheet name
        context["sheet"] = sheet
        if upload is None:
            messages.error(request, _("Choose a file."))
            return render(request, "positions/power_import.html", context)
        data = upload.read(MAX_FILE_BYTES + 1)
        result = power_import.power_import_check(by=request.user, institution=institution, data=data, sheet=sheet)
        token = ""
        if result.ok:
            token = uuid.uuid4().hex
            _upload_path(token).write_bytes(data)
            request.session[SESSION_KEY] = {
                "token": token,
                "institution": institution.code,
                "name": upload.name,
                "sheet": result.sheet,
            }
        context.update({"result": result, "token": token, "filename": upload.name})
    return render(request, "positions/power_import.html", context)


@require_POST
def power_import_confirm(request: HttpRequest, code: str) -> HttpResponse:
    institution = _importable(request, code)
    pending = request.session.get(SESSION_KEY) or {}
    token = request.POST.get("token", "")
    if pending.get("institution") != institution.code or pending.get("token") != token:
        messages.error(request, _("This import has expired: upload the file again."))
        return redirect("power_import", code=institution.code)
    path = _upload_path(token)
    if not path.is_file():
        messages.error(request, _("This import has expired: upload the file again."))
        return redirect("power_import", code=institution.code)
    result = power_import.power_import(
        by=request.user,
        institution=institution,
        data=path.read_bytes(),
        filename=pending["name"],
        sheet=pending.get("sheet", ""),
    )
    path.unlink(missing_ok=True)
    del request.session[SESSION_KEY]
    if not result.ok:
        context = {"institution": institution, "result": result, "filename": pending["name"]}
        return render(request, "positions/power_import.html", context)
    messages.success(
        request,
        _("The inventory was imported: %(created)d new power items, %(updated)d changed.")
        % {"created": result.created, "updated": result.updated},
    )
    return redirect("power_list", code=institution.code)
