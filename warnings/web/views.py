"""Pages of the warning ledger: the ledger, an item, the notices and their steps. Thin: parse,
ask integrity_warnings.access, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrity_warnings import access, files, selectors, services
from integrity_warnings.grades import legend_of
from integrity_warnings.ladder import BY_NAME, DispositionState
from integrity_warnings.ledger_export import MAX_ROWS, ledger_pdf, ledger_rows, ledger_xlsx
from integrity_warnings.models import WarningItem
from integrity_warnings.notices import notice_pdf
from integrity_warnings.services import WarningConflict
from integrity_warnings.web.forms import (
    AttachmentForm,
    GrantForm,
    IssueForm,
    LedgerFilterForm,
    StepForm,
    VerifyForm,
    WarningItemForm,
)
from risk_registry import access as risk_access
from risk_registry import selectors as risk_selectors
from risk_registry.documents.pdf import DocumentUnavailable
from risk_registry.organisation.models import AuditAction, Institution
from risk_registry.organisation.names import person
from risk_registry.organisation.services import audit_record
from risk_registry.web.forms.points import ControlFormSet, RiskPointForm, control_changes
from risk_registry.web.forms.workflow import ProposalForm
from risk_registry.web.params import id_or_none

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _conflict(request: HttpRequest) -> None:
    messages.error(request, _("Someone else changed this warning meanwhile: look at it again and retry."))


@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    access.require(access.may_see_ledger(request.user))
    form = LedgerFilterForm(request.GET or None, institutions=risk_access.institutions_visible_to(request.user))
    filters = form.valid_filters() if form.is_bound else {}
    items = selectors.ledger_for(user=request.user, today=timezone.localdate(), **filters)
    page = _page_of(items, request.GET.get("page"))
    return render(
        request,
        "warnings/ledger.html",
        {
            "form": form,
            "page": page,
            "previous_url": _ledger_url(request.GET, page=str(page.previous_page_number()))
            if page.has_previous()
            else "",
            "next_url": _ledger_url(request.GET, page=str(page.next_page_number())) if page.has_next() else "",
            "stats": _linked(selectors.ledger_statistics(items), request.GET),
            "legend": legend_of(page.object_list),
            "can_register": access.register_institutions(request.user).exists(),
            "grade_scales": access.scale_institutions(request.user),
        },
    )


def _page_of(items: QuerySet[WarningItem], number: str | None) -> Page:
    """A page of the ledger: its ids sorted and cut on the items alone (and their grades, for the
    order by seriousness), then those rows with everything they show. Sorting the province's 19,800
    items joined to their institutions, people, posts and departments to keep 20 took 100 ms."""
    page = Paginator(items.select_related(None).values_list("pk", flat=True), PAGE_SIZE).get_page(number)
    ids = list(page.object_list)
    rows = {item.pk: item for item in items.filter(pk__in=ids).order_by()}
    return Page([rows[pk] for pk in ids], page.number, page.paginator)


def _ledger_url(query: QueryDict, **changes: str) -> str:
    """The ledger with the current filters, changed by ``changes`` (no page number)."""
    params = query.copy()
    params.pop("page", None)
    for key, value in changes.items():
        params[key] = value
    encoded = params.urlencode()
    return reverse("warning_ledger") + (f"?{encoded}" if encoded else "")


def _linked(stats: selectors.LedgerStatistics, query: QueryDict) -> selectors.LedgerStatistics:
    """Each figure with the URL of the ledger filtered to what it counts."""
    for key, rows in (
        ("channel", stats.by_channel),
        ("band", stats.by_band),
        ("grade", stats.by_grade),
        ("status", stats.by_status),
        ("month", stats.by_month),
    ):
        for row in rows:
            row["url"] = _ledger_url(query, **{key: str(row["key"])})
    return stats


@require_GET
def ledger_statistics(request: HttpRequest) -> HttpResponse:
    """Statistics of the ledger by channel, grade, outcome and month: the ledger's scope and filters."""
    access.require(access.may_see_ledger(request.user))
    form = LedgerFilterForm(request.GET or None, institutions=risk_access.institutions_visible_to(request.user))
    filters = form.valid_filters() if form.is_bound else {}
    items = selectors.ledger_for(user=request.user, today=timezone.localdate(), **filters)
    return render(
        request,
        "warnings/statistics.html",
        {
            "form": form,
            "stats": _linked(selectors.ledger_statistics(items), request.GET),
            "ledger_url": _ledger_url(request.GET),
            "overdue_url": _ledger_url(request.GET, overdue="on"),
        },
    )


@require_POST
def ledger_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered ledger as the official form; confidential fields only for their handlers.
    A POST (the ledger's filters in hidden fields): an export writes its audit entry."""
    access.require(access.may_see_ledger(request.user))
    asked = request.POST.copy()
    asked.pop("csrfmiddlewaretoken", None)
    form = LedgerFilterForm(asked or None, institutions=risk_access.institutions_visible_to(request.user))
    filters = form.valid_filters() if form.is_bound else {}
    items = selectors.ledger_for(user=request.user, today=timezone.localdate(), **filters)
    listed = list(items[: MAX_ROWS + 1])  # one over the limit: ledger_rows refuses it
    try:
        rows = ledger_rows(listed)
        legend = legend_of(listed)
        data = ledger_xlsx(rows, legend) if fmt == "xlsx" else ledger_pdf(rows, legend)
    except DocumentUnavailable as error:
        messages.error(request, str(error))
        return redirect("warning_ledger")
    audit_record(
        actor=request.user,
        action=AuditAction.WARNING_LEDGER_EXPORT,
        target=request.user,
        summary=f"{fmt} {len(rows)}",
        changes={"filters": asked.dict()},
    )
    content_type = XLSX if fmt == "xlsx" else "application/pdf"
    response = HttpResponse(data, content_type=content_type)
    filename = f"预警信息台账-{timezone.localdate():%Y%m%d}.{fmt}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# Institutions the entry form's first step lists at once (a province office registers for 10,000).
ENTRY_CHOICES = 50


def _entry_institution(request: HttpRequest, institutions: QuerySet[Institution]) -> Institution | None:
    """The institution a warning is entered for: the one posted or asked for (``institution``, an
    id among ``institutions``; a GET asking for another answers 404), else on a GET the user's only
    one; None when it is still to choose."""
    if request.method == "POST":  # a wrong one is the form's error ("select a valid choice")
        posted = id_or_none(request.POST.get("institution"))
        return institutions.filter(pk=posted).first() if posted is not None else None
    raw = request.GET.get("institution", "")
    if raw:  # asked for by a link: 404 outside the user's institutions, as for any object
        return access.object_or_404(institutions, pk=id_or_none(raw) or 0)
    only = list(institutions.order_by("path")[:2])
    return only[0] if len(only) == 1 else None


@require_http_methods(["GET", "POST"])
def item_new(request: HttpRequest) -> HttpResponse:
    """Enter a warning in two steps: the institution first (listed, searched by name or code), then
    the item, whose subject is chosen among that institution's people, posts and departments only
    (a city office registers for 1,001 institutions: every person of them was 118,000 options)."""
    institutions = access.register_institutions(request.user)
    access.require(institutions.exists())
    chosen = _entry_institution(request, institutions)
    if chosen is None and request.method == "GET":
        return _entry_chooser(request, institutions)
    one = institutions.filter(pk=chosen.pk) if chosen is not None else institutions.none()
    form = WarningItemForm(
        request.POST or None,
        institutions=one,
        people=risk_access.people_of(one),
        positions=risk_access.positions_visible_to(request.user).filter(institution__in=one),
        initial={"institution": chosen.pk} if chosen is not None else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            item = services.warning_item_create(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("The warning was entered in the ledger as %(number)s.") % {"number": item.number}
            )
            return redirect("warning_detail", pk=item.pk)
    several = institutions.exclude(pk=chosen.pk).exists() if chosen is not None else True
    return render(request, "warnings/item_form.html", {"form": form, "institution": chosen, "several": several})


def _entry_chooser(request: HttpRequest, institutions: QuerySet[Institution]) -> HttpResponse:
    """The entry form's first step: the institutions the user registers for, level by level (the
    office's own, the institutions directly under it, then deeper), narrowed by a name or code
    (``q``), the first ``ENTRY_CHOICES`` of them."""
    term = request.GET.get("q", "").strip()[:40]
    matching = institutions.filter(Q(name__icontains=term) | Q(code__icontains=term)) if term else institutions
    listed = list(matching.order_by("depth", "path").only("pk", "code", "name", "depth")[: ENTRY_CHOICES + 1])
    return render(
        request,
        "warnings/item_institution.html",
        {"term": term, "institutions": listed[:ENTRY_CHOICES], "more": len(listed) > ENTRY_CHOICES},
    )


@require_GET
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.item_for(user=request.user, pk=pk, today=timezone.localdate())
    readable = access.can_read_confidential(request.user, item)
    if readable and item.confidential:
        services.warning_confidential_read(by=request.user, item=item)
    can_act = access.can_act_on(request.user, item)
    measures = services.measures_open(item) if can_act else []
    risk_points = list(
        risk_access.risk_points_visible_to(request.user)
        .filter(warning_items=item)
        .select_related("institution__grading_scheme", "level")
    )
    reason = _("Warning %(number)s of the ledger (%(channel)s)") % {"number": item.number, "channel": item.channel.name}
    context = {
        "item": item,
        "readable": readable,
        "can_act": can_act,
        "dispositions": selectors.dispositions_of(item),
        "risk_points": risk_points,
        "measures": measures,
        "may_draft_point": access.draft_target(request.user, item) is not None,
        "proposals": [
            (point, ProposalForm(scheme=point.institution.grading_scheme, initial={"reason": reason}))
            for point in risk_points
            if risk_access.can_propose_level(request.user, point)
        ],
    }
    if can_act:
        context["verify_form"] = VerifyForm(initial={"version": item.version})
        context["grant_form"] = GrantForm(candidates=access.handler_candidates(item))
    return render(request, "warnings/item_detail.html", context)


@require_POST
def item_verify(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.item_for(user=request.user, pk=pk, today=timezone.localdate())
    access.require(access.can_act_on(request.user, item))
    form = VerifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a result of the verification."))
        return redirect("warning_detail", pk=item.pk)
    try:
        services.warning_item_verify(by=request.user, item=item, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except WarningConflict:
        _conflict(request)
    else:
        messages.success(request, _("The verification was recorded."))
    return redirect("warning_detail", pk=item.pk)


@require_POST
def item_grant(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.item_for(user=request.user, pk=pk, today=timezone.localdate())
    access.require(access.can_act_on(request.user, item))
    form = GrantForm(request.POST, candidates=access.handler_candidates(item))
    if not form.is_valid():
        messages.error(request, _("Choose a member of the discipline office."))
        return redirect("warning_detail", pk=item.pk)
    try:
        services.warning_handler_grant(by=request.user, item=item, user=form.cleaned_data["user"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The handler was granted."))
    return redirect("warning_detail", pk=item.pk)


@require_http_methods(["GET", "POST"])
def disposition_issue(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.item_for(user=request.user, pk=pk, today=timezone.localdate())
    access.require(access.can_act_on(request.user, item))
    measures = services.measures_open(item)
    people = risk_access.people_of(risk_access.institutions_visible_to(request.user).filter(pk=item.institution_id))
    initial = {"version": item.version, "recipient_user": item.subject_user_id, "recipient_name": _subject(item)}
    form = IssueForm(request.POST or None, measures=measures, people=people, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            disposition = services.disposition_issue(by=request.user, item=item, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        except WarningConflict:
            form.add_error(None, _("Someone else changed this warning meanwhile: look at it again and retry."))
        else:
            messages.success(request, _("Notice %(number)s was issued.") % {"number": disposition.number})
            return redirect("disposition_detail", pk=disposition.pk)
    return render(request, "warnings/issue_form.html", {"form": form, "item": item, "measures": measures})


def _subject(item) -> str:
    if item.subject_user_id:
        return person(item.subject_user)
    return item.subject_name or str(item.subject_position or item.subject_department or item.institution)


@require_GET
def disposition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    disposition = selectors.disposition_for(user=request.user, pk=pk)
    can_act = access.can_act_on(request.user, disposition.item)
    can_respond = access.can_respond(request.user, disposition) and disposition.state == DispositionState.ISSUED
    return render(
        request,
        "warnings/disposition_detail.html",
        {
            "d": disposition,
            "can_act": can_act,
            "can_respond": can_respond,
            "is_recipient": access.is_recipient(request.user, disposition),
            "overdue": disposition.state == DispositionState.ISSUED
            and disposition.due_on is not None
            and disposition.due_on < timezone.localdate(),
            "form": StepForm(initial={"version": disposition.version}),
            "attachments": selectors.attachments_of(disposition)
            if access.can_read_attachments(request.user, disposition)
            else None,
            "attachment_form": AttachmentForm() if can_respond else None,
            "may_draft_point": access.draft_target(request.user, disposition.item) is not None,
        },
    )


@require_http_methods(["GET", "POST"])
def warning_point_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Draft a risk point from a warning: the register's form, prefilled with the item's facts unless
    it is confidential; 404 to anyone who may not draft there (access.draft_target)."""
    item = selectors.item_for_drafting(user=request.user, pk=pk)
    target = access.draft_target(request.user, item)
    if target is None:
        raise Http404
    department, position = target
    form_kwargs: dict[str, Any] = {"institution": item.institution, "department": department, "position": position}
    if request.method == "POST":
        form = RiskPointForm(request.POST, **form_kwargs)
        formset = ControlFormSet(request.POST, prefix="controls", form_kwargs={"institution": item.institution})
        if form.is_valid() and formset.is_valid():
            try:
                point = services.warning_point_draft(
                    by=request.user,
                    item=item,
                    year=risk_selectors.current_year(),
                    fields=form.cleaned_data,
                    controls=control_changes(formset),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The draft risk point was saved and linked to the warning."))
                return redirect("risk_point_detail", pk=point.pk)
    else:
        initial = {} if item.confidential else {"description": item.facts[:500]}
        form = RiskPointForm(initial=initial, **form_kwargs)
        formset = ControlFormSet(prefix="controls", form_kwargs={"institution": item.institution})
    context = {
        "form": form,
        "formset": formset,
        "institution": item.institution,
        "department": department,
        "position": position,
        "risk_point": None,
        "from_warning": item,
    }
    return render(request, "risk_registry/risk_point_form.html", context)


@require_POST
def attachment_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a file to the written report (multipart); errors come back as a message."""
    disposition = selectors.disposition_for(user=request.user, pk=pk)
    if not access.can_respond(request.user, disposition):
        raise PermissionDenied
    form = AttachmentForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect("disposition_detail", pk=disposition.pk)
    try:
        services.report_attachment_add(by=request.user, disposition=disposition, upload=form.cleaned_data["file"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The file is attached to the report."))
    return redirect("disposition_detail", pk=disposition.pk)


@require_POST
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    """A report's file, to those who may read it (audited): as a download, never shown inline."""
    attachment = selectors.attachment_for(user=request.user, pk=pk)
    services.report_attachment_read(by=request.user, attachment=attachment)
    response = FileResponse(
        files.open_stored(attachment.stored_as), content_type=files.KINDS[attachment.kind], as_attachment=False
    )
    filename = f"{attachment.disposition.number}-回告附件-{attachment.name}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def disposition_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    disposition = selectors.disposition_for(user=request.user, pk=pk)
    transition = BY_NAME.get(step)
    if transition is None:
        raise PermissionDenied
    allowed = (
        access.can_respond(request.user, disposition)
        if transition.by_recipient
        else access.can_act_on(request.user, disposition.item)
    )
    access.require(allowed)
    form = StepForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect("disposition_detail", pk=disposition.pk)
    data = form.cleaned_data
    try:
        services.disposition_transition(
            by=request.user,
            disposition=disposition,
            name=step,
            version=data["version"],
            reason=data["reason"],
            cause_analysis=data["cause_analysis"],
            measures_taken=data["measures_taken"],
            response_days=data["response_days"] or services.DEFAULT_RESPONSE_DAYS,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except WarningConflict:
        _conflict(request)
    else:
        messages.success(request, _("Done: %(step)s.") % {"step": transition.label})
    return redirect("disposition_detail", pk=disposition.pk)


@require_POST
def disposition_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    disposition = selectors.disposition_for(user=request.user, pk=pk)
    try:
        data = notice_pdf(disposition)
    except DocumentUnavailable as error:
        messages.error(request, str(error))
        return redirect("disposition_detail", pk=disposition.pk)
    audit_record(
        actor=request.user,
        action=AuditAction.DISPOSITION_NOTICE_EXPORT,
        target=disposition,
        institution=disposition.item.institution,
        summary=disposition.number,
    )
    response = HttpResponse(data, content_type="application/pdf")
    filename = f"{disposition.get_measure_display()}-{disposition.number or disposition.pk}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@require_GET
def my_notices(request: HttpRequest) -> HttpResponse:
    return render(request, "warnings/my_notices.html", {"notices": selectors.notices_addressed_to(request.user)})
