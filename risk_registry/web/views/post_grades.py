"""Post grades A/B/C (篇5): the discipline office's page, proposed against decided, confirm in bulk or
decide one by one with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from risk_registry import access, services
from risk_registry.models import PostGrade
from risk_registry.web.forms.post_grades import ConfirmForm, DecideForm


def _grades(institution, year: int):
    return (
        PostGrade.objects.filter(institution=institution, year=year)
        .select_related("position__department", "decided_by")
        .order_by("position__department_id", "position_id")
    )


@require_http_methods(["GET", "POST"])
def post_grade_list(request: HttpRequest, code: str, year: int) -> HttpResponse:
    institution = access.object_or_404(access.institutions_visible_to(request.user), code=code)
    access.require(access.can_decide_post_grades(request.user, institution))
    grades = list(_grades(institution, year))
    pending = [(g.pk, g.position.title) for g in grades if not g.is_decided]
    confirm = ConfirmForm(choices=pending)
    if request.method == "POST":
        if request.POST.get("action") == "propose":
            changed = services.post_grades_propose(by=request.user, institution=institution, year=year)
            messages.success(
                request,
                ngettext(
                    "%(count)d post's proposed grade was new or changed.",
                    "%(count)d posts' proposed grades were new or changed.",
                    changed,
                )
                % {"count": changed},
            )
            return redirect("post_grade_list", code=institution.code, year=year)
        confirm = ConfirmForm(request.POST, choices=pending)
        if confirm.is_valid():
            by_pk = {g.pk: g for g in grades}
            for pk in confirm.cleaned_data["grades"]:
                services.post_grade_decide(by=request.user, grade=by_pk[pk], decided=by_pk[pk].proposed)
            count = len(confirm.cleaned_data["grades"])
            messages.success(
                request,
                ngettext("%(count)d proposed grade confirmed.", "%(count)d proposed grades confirmed.", count)
                % {"count": count},
            )
            return redirect("post_grade_list", code=institution.code, year=year)
    rows = [
        (g, DecideForm(initial={"grade": g.grade or g.proposed, "reason": g.reason}, prefix=f"g{g.pk}")) for g in grades
    ]
    return render(
        request,
        "risk_registry/post_grades.html",
        {
            "institution": institution,
            "year": year,
            "rows": rows,
            "confirm": confirm,
            "pending": len(pending),
            "differs": sum(1 for g in grades if g.differs),
        },
    )


@require_POST
def post_grade_decide(request: HttpRequest, pk: int) -> HttpResponse:
    grade = access.object_or_404(access.post_grades_visible_to(request.user).select_related("institution"), pk=pk)
    access.require(access.can_decide_post_grades(request.user, grade.institution))
    form = DecideForm(request.POST, prefix=f"g{grade.pk}")
    if form.is_valid():
        try:
            services.post_grade_decide(
                by=request.user, grade=grade, decided=form.cleaned_data["grade"], reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            for text in error.messages:
                messages.error(request, text)
        else:
            messages.success(request, _("The post's grade was decided."))
    else:
        for errors in form.errors.values():
            for error_text in errors:
                messages.error(request, str(error_text))
    return redirect("post_grade_list", code=grade.institution.code, year=grade.year)
