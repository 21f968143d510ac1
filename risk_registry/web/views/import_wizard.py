"""The import wizard: upload → columns → values → check → confirm (docs/documents.md, "The import wizard").

The wizard's state lives server-side in the user's session (``WIZARD_SESSION_KEY``: the token of
the uploaded file waiting under ``var/exports/``, the institution, year, sheet and the mapping so
far). Every step is a POST with its CSRF token that changes only that state and redirects; the GET
page shows the step the state has reached and writes nothing. Only confirm writes the register.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from risk_registry.documents import importer, services, wizard
from risk_registry.documents.import_jobs import upload_path as _upload_path
from risk_registry.documents.importer import MAX_FILE_BYTES
from risk_registry.models import FoundBy
from risk_registry.web.params import int_param, year_param
from risk_registry.web.views.documents import _importable

WIZARD_SESSION_KEY = "documents_import_wizard"
STEPS = ("upload", "columns", "values", "check")
PREVIEW_ROWS = 15


def _state(request: HttpRequest, code: str) -> dict[str, Any] | None:
    state = request.session.get(WIZARD_SESSION_KEY)
    if not state or state.get("institution") != code or not _upload_path(state.get("token", "")).is_file():
        return None
    return state


def _save(request: HttpRequest, state: dict[str, Any]) -> None:
    request.session[WIZARD_SESSION_KEY] = state
    request.session.modified = True


def _grid(state: dict[str, Any]) -> importer.Grid:
    return importer.read_grid(_upload_path(state["token"]).read_bytes(), sheet=state.get("sheet", ""))


def _page(request: HttpRequest, institution, context: dict[str, Any]) -> HttpResponse:
    context |= {"institution": institution, "max_kb": MAX_FILE_BYTES // 1024, "steps": STEPS}
    return render(request, "documents/import_wizard.html", context)


@require_GET
def wizard_page(request: HttpRequest, code: str) -> HttpResponse:
    """The step the wizard has reached (``?step=`` goes back to an earlier one); writes nothing."""
    institution = _importable(request, code)
    state = _state(request, code)
    if state is None:
        return _page(request, institution, {"step": "upload", "year": timezone.localdate().year})
    asked = request.GET.get("step", "")
    step = asked if asked in STEPS and STEPS.index(asked) <= STEPS.index(state["step"]) else state["step"]
    grid = _grid(state)
    context: dict[str, Any] = {"step": step, "state": state, "sheets": grid.sheets, "sheet": grid.sheet}
    if step == "columns":
        context |= _columns_context(grid, state)
    elif step == "values":
        context |= _values_context(grid, state, institution)
    elif step == "check":
        data = _upload_path(state["token"]).read_bytes()
        checked = services.register_import_mapped_check(
            by=request.user,
            institution=institution,
            year=state["year"],
            data=data,
            mapping=state["mapping"],
            sheet=state.get("sheet", ""),
        )
        context |= {"checked": checked, "points": checked.result.points[:200]}
    return _page(request, institution, context)


def _columns_context(grid: importer.Grid, state: dict[str, Any]) -> dict[str, Any]:
    mapping = state["mapping"]
    header_row = mapping["header_row"]
    names = wizard.headers(grid.cells, header_row)
    width = len(names)
    rows = [
        (number, [importer._text(v) for v in (row + [None] * width)[:width]])
        for number, row in enumerate(grid.cells[: header_row + PREVIEW_ROWS], start=1)
    ]
    return {
        "preview": rows,
        "header_row": header_row + 1,
        "header_choices": range(1, min(len(grid.cells), importer.HEADER_SEARCH_ROWS) + 1),
        "columns": list(zip(names, mapping["columns"], strict=False)),
        "targets": list(wizard.TARGETS.items()),
        "recognised": wizard.recognised(names),
        "rows_total": len(wizard.data_rows(grid.cells, header_row)),
    }


def _values_context(grid: importer.Grid, state: dict[str, Any], institution) -> dict[str, Any]:
    mapping = state["mapping"]
    found = wizard.found_values(grid, mapping)
    context = wizard.Context.load(institution)
    level_map = mapping.get("levels", {})
    return {
        "levels": context.levels,
        "level_words": [(i, w, level_map.get(w, "")) for i, w in enumerate(found["level"])],
        "risk_types": context.risk_types,
        "type_words": [(i, w, mapping.get("risk_types", {}).get(w, "")) for i, w in enumerate(found["risk_type"])],
        "found_by_choices": [c for c in FoundBy.choices],
        "found_words": [(i, w, mapping.get("found_by", {}).get(w, "")) for i, w in enumerate(found["found_by"])],
        "department_words": wizard.unknown_names(
            ((i, w, w) for i, w in enumerate(found["department"])),
            dict(sorted(context.departments.items(), key=lambda item: (item[1].order, item[1].pk))),
            mapping.get("departments", {}),
        ),
        "position_words": [
            offer
            for i, key in enumerate(found["position"])
            for offer in wizard.unknown_names(
                [(i, key, key.split("|", 1)[1])],
                context.positions_of(context.department_of(key.split("|", 1)[0], mapping)),
                mapping.get("positions", {}),
            )
        ],
        "needs_type": "risk_type" not in mapping["columns"],
        "needs_level": "level" not in mapping["columns"] and "likelihood" not in mapping["columns"],
        "directly": "level" in mapping["columns"] and "likelihood" not in mapping["columns"],
        "has_measures": "measures" in mapping["columns"],
        "lines": list(wizard.LINE_LABELS.items()),
        "states": list(wizard.STATES.items()),
        "mapping": mapping,
    }


@require_POST
def wizard_upload(request: HttpRequest, code: str) -> HttpResponse:
    """Step 1: the file waits under a token; the header row and the columns are suggested."""
    institution = _importable(request, code)
    upload = request.FILES.get("file")
    year = year_param(request.POST.get("year")) or timezone.localdate().year
    if upload is None:
        messages.error(request, _("Choose a file."))
        return redirect("documents_wizard", code=code)
    data = upload.read(MAX_FILE_BYTES + 1)
    sheet = request.POST.get("sheet", "").strip()[:31]
    try:
        grid = importer.read_grid(data, sheet=sheet)
    except importer.ImportRefused as refused:
        return _page(
            request,
            institution,
            {"step": "upload", "year": year, "refused": refused.problem, "sheets": refused.sheets, "sheet": sheet},
        )
    token = uuid.uuid4().hex
    _upload_path(token).write_bytes(data)
    header_row = wizard.detect_header(grid.cells)
    remembered = services.import_mapping_of(institution)
    names = wizard.headers(grid.cells, header_row)
    columns = wizard.suggest_columns(names, remembered.columns if remembered else {})
    _save(
        request,
        {
            "token": token,
            "institution": code,
            "year": year,
            "name": (upload.name or "")[:200],
            "sheet": grid.sheet,
            "step": "columns",
            "remembered": remembered is not None,
            "mapping": {"header_row": header_row, "columns": columns},
        },
    )
    return redirect(reverse("documents_wizard", kwargs={"code": code}) + "?step=columns")


@require_POST
def wizard_step(request: HttpRequest, code: str) -> HttpResponse:
    """Steps 2 and 3: the columns, then the values; each saves its part of the mapping."""
    institution = _importable(request, code)
    state = _state(request, code)
    if state is None:
        messages.error(request, _("This import has expired: upload the file again."))
        return redirect("documents_wizard", code=code)
    grid = _grid(state)
    mapping = state["mapping"]
    if request.POST.get("step") == "header":
        number = int_param(
            request.POST.get("header_row"), name=_("The header row"), minimum=1, maximum=importer.HEADER_SEARCH_ROWS
        )
        mapping["header_row"] = (number or 1) - 1
        remembered = services.import_mapping_of(institution)
        names = wizard.headers(grid.cells, mapping["header_row"])
        mapping["columns"] = wizard.suggest_columns(names, remembered.columns if remembered else {})
        state["step"] = "columns"
        next_step = "columns"
    elif request.POST.get("step") == "columns":
        names = wizard.headers(grid.cells, mapping["header_row"])
        mapping["columns"] = [
            target if (target := request.POST.get(f"column_{i}", "")) in wizard.TARGETS else wizard.NOTE
            for i in range(len(names))
        ]
        remembered = services.import_mapping_of(institution)
        wizard.suggest_values(grid, mapping, wizard.Context.load(institution), remembered.values if remembered else {})
        state["step"] = next_step = "values"
    else:
        _read_values(request, grid, mapping)
        state["step"] = next_step = "check"
    _save(request, state)
    return redirect(reverse("documents_wizard", kwargs={"code": code}) + f"?step={next_step}")


def _read_values(request: HttpRequest, grid: importer.Grid, mapping: dict[str, Any]) -> None:
    found = wizard.found_values(grid, mapping)
    post = request.POST
    mapping["levels"] = {w: post.get(f"level_{i}", "")[:16] for i, w in enumerate(found["level"])}
    mapping["risk_types"] = {w: post.get(f"type_{i}", "")[:12] for i, w in enumerate(found["risk_type"])}
    mapping["found_by"] = {w: post.get(f"found_{i}", "")[:16] for i, w in enumerate(found["found_by"])}
    departments = mapping.get("departments", {})
    mapping["departments"] = {
        w: post.get(f"department_{i}", "new")[:12] for i, w in enumerate(found["department"]) if w in departments
    }
    mapping["positions"] = {key: post.get(f"position_{i}", "new")[:12] for i, key in enumerate(found["position"])}
    mapping["default_risk_type"] = post.get("default_risk_type", "")[:12]
    mapping["default_level"] = post.get("default_level", "")[:16]
    mapping["default_line"] = post.get("default_line", "") if post.get("default_line") in wizard.LINES else "prevention"
    mapping["state"] = post.get("state") if post.get("state") in wizard.STATES else "draft"


@require_POST
def wizard_confirm(request: HttpRequest, code: str) -> HttpResponse:
    """Step 5: write the whole file or nothing (checked again inside the transaction)."""
    institution = _importable(request, code)
    state = _state(request, code)
    if state is None or state.get("token") != request.POST.get("token") or state.get("step") != "check":
        messages.error(request, _("This import has expired: upload the file again."))
        return redirect("documents_wizard", code=code)
    path = _upload_path(state["token"])
    imported = services.register_import_mapped(
        by=request.user,
        institution=institution,
        year=state["year"],
        data=path.read_bytes(),
        mapping=state["mapping"],
        filename=state["name"],
        sheet=state.get("sheet", ""),
    )
    if not imported.ok:
        messages.error(request, _("The file no longer passes the check: nothing was imported."))
        return redirect(reverse("documents_wizard", kwargs={"code": code}) + "?step=check")
    path.unlink(missing_ok=True)
    del request.session[WIZARD_SESSION_KEY]
    messages.success(request, _("%(count)d risk points were imported.") % {"count": imported.created})
    return redirect(f"{reverse('risk_point_list')}?institution={institution.code}&year={state['year']}")


@require_POST
def wizard_restart(request: HttpRequest, code: str) -> HttpResponse:
    """Drop the wizard's state and its waiting file (nothing of the register is written)."""
    _importable(request, code)
    state = _state(request, code)
    if state is not None:
        _upload_path(state["token"]).unlink(missing_ok=True)
    request.session.pop(WIZARD_SESSION_KEY, None)
    return redirect("documents_wizard", code=code)
