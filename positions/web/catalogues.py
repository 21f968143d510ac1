"""Pages of 建章立制 and disclosure: the rule catalogue (制度目录), the three catalogues as documents,
and the public disclosure page of an institution (职权目录, flows, 裁量权基准).

Rules change only through ``risk_registry.services`` (audited; a revision or repeal flags the
points of the controls that rest on the rule). Every list is filtered by ``risk_registry.access``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from controls import attachments
from controls import services as controls_services
from controls.models import Rule
from positions import services as positions_services
from positions.flow import flow_layout
from positions.models import Disclosure, PowerItem, ProcessStep
from positions.web.forms import CatalogueExportForm, DisclosureForm, RuleForm, RuleRepealForm, RuleReviseForm
from risk_registry import access
from risk_registry import services as register_services
from risk_registry.documents import services as document_services
from risk_registry.documents.pdf import DocumentUnavailable
from risk_registry.organisation.models import Institution
from risk_registry.web.pagination import keyset_page

# --- the rule catalogue (制度目录) ----------------------------------------------------------


def _rule_departments(user, institution: Institution):
    """The departments whose rules the user may record: all for the discipline office, else their own."""
    departments = access.departments_visible_to(user).filter(institution=institution)
    if access.can_manage_rules(user, institution):
        return departments
    return departments.filter(pk__in=access.scope_of(user).department_ids)


@require_GET
def rule_list(request: HttpRequest, code: str) -> HttpResponse:
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    show_repealed = request.GET.get("repealed") == "1"
    rules = (
        access.rules_visible_to(request.user)
        .filter(institution=institution, repealed_on__isnull=not show_repealed)
        .select_related("department")
        .annotate(control_count=Count("controls"))
    )
    query = request.GET.get("q", "").strip()[:60]
    if query:
        rules = rules.filter(Q(title__icontains=query) | Q(document_number__icontains=query))
    page = keyset_page(rules.order_by("id"), after=request.GET.get("after"))
    return render(
        request,
        "positions/rule_list.html",
        {
            "institution": institution,
            "page": page,
            "q": query,
            "show_repealed": show_repealed,
            "can_create": _rule_departments(request.user, institution).exists()
            or access.can_manage_rules(request.user, institution),
            "export_form": CatalogueExportForm(initial={"kind": "rules"}),
        },
    )


@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest, code: str) -> HttpResponse:
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    office = access.can_manage_rules(request.user, institution)
    departments = _rule_departments(request.user, institution)
    access.require(office or departments.exists())
    form = RuleForm(
        request.POST or None, request.FILES or None, departments=departments, department_required=not office
    )
    if request.method == "POST" and form.is_valid():
        department = form.cleaned_data["department"]
        if not access.can_manage_rules(request.user, institution, department.pk if department else None):
            form.add_error("department", _("Choose one of your departments."))
        else:
            try:
                with transaction.atomic():
                    rule = controls_services.rule_create(
                        institution=institution, by=request.user, **form.service_fields()
                    )
                    _attach(request, rule, form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The rule was recorded in the rule catalogue."))
                return redirect("rule_detail", pk=rule.pk)
    return render(request, "positions/rule_form.html", {"institution": institution, "form": form, "rule": None})


def _attach(request: HttpRequest, rule: Rule, data: dict) -> None:
    """The file of a rule's form: attached (replacing any earlier one), or removed when asked."""
    if data.get("attachment"):
        name, content = data["attachment"]
        controls_services.rule_attachment_set(rule=rule, name=name, data=content, by=request.user)
    elif data.get("remove_attachment"):
        controls_services.rule_attachment_remove(rule=rule, by=request.user)


def _rule_or_404(request: HttpRequest, pk: int) -> Rule:
    return access.object_or_404(
        access.rules_visible_to(request.user).select_related("institution", "department"), pk=pk
    )


def _managed_rule(request: HttpRequest, pk: int) -> Rule:
    rule = _rule_or_404(request, pk)
    access.require(access.can_manage_rules(request.user, rule.institution, rule.department_id))
    return rule


@require_GET
def rule_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _rule_or_404(request, pk)
    controls = (
        access.controls_visible_to(request.user)
        .filter(rule=rule)
        .select_related("risk_point__level", "risk_point__department", "risk_point__position")
        .order_by("-risk_point__year", "risk_point_id", "id")[:200]
    )
    history = access.history_of(request.user, rule).select_related("actor")[:50]
    today = timezone.localdate()
    return render(
        request,
        "positions/rule_detail.html",
        {
            "rule": rule,
            "controls": controls,
            "history": history,
            "can_manage": access.can_manage_rules(request.user, rule.institution, rule.department_id),
            "revise_form": RuleReviseForm(initial={"on": today, "text": rule.text}),
            "repeal_form": RuleRepealForm(initial={"on": today}),
        },
    )


@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _managed_rule(request, pk)
    if rule.is_repealed:
        messages.error(request, _("A repealed rule stays as it was when it was repealed."))
        return redirect("rule_detail", pk=rule.pk)
    office = access.can_manage_rules(request.user, rule.institution)
    departments = _rule_departments(request.user, rule.institution)
    form = RuleForm(
        request.POST or None,
        request.FILES or None,
        instance=rule,
        departments=departments,
        department_required=not office,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                register_services.rule_update(
                    rule=Rule.objects.get(pk=rule.pk), by=request.user, **form.service_fields()
                )
                _attach(request, rule, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The rule's entry was corrected."))
            return redirect("rule_detail", pk=rule.pk)
    return render(request, "positions/rule_form.html", {"institution": rule.institution, "form": form, "rule": rule})


def _form_errors(form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@require_POST
def rule_revise(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _managed_rule(request, pk)
    form = RuleReviseForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("rule_detail", pk=rule.pk)
    data = dict(form.cleaned_data)
    attachment = data.pop("attachment", None)
    try:
        with transaction.atomic():
            _rule, flagged = register_services.rule_revise(rule=rule, by=request.user, **data)
            _attach(request, rule, {"attachment": attachment})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The revision was recorded; %(count)d risk points resting on the rule are flagged for review.")
            % {"count": flagged},
        )
    return redirect("rule_detail", pk=rule.pk)


@require_POST
def rule_repeal(request: HttpRequest, pk: int) -> HttpResponse:
    rule = _managed_rule(request, pk)
    form = RuleRepealForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("rule_detail", pk=rule.pk)
    try:
        _rule, flagged = register_services.rule_repeal(rule=rule, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("The rule was repealed; %(count)d risk points resting on it are flagged for review.")
            % {"count": flagged},
        )
    return redirect("rule_detail", pk=rule.pk)


def _attachment_response(rule: Rule) -> FileResponse:
    if not rule.has_attachment:
        raise Http404
    path = attachments.path_of(rule.attachment_key)
    if not path.is_file():
        raise Http404
    extension = path.suffix.lstrip(".")
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=attachments.download_name(rule.title, extension),
        content_type=rule.attachment_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def rule_attachment(request: HttpRequest, pk: int) -> FileResponse:
    """A rule's file, for those who may see the rule (404 for everyone else), named by its title.
    A read, like the rule's text on its page: not audited (no GET writes)."""
    return _attachment_response(_rule_or_404(request, pk))


# --- the three catalogues as documents ------------------------------------------------------


@require_POST
def catalogue_export(request: HttpRequest, code: str) -> HttpResponse:
    """POST (an export is recorded in the audit trail): 职权目录, 流程图 or 制度目录 in Excel or PDF."""
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    form = CatalogueExportForm(request.POST)
    back = "rule_list" if request.POST.get("kind") == "rules" else "power_list"
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect(back, code=institution.code)
    try:
        exported = document_services.catalogue_export(
            by=request.user,
            institution=institution,
            kind=form.cleaned_data["kind"],
            fmt=form.cleaned_data["fmt"],
            items=access.power_items_visible_to(request.user).filter(institution=institution),
            rules=access.rules_visible_to(request.user).filter(institution=institution),
        )
    except (ValidationError, DocumentUnavailable) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
        return redirect(back, code=institution.code)
    response = HttpResponse(exported.data, content_type=exported.content_type)
    response["Content-Disposition"] = content_disposition_header(True, exported.filename)
    return response


# --- the public disclosure page (向社会公开职权目录、权力运行流程图和裁量权基准) -------------------


def _disclosure_scope(institution: Institution) -> str:
    setting = Disclosure.objects.filter(institution=institution).values_list("scope", flat=True).first()
    return setting or Disclosure.Scope.STAFF


def _readable_disclosure(request: HttpRequest, code: str) -> Institution | HttpResponse:
    """The institution whose public page the reader may read; the login page for an anonymous
    reader of a staff-only page; 404 for anyone else and for an unknown code."""
    institution = Institution.objects.filter(code=code).first()
    if institution is None:
        raise Http404
    if not access.can_read_disclosure(request.user, institution, _disclosure_scope(institution)):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise Http404
    return institution


@login_not_required
@require_GET
def public_page(request: HttpRequest, code: str) -> HttpResponse:
    """The powers in force with their flows and discretion benchmarks: no risk points, no people,
    no retired powers. Open without login only when the institution says so."""
    institution = _readable_disclosure(request, code)
    if not isinstance(institution, Institution):
        return institution
    scope = _disclosure_scope(institution)
    steps = ProcessStep.objects.select_related("handling_position__department").order_by("order")
    items = list(
        PowerItem.objects.filter(institution=institution, retired_on__isnull=True)
        .select_related("category", "department")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .order_by("category__order", "category_id", "id")
    )
    powers = [{"item": item, "flow": flow_layout(list(item.steps.all()), [])} for item in items]
    can_configure = request.user.is_authenticated and access.can_manage_powers(request.user, institution)
    return render(
        request,
        "positions/public.html",
        {
            "institution": institution,
            "powers": powers,
            "rules": _published_rules(institution).order_by("effective_on", "id"),
            "scope": scope,
            "is_open": scope == Disclosure.Scope.PUBLIC,
            "can_configure": can_configure,
            "scope_form": DisclosureForm(initial={"scope": scope}) if can_configure else None,
            "today": timezone.localdate(),
        },
    )


def _published_rules(institution: Institution):
    """The rules the public page shows: those in force the institution chose to publish."""
    return Rule.objects.filter(institution=institution, published=True, repealed_on__isnull=True)


@login_not_required
@require_GET
def public_rule_attachment(request: HttpRequest, code: str, pk: int) -> HttpResponseBase:
    """A published rule's file, to whoever may read the public page (as the page itself)."""
    institution = _readable_disclosure(request, code)
    if not isinstance(institution, Institution):
        return institution
    rule = _published_rules(institution).filter(pk=pk).first()
    if rule is None:
        raise Http404
    return _attachment_response(rule)


@require_POST
def disclosure_scope(request: HttpRequest, code: str) -> HttpResponse:
    """The discipline office opens the page to everyone or keeps it for staff; audited."""
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    access.require(access.can_manage_powers(request.user, institution))
    form = DisclosureForm(request.POST)
    if form.is_valid():
        positions_services.disclosure_set(institution=institution, scope=form.cleaned_data["scope"], by=request.user)
        messages.success(request, _("Who may read the public disclosure page was saved."))
    else:
        messages.error(request, _form_errors(form))
    return redirect("public_page", code=institution.code)
