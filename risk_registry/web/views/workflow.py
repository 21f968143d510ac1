"""Pages of the workflow: steps on a point, batch review and definition, the register (decisions,
notice, comments, issue, filing), filed versions and their differences, the inbox, the audit log."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from risk_registry import access, selectors
from risk_registry.models import (
    Decision,
    RiskPoint,
    RiskPointState,
)
from risk_registry.web.audit_targets import audit_targets
from risk_registry.web.forms.workflow import (
    BULK_LABELS,
    AnswerForm,
    AuditSearchForm,
    BulkForm,
    CommentForm,
    DecisionForm,
    DecisionRulesForm,
    NoticeForm,
    ProposalDecisionForm,
    ProposalForm,
    StepForm,
    SuperiorDecisionForm,
)
from risk_registry.web.pagination import keyset_page
from risk_registry.web.params import MAX_ID, BadParameter, id_param, int_param
from risk_registry.workflow import registers
from risk_registry.workflow import selectors as wf_selectors
from risk_registry.workflow.attachments import attachment_path
from risk_registry.workflow.quality import quality_report
from risk_registry.workflow.selectors import FLAGS, SORTS, STATE_ORDER, TableFilters
from risk_registry.workflow.transitions import (
    BY_NAME,
    REGISTER_STEPS,
    Change,
    WorkflowConflict,
    transition,
    transition_apply,
)


def _attempt(request: HttpRequest, action: Callable[[], object], success: str) -> bool:
    """Run a service; show its refusal in the user's language instead of an error page."""
    try:
        action()
    except (ValidationError, WorkflowConflict) as error:
        text = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
        return False
    messages.success(request, success)
    return True


def _refused(request: HttpRequest, form) -> None:
    """A form that failed validation says why (nothing was written)."""
    reasons = "; ".join(
        f"{form.fields[name].label}: {' '.join(errors)}" if name in form.fields else " ".join(errors)
        for name, errors in form.errors.items()
    )
    messages.error(request, _("Nothing was saved: %(reasons)s") % {"reasons": reasons})


def _register_or_404(request: HttpRequest, code: str, year: int, *, create: bool = True):
    """The register of a visible institution and year. A GET only reads (a register not yet
    written is shown unsaved, empty); a POST creates it when it acts on it."""
    institution = access.object_or_404(
        access.institutions_visible_to(request.user).select_related("grading_scheme", "parent"), code=code
    )
    if request.method == "GET" or not create:
        return registers.register_get(institution=institution, year=year)
    return registers.register_for(institution=institution, year=year)


# --- one point --------------------------------------------------------------------------------


@require_POST
def risk_point_step(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    point = access.object_or_404(access.risk_points_visible_to(request.user).select_related("institution"), pk=pk)
    if name not in BY_NAME or name in REGISTER_STEPS:
        raise Http404  # an unknown step; whole-register steps have their own pages
    step = transition(name)
    access.require(point.state in step.sources and step.may(request.user, point))
    form = StepForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    _attempt(
        request,
        lambda: transition_apply(
            by=request.user,
            name=name,
            changes=[Change(point_id=pk, version=data.get("version"))],
            reason=data.get("reason", ""),
        ),
        _("Done: %(step)s.") % {"step": step.label},
    )
    if not access.risk_points_visible_to(request.user).filter(pk=pk).exists():
        # Returned to its author as a never-issued draft, private to the author's side: the
        # register the point belongs to, not a 404 under the success message. A point reopened for
        # revision (修订中) stays in sight, so the office lands on it.
        return redirect("register_detail", point.institution.code, point.year)
    return redirect("risk_point_detail", pk=pk)


@require_POST
def risk_point_propose(request: HttpRequest, pk: int) -> HttpResponse:
    point = access.object_or_404(
        access.risk_points_visible_to(request.user).select_related("institution__grading_scheme", "level"), pk=pk
    )
    access.require(access.can_propose_level(request.user, point))
    form = ProposalForm(request.POST, scheme=point.institution.grading_scheme)
    if form.is_valid():
        _attempt(
            request,
            lambda: registers.level_proposal_create(by=request.user, risk_point=point, **form.cleaned_data),
            _("The proposal was sent to the leadership."),
        )
    else:
        messages.error(request, _("Fill in the likelihood, the severity and the reason."))
    return redirect("risk_point_detail", pk=pk)


@require_POST
def proposal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = access.object_or_404(access.level_proposals_visible_to(request.user), pk=pk)
    form = ProposalDecisionForm(request.POST)
    if form.is_valid():
        _attempt(
            request,
            lambda: registers.level_proposal_decide(by=request.user, proposal=proposal, **form.cleaned_data),
            _("The decision was recorded."),
        )
    else:
        _refused(request, form)
    return redirect("inbox")


# --- batch pages ------------------------------------------------------------------------------

BATCH_STEPS = {"review": RiskPointState.SUBMITTED, "define": RiskPointState.REVIEWED}


@require_http_methods(["GET", "POST"])
def register_batch(request: HttpRequest, code: str, year: int, name: str) -> HttpResponse:
    """A department head reviews a department's submitted points on one page; the discipline
    office defines the levels of a department at once, with per-point likelihood and severity."""
    if name not in BATCH_STEPS:
        raise Http404
    register = _register_or_404(request, code, year, create=False)  # the points move, not the register
    step = transition(name)
    points = wf_selectors.batch_points(user=request.user, register=register, state=BATCH_STEPS[name], step=step)
    department = id_param(request.GET.get("department") or request.POST.get("department"), name=_("The department"))
    if department:
        points = [p for p in points if p.department_id == department]
    if request.method == "POST":
        chosen = {id_param(v, name=_("The risk point")) for v in request.POST.getlist("point")}
        numbers = {
            key: int_param(request.POST.get(key), name=key, minimum=0, maximum=MAX_ID)
            for key in request.POST
            if key.startswith(wf_selectors.BATCH_NUMBERS)
        }
        reasons = {key: request.POST.get(key, "") for key in request.POST if key.startswith("reason_")}
        changes = [
            wf_selectors.batch_change(numbers, reasons, p, define=name == "define") for p in points if p.pk in chosen
        ]
        if _attempt(
            request,
            lambda: transition_apply(by=request.user, name=name, changes=changes),
            _("%(n)d risk points: %(step)s.") % {"n": len(changes), "step": step.label},
        ):
            return redirect("register_detail", code=code, year=year)
    return render(
        request,
        "risk_registry/register_batch.html",
        {
            "register": register,
            "step": step,
            "points": points,
            "quality": quality_report(points=RiskPoint.objects.filter(pk__in=[p.pk for p in points])),
            "scheme": register.institution.grading_scheme,
        },
    )


# --- the register -----------------------------------------------------------------------------


TABLE_KEYS = ("department", "position", "state", "level", "flag", "sort", "page")


def _table_filters(query) -> TableFilters:
    """The register table's filters from the address; an unknown value is a 400 that says which."""
    state, flag, sort = (query.get(key, "") for key in ("state", "flag", "sort"))
    for value, known in ((state, STATE_ORDER), (flag, FLAGS), (sort, SORTS)):
        if value and value not in known:
            raise BadParameter(_("This filter value is not known: %(value)s") % {"value": value[:40]})
    return TableFilters(
        department=id_param(query.get("department"), name=_("The department")),
        position=id_param(query.get("position"), name=_("The position")),
        state=state,
        level=id_param(query.get("level"), name=_("The level")),
        flag=flag,
        sort=sort,
        page=int_param(query.get("page"), name=_("The page"), minimum=1, maximum=MAX_ID, default=1) or 1,
    )


def _table_query(query) -> str:
    """The table's filters as a query string (only the known keys, non-empty)."""
    return urlencode([(key, query[key]) for key in TABLE_KEYS if query.get(key)])


def _register_page(request: HttpRequest, register, **forms_bound) -> HttpResponse:
    context = wf_selectors.register_page(user=request.user, register=register)
    filters = _table_filters(request.GET)
    context["table"] = wf_selectors.register_table(
        user=request.user, register=register, filters=filters, total=context["total"]
    )
    context["filters"] = filters
    context["table_params"] = [(key, request.GET[key]) for key in TABLE_KEYS if request.GET.get(key)]
    others = urlencode([(key, value) for key, value in context["table_params"] if key not in ("sort", "page")])
    context["sort_base"] = f"{others}&" if others else ""
    filtered = urlencode([(key, value) for key, value in context["table_params"] if key != "page"])
    context["page_base"] = f"{filtered}&" if filtered else ""
    context["n"] = {value: n for value, _label, n in context["by_state"]}
    scheme = register.institution.grading_scheme
    context["bulk_form"] = BulkForm(scheme=scheme)
    rules = context["rules"]
    context.update(
        decision_form=DecisionForm(initial={"kind": Decision.Kind.APPROVAL}),
        appraisal_form=DecisionForm(
            initial={"kind": Decision.Kind.APPRAISAL, "meeting_kind": Decision.MeetingKind.APPRAISAL}
        ),
        notice_form=NoticeForm(),
        rules_form=DecisionRulesForm(
            initial={
                "team_size": rules.team_size,
                "quorum": rules.quorum,
                "majority": rules.majority,
                "superior_approval": rules.superior_approval,
                "measures_after_approval": rules.measures_after_approval,
            }
        ),
        superior_form=SuperiorDecisionForm(),
        comment_form=CommentForm(),
        answer_form=AnswerForm(),
    )
    context.update(forms_bound)
    return render(request, "risk_registry/register_detail.html", context)


@require_GET
def register_detail(request: HttpRequest, code: str, year: int) -> HttpResponse:
    return _register_page(request, _register_or_404(request, code, year))


@require_POST
def register_bulk(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """A bulk action from the register table on the selected rows: review, return with a reason,
    define (a level other than the proposed one with its reason), or propose a higher level. All
    or nothing, through the workflow's one service, each point checked against the version the
    user saw and audited on its own."""
    register = _register_or_404(request, code, year, create=False)  # the points move, not the register
    back = reverse("register_detail", args=[code, year])
    query = _table_query(request.POST)
    if query:
        back = f"{back}?{query}"
    form = BulkForm(request.POST, scheme=register.institution.grading_scheme)
    if not form.is_valid():
        _refused(request, form)
        return redirect(back)
    data = form.cleaned_data
    action = data["action"]
    if data["all"]:
        # Every matching point of the register on every page that this step applies to: shown with
        # its count to confirm, and written only if the set (ids and versions) is still the one
        # confirmed; the service then checks each point under its row lock as for selected rows.
        filters = _table_filters(request.POST)
        chosen = wf_selectors.bulk_points(user=request.user, register=register, filters=filters, action=action)
        if not chosen:
            messages.error(request, _("None of the matching risk points can take this step."))
            return redirect(back)
        digest = wf_selectors.selection_digest(chosen)
        if not _confirmed(request) or request.POST.get("digest") != digest:
            if _confirmed(request):
                messages.warning(request, _("The matching risk points changed since you looked: confirm them again."))
            label = str(dict(BULK_LABELS)[action])
            sentence = ngettext(
                "This %(n)d risk point of the register will be changed: %(step)s.",
                "These %(n)d risk points of the register will be changed: %(step)s.",
                len(chosen),
            ) % {"n": len(chosen), "step": label}
            return _confirmation(
                request, register, title=label, sentence=sentence, points=chosen[:1000], carry={"digest": digest}
            )
        ids = [p.pk for p in chosen]
        versions: dict[int, int | None] = {p.pk: p.version for p in chosen}
    else:
        ids = data["point"]
        selected = list(
            access.risk_points_visible_to(request.user)
            .filter(pk__in=ids, institution_id=register.institution_id, year=register.year)
            .select_related("institution")
        )
        if {p.pk for p in selected} != set(ids):
            raise Http404  # a point outside the user's scope, or of another register
        # The right first (403 for a point the user may see but not move), then the service checks
        # the state and the version under the rows' locks.
        if action == "propose":
            access.require(all(access.can_propose_level(request.user, p) for p in selected))
        else:
            access.require(all(transition(action).may(request.user, p) for p in selected))
        versions = {
            pk: int_param(request.POST.get(f"version_{pk}"), name=_("The version"), minimum=0, maximum=MAX_ID)
            for pk in ids
        }
    if action == "propose":
        _attempt(
            request,
            lambda: registers.level_proposals_create(
                by=request.user,
                register=register,
                versions=versions,
                likelihood=data["likelihood"],
                severity=data["severity"],
                reason=data["reason"],
            ),
            _("%(n)d proposals were sent to the leadership.") % {"n": len(ids)},
        )
        return redirect(back)
    step = transition(action)
    reason = data["reason"]
    changes = [
        Change(
            point_id=pk,
            version=versions[pk],
            likelihood=data["likelihood"] if action == "define" else None,
            severity=data["severity"] if action == "define" else None,
            reason=reason if action == "define" else "",
        )
        for pk in ids
    ]
    _attempt(
        request,
        lambda: transition_apply(
            by=request.user, name=action, changes=changes, reason=reason if step.is_return else ""
        ),
        _("%(n)d risk points: %(step)s.") % {"n": len(changes), "step": step.label},
    )
    return redirect(back)


def _confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirmed") == "1"


def _confirmation(
    request: HttpRequest,
    register,
    *,
    title: str,
    sentence: str,
    points,
    attachments: bool = False,
    carry: dict[str, str] | None = None,
) -> HttpResponse:
    """The step between the click and the write: how many points it will change, which ones, and
    the same form again with ``confirmed`` (and ``carry``, what the page computed). Writes nothing."""
    carry = carry or {}
    carried = [
        (key, value)
        for key in request.POST
        if key not in ("csrfmiddlewaretoken", "confirmed", *carry)
        for value in request.POST.getlist(key)
    ]
    carried += list(carry.items())
    return render(
        request,
        "risk_registry/register_confirm.html",
        {
            "register": register,
            "institution": register.institution,
            "title": title,
            "sentence": sentence,
            "points": points,
            "carried": carried,
            "action": request.path,
            "attachments": attachments,  # the approval's minutes are attached here, with the record
        },
    )


@require_POST
def register_decide(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """Record a meeting's decision. A refused record (incomplete, votes that do not add up,
    nothing waiting) is shown again with its errors: nothing was written."""
    appraisal = request.POST.get("kind") == Decision.Kind.APPRAISAL
    register = _register_or_404(request, code, year, create=appraisal or _confirmed(request))
    access.require(
        access.is_discipline_office_for(request.user, register.institution)
        if appraisal
        else access.is_leadership_of(request.user, register.institution)
    )
    form = DecisionForm(request.POST)
    bound = "appraisal_form" if appraisal else "decision_form"
    if form.is_valid() and not appraisal and not _confirmed(request):
        points = wf_selectors.confirmation_points(
            user=request.user,
            register=register,
            states=(RiskPointState.DEFINED, RiskPointState.APPRAISED),
            point_ids=form.cleaned_data["points"],
        )
        if points:
            return _confirmation(
                request,
                register,
                title=_("Leadership approval (审定)"),
                sentence=ngettext(
                    "This %(n)d risk point will be approved if the vote passes under the institution's rules.",
                    "These %(n)d risk points will be approved if the vote passes under the institution's rules.",
                    len(points),
                )
                % {"n": len(points)},
                points=points,
                attachments=True,
            )
    if form.is_valid():
        data = form.cleaned_data
        if register.pk is None:
            register = registers.register_for(institution=register.institution, year=register.year)
        try:
            record = registers.register_decide(
                by=request.user,
                register=register,
                kind=data["kind"],
                meeting=data["meeting"],
                meeting_kind=data["meeting_kind"],
                held_on=data["held_on"],
                participants=data["participants"],
                decision=data["decision"],
                vote=registers.Vote(
                    present=data["present"],
                    votes_for=data["votes_for"],
                    against=data["votes_against"],
                    abstaining=data["votes_abstaining"],
                ),
                point_ids=data["points"] or None,
                attachments=request.FILES.getlist("attachments"),
            )
        except (ValidationError, WorkflowConflict) as error:
            form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))
        else:
            if record.passed:
                messages.success(request, _("The decision was recorded: it passed."))
            else:
                messages.warning(request, _("The decision was recorded as not passed: no risk point changed."))
            return redirect("register_detail", code=code, year=year)
    return _register_page(request, register, **{bound: form, "decision_errors": form})


@require_POST
def register_superior(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The superior office approves (审议确定) the approved grades before the notice, where the
    institution's rules ask for it. A refused record is said and writes nothing."""
    register = _register_or_404(request, code, year, create=False)
    access.require(access.is_superior_office_for(request.user, register.institution))
    form = SuperiorDecisionForm(request.POST)
    if not form.is_valid():
        _refused(request, form)
        return redirect("register_detail", code=code, year=year)
    if register.pk is None:  # approved points exist before anyone saved the register
        register = registers.register_for(institution=register.institution, year=year)
    data = form.cleaned_data
    versions = {
        pk: int_param(request.POST.get(f"version_{pk}"), name=_("The version"), minimum=0, maximum=MAX_ID) or 0
        for pk in data["points"]
    }
    passed = data["outcome"] == "passed"
    _attempt(
        request,
        lambda: registers.register_superior_decide(
            by=request.user,
            register=register,
            meeting=data["meeting"],
            held_on=data["held_on"],
            decision=data["decision"],
            passed=passed,
            point_versions=versions,
            attachments=request.FILES.getlist("attachments"),
        ),
        _("The superior office's approval was recorded.")
        if passed
        else _("Recorded as not approved by the superior office: no risk point changed."),
    )
    return redirect("register_detail", code=code, year=year)


@require_POST
def register_publish(request: HttpRequest, code: str, year: int) -> HttpResponse:
    register = _register_or_404(request, code, year, create=_confirmed(request))
    access.require(access.is_discipline_office_for(request.user, register.institution))
    form = NoticeForm(request.POST)
    points = wf_selectors.confirmation_points(user=request.user, register=register, states=(RiskPointState.APPROVED,))
    if form.is_valid() and not _confirmed(request) and (points or registers.notice_is_open(register)):
        days = form.cleaned_data["days"]
        sentence = ngettext(
            "This %(n)d risk point will go into public notice for %(days)d days.",
            "These %(n)d risk points will go into public notice for %(days)d days.",
            len(points),
        ) % {"n": len(points), "days": days}
        return _confirmation(request, register, title=_("Public notice (公示)"), sentence=sentence, points=points)
    if form.is_valid():
        _attempt(
            request,
            lambda: registers.notice_publish(by=request.user, register=register, **form.cleaned_data),
            _("The register is in public notice."),
        )
    else:
        messages.error(request, _("Check the notice period: %(errors)s") % {"errors": form.errors.as_text()})
    return redirect("register_detail", code=code, year=year)


@require_POST
def register_rules(request: HttpRequest, code: str, year: int) -> HttpResponse:
    """The discipline office sets how the institution's meetings decide."""
    register = _register_or_404(request, code, year)
    access.require(access.is_discipline_office_for(request.user, register.institution))
    form = DecisionRulesForm(request.POST)
    if form.is_valid():
        _attempt(
            request,
            lambda: registers.decision_rules_update(
                by=request.user, institution=register.institution, **form.cleaned_data
            ),
            _("The decision rules were saved."),
        )
    else:
        messages.error(request, _("Check the decision rules: %(errors)s") % {"errors": form.errors.as_text()})
    return redirect("register_detail", code=code, year=year)


@require_POST
def register_comment(request: HttpRequest, code: str, year: int) -> HttpResponse:
    register = _register_or_404(request, code, year)
    form = CommentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        point = None
        if data["risk_point"]:
            point = access.risk_points_visible_to(request.user).filter(pk=data["risk_point"]).first()
            if point is None:
                messages.error(request, _("There is no such risk point in this register."))
                return redirect("register_detail", code=code, year=year)
        _attempt(
            request,
            lambda: registers.notice_comment_add(
                by=request.user, register=register, text=data["text"], risk_point=point, anonymous=data["anonymous"]
            ),
            _("Thank you: your comment was recorded."),
        )
    else:
        _refused(request, form)
    return redirect("register_detail", code=code, year=year)


@require_POST
def comment_answer(request: HttpRequest, pk: int) -> HttpResponse:
    comment = access.object_or_404(
        access.notice_comments_visible_to(request.user).select_related("register__institution"), pk=pk
    )
    form = AnswerForm(request.POST)
    if form.is_valid():
        _attempt(
            request,
            lambda: registers.notice_comment_answer(by=request.user, comment=comment, **form.cleaned_data),
            _("The answer was recorded."),
        )
    else:
        _refused(request, form)
    return redirect("register_detail", code=comment.register.institution.code, year=comment.register.year)


@require_POST
def register_issue(request: HttpRequest, code: str, year: int) -> HttpResponse:
    register = _register_or_404(request, code, year, create=_confirmed(request))
    access.require(access.is_discipline_office_for(request.user, register.institution))
    ended = register.notice_ends_on is not None and register.notice_ends_on < timezone.localdate()
    if ended and not _confirmed(request):
        points = wf_selectors.confirmation_points(
            user=request.user, register=register, states=(RiskPointState.IN_NOTICE,)
        )
        if points:
            sentence = ngettext(
                "This %(n)d risk point will be issued.", "These %(n)d risk points will be issued.", len(points)
            ) % {"n": len(points)}
            return _confirmation(request, register, title=_("Issue the register"), sentence=sentence, points=points)
    if register.pk is None:
        messages.error(request, _("Nothing waits to be issued in this register."))
        return redirect("register_detail", code=code, year=year)
    _attempt(
        request, lambda: registers.register_issue(by=request.user, register=register), _("The register was issued.")
    )
    return redirect("register_detail", code=code, year=year)


@require_POST
def register_file(request: HttpRequest, code: str, year: int) -> HttpResponse:
    register = _register_or_404(request, code, year, create=_confirmed(request))
    access.require(access.is_principal_of(request.user, register.institution))
    if not _confirmed(request):
        points = wf_selectors.confirmation_points(user=request.user, register=register, states=(RiskPointState.ISSUED,))
        if points:
            sentence = ngettext(
                "This %(n)d risk point will be signed and filed with the superior office; the filed version "
                "can never be changed.",
                "These %(n)d risk points will be signed and filed with the superior office; the filed version "
                "can never be changed.",
                len(points),
            ) % {"n": len(points)}
            return _confirmation(request, register, title=_("Sign and file"), sentence=sentence, points=points)
    if register.pk is None:
        messages.error(request, _("Only an issued register can be filed."))
        return redirect("register_detail", code=code, year=year)
    _attempt(
        request,
        lambda: registers.register_file(by=request.user, register=register),
        _("Signed and filed with the superior office."),
    )
    return redirect("register_detail", code=code, year=year)


@require_GET
def decision_attachment(request: HttpRequest, pk: int) -> FileResponse:
    """A decision's file, to those who may see the decision (else 404), under its own (Chinese)
    name. Reading writes nothing."""
    attachment = access.object_or_404(access.decision_attachments_visible_to(request.user), pk=pk)
    try:
        path = attachment_path(attachment)
    except ValueError:  # a key the store did not write
        raise Http404 from None
    if not path.is_file():
        raise Http404
    response = FileResponse(path.open("rb"), as_attachment=True, filename=attachment.name)
    response["Content-Type"] = attachment.content_type
    return response


# --- filed versions ---------------------------------------------------------------------------


@require_GET
def filings(request: HttpRequest) -> HttpResponse:
    # The list never reads the frozen snapshots (megabytes each at a province's scale).
    versions = (
        access.versions_visible_to(request.user)
        .select_related("register__institution", "signed_by", "filed_with")
        .defer("snapshot")
    )
    page = keyset_page(versions, after=request.GET.get("after"))
    return render(request, "risk_registry/filings.html", {"page": page})


@require_GET
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visible = access.versions_visible_to(request.user)
    version = access.object_or_404(visible.select_related("register__institution", "signed_by"), pk=pk)
    others = visible.filter(register=version.register).exclude(pk=pk).only("id", "number")
    against = id_param(request.GET.get("against"), name=_("The version to compare with"))
    diff = None
    if against:
        other = access.object_or_404(visible.filter(register=version.register), pk=against)
        older, newer = sorted((other, version), key=lambda v: v.number)
        diff = {"older": older, "newer": newer, **registers.version_diff_explained(older, newer)}
    return render(request, "risk_registry/version_detail.html", {"version": version, "others": others, "diff": diff})


# --- inbox and audit log ----------------------------------------------------------------------


@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    scope = access.scope_of(request.user)
    access.require(bool(scope.discipline_paths or "superior" in scope.roles))
    form = AuditSearchForm(request.GET or None)
    entries = selectors.audit_entries(user=request.user, form=form)
    page = keyset_page(entries, after=request.GET.get("after"))
    query = request.GET.copy()
    query.pop("after", None)
    targets = audit_targets(request.user, page.rows)
    rows = [(entry, targets[entry.pk]) for entry in page.rows]
    return render(
        request,
        "risk_registry/audit_log.html",
        {"form": form, "page": page, "rows": rows, "query": query.urlencode()},
    )
