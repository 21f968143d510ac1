"""Pages of the anonymous 腐败接触率 surveys: the office's rounds, codes and results, and the
public answer page (no account). See docs/surveys.md.

The answer page learns the code from the form only (the printed link carries it after ``#``, which
browsers never send), writes no log line, no audit entry and nothing about the request. Unknown
codes are counted per address, in the cache only (a keyed hash of the address, expiring), so an
address that guesses gets "try later" (429); a good code counts nothing.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access as cycle_access
from assessments import surveys
from assessments.survey_documents import FORMATS, qr_svg, survey_document, survey_filename
from assessments.survey_models import RoundState
from assessments.web.survey_forms import SurveyAnswerForm, SurveyCodeForm, SurveyCodesForm, SurveyRoundForm
from config.security import client_ip
from risk_registry import access
from risk_registry.documents.pdf import DocumentUnavailable
from risk_registry.organisation.models import AuditAction
from risk_registry.organisation.services import audit_record
from risk_registry.selectors import current_year

LIST_LIMIT = 200  # the latest rounds first; a province's office filters by year (not yet needed)


def _round_or_404(request: HttpRequest, pk: int):
    return access.object_or_404(
        cycle_access.survey_rounds_visible_to(request.user).select_related("institution"), pk=pk
    )


@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    rounds = list(cycle_access.survey_rounds_visible_to(request.user).select_related("institution")[:LIST_LIMIT])
    results = surveys.survey_results_of(rounds)
    return render(
        request,
        "assessments/surveys/list.html",
        {
            "rounds": [(r, results[r.pk]) for r in rounds],
            "limit": LIST_LIMIT if len(rounds) == LIST_LIMIT else None,
            "can_open": cycle_access.cycle_launch_institutions(request.user).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def survey_open(request: HttpRequest) -> HttpResponse:
    institutions = cycle_access.cycle_launch_institutions(request.user)
    access.require(institutions.exists())
    form = SurveyRoundForm(
        request.POST or None,
        institutions=institutions,
        initial={
            "institution": institutions.order_by("path").first(),
            "year": current_year(),
            "min_group": settings.RISK_REGISTRY_SURVEY_MIN_GROUP,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            survey_round = surveys.survey_round_open(
                by=request.user,
                institution=data["institution"],
                year=data["year"],
                name=data["name"],
                behaviours=form.behaviours(),
                time_bucket=data["time_bucket"],
                min_group=data["min_group"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The survey round is open: issue its codes."))
            return redirect("survey_detail", pk=survey_round.pk)
    return render(request, "assessments/surveys/open.html", {"form": form})


@require_GET
def survey_detail(request: HttpRequest, pk: int) -> HttpResponse:
    survey_round = _round_or_404(request, pk)
    return render(
        request,
        "assessments/surveys/detail.html",
        {
            "round": survey_round,
            "results": surveys.survey_results(survey_round),
            "answers": survey_round.answers.count(),
            "unused": survey_round.codes.count(),
            "unprinted": survey_round.codes.filter(printed=False).count(),
            "can_manage": cycle_access.can_manage_survey_round(request.user, survey_round)
            and survey_round.state == RoundState.OPEN,
            "codes_form": SurveyCodesForm(),
        },
    )


@require_POST
def survey_codes_issue(request: HttpRequest, pk: int) -> HttpResponse:
    survey_round = _round_or_404(request, pk)
    access.require(cycle_access.can_manage_survey_round(request.user, survey_round))
    form = SurveyCodesForm(request.POST)
    if form.is_valid():
        try:
            codes = surveys.survey_codes_issue(by=request.user, survey_round=survey_round, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("%(count)s codes issued: print the sheet.") % {"count": len(codes)})
    else:
        messages.error(request, _("Choose the questionnaire, the post group and a number of codes from 1 to 2000."))
    return redirect("survey_detail", pk=survey_round.pk)


@require_POST
def survey_codes_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The sheet of the codes not printed yet, to print and cut (a POST: it marks them printed)."""
    survey_round = _round_or_404(request, pk)
    access.require(cycle_access.can_manage_survey_round(request.user, survey_round))
    codes = surveys.survey_codes_print(by=request.user, survey_round=survey_round)
    answer_url = request.build_absolute_uri("/s/")
    sheet = [
        {
            "code": surveys.code_display(c.code),
            "link": f"{answer_url}#{c.code}",
            "qr": qr_svg(f"{answer_url}#{c.code}"),
            "kind": c.get_questionnaire_display(),
            "group": c.get_group_display(),
        }
        for c in codes
    ]
    return render(
        request, "assessments/surveys/print.html", {"round": survey_round, "sheet": sheet, "answer_url": answer_url}
    )


@require_POST
def survey_close(request: HttpRequest, pk: int) -> HttpResponse:
    survey_round = _round_or_404(request, pk)
    access.require(cycle_access.can_manage_survey_round(request.user, survey_round))
    try:
        survey_round = surveys.survey_round_close(by=request.user, survey_round=survey_round)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The round is closed with %(count)s answers.") % {"count": survey_round.answer_count}
        )
    return redirect("survey_detail", pk=survey_round.pk)


@require_POST
def survey_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The round's results as Excel or PDF, with the page's suppression of small groups; audited."""
    if fmt not in FORMATS:
        raise Http404
    survey_round = _round_or_404(request, pk)
    try:
        data, groups = survey_document(survey_round, fmt)
    except DocumentUnavailable as error:
        messages.error(request, str(error))
        return redirect("survey_detail", pk=survey_round.pk)
    audit_record(
        actor=request.user,
        action=AuditAction.SURVEY_EXPORT,
        target=survey_round,
        institution=survey_round.institution,
        summary=f"{fmt} {groups}",
        changes={"format": fmt, "groups": groups},
    )
    response = HttpResponse(data, content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, survey_filename(survey_round, fmt))
    return response


# --- the public answer page ----------------------------------------------------------------------


def _throttle_key(request: HttpRequest) -> str:
    address = client_ip(request) or ""
    digest = hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
    return f"survey-unknown-code:{digest}"


def _throttled(request: HttpRequest) -> bool:
    return cache.get(_throttle_key(request), 0) >= settings.RISK_REGISTRY_SURVEY_FAILED_CODES


def _count_unknown_code(request: HttpRequest) -> None:
    key = _throttle_key(request)
    window = settings.RISK_REGISTRY_SURVEY_FAILED_WINDOW_MINUTES * 60
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)


def _public(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, f"assessments/surveys/{template}", context, status=status)


@login_not_required
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest) -> HttpResponse:
    """Step 1: the code (typed, or filled from the link's fragment by survey.js). Step 2: the
    questionnaire, the code carried in a hidden field. Step 3: thanks. No session, no account."""
    if request.method == "GET":
        return _public(request, "answer_code.html", {"form": SurveyCodeForm()})
    if _throttled(request):
        return _public(request, "answer_code.html", {"form": SurveyCodeForm(), "throttled": True}, status=429)
    code_form = SurveyCodeForm(request.POST)
    found = surveys.survey_code_find(code_form.data.get("code", "")) if code_form.is_valid() else None
    if found is None:
        _count_unknown_code(request)
        code_form.add_error(
            "code", _("This code is not valid: it may have been used already, or the survey has ended.")
        )
        return _public(request, "answer_code.html", {"form": code_form}, status=400)
    behaviours = found.round.behaviours[found.questionnaire]
    context = {"institution": found.round.institution, "questionnaire": found.get_questionnaire_display()}
    if "overall" not in request.POST and not any(key.startswith("b") and key[1:].isdigit() for key in request.POST):
        form = SurveyAnswerForm(initial={"code": found.code}, behaviours=behaviours)
        return _public(request, "answer_form.html", context | {"form": form})
    form = SurveyAnswerForm(request.POST, behaviours=behaviours)
    if not form.is_valid():
        return _public(request, "answer_form.html", context | {"form": form}, status=400)
    try:
        surveys.survey_answer_submit(code=found.code, answers=form.answers(), overall=form.overall())
    except surveys.CodeRefused:
        code_form = SurveyCodeForm()
        code_form.add_error(None, _("This code is not valid: it may have been used already, or the survey has ended."))
        return _public(request, "answer_code.html", {"form": code_form}, status=400)
    return _public(request, "answer_done.html", context)
