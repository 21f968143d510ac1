"""Pages of the moral-risk rating of leadership posts: the office's rounds, invitations and scores,
and the rater's form. Scores are read by the discipline offices only (assessments/access.py);
the rated never see who rated them, and the office sees ratings only as tiers' means."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments import access as cycle_access
from assessments import post_risk, rating
from assessments.survey_documents import FORMATS, rating_document, rating_filename
from assessments.survey_models import RoundState
from assessments.web.survey_forms import RatingForm, RatingInviteForm, RatingRoundForm
from risk_registry import access
from risk_registry.documents.pdf import DocumentUnavailable
from risk_registry.organisation.models import AuditAction
from risk_registry.organisation.services import audit_record
from risk_registry.selectors import current_year
from risk_registry.web.params import int_param, year_param


def _round_or_404(request: HttpRequest, pk: int):
    return access.object_or_404(
        cycle_access.rating_rounds_visible_to(request.user).select_related("institution"), pk=pk
    )


@require_GET
def rating_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "assessments/ratings/list.html",
        {
            "rounds": cycle_access.rating_rounds_visible_to(request.user).select_related("institution"),
            "invitations": cycle_access.rating_invitations_of(request.user)
            .filter(done=False)
            .select_related("round", "position"),
            "can_open": cycle_access.cycle_launch_institutions(request.user).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def rating_open(request: HttpRequest) -> HttpResponse:
    institutions = cycle_access.cycle_launch_institutions(request.user)
    access.require(institutions.exists())
    form = RatingRoundForm(
        request.POST or None,
        institutions=institutions,
        initial={"institution": institutions.order_by("path").first(), "year": current_year()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            rating_round = rating.rating_round_open(
                by=request.user,
                institution=data["institution"],
                year=data["year"],
                name=data["name"],
                positions=data["positions"],
                indicators=data["indicators"],
                tier_weights=data["tier_weights"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The rating round is open: invite its raters."))
            return redirect("rating_detail", pk=rating_round.pk)
    return render(request, "assessments/ratings/open.html", {"form": form})


def _invite_form(rating_round, data=None) -> RatingInviteForm:
    return RatingInviteForm(
        data,
        positions=rating_round.positions.order_by("title"),
        raters=rating.possible_raters(rating_round.institution),
    )


@require_GET
def rating_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rating_round = _round_or_404(request, pk)
    can_manage = cycle_access.can_manage_rating_round(request.user, rating_round)
    invitations = rating_round.invitations.all()
    return render(
        request,
        "assessments/ratings/detail.html",
        {
            "round": rating_round,
            "scores": rating.post_scores(rating_round),
            "invited": invitations.count(),
            "done": invitations.filter(done=True).count(),
            "can_manage": can_manage and rating_round.state == RoundState.OPEN,
            "invite_form": _invite_form(rating_round) if can_manage else None,
        },
    )


@require_POST
def rating_invite(request: HttpRequest, pk: int) -> HttpResponse:
    rating_round = _round_or_404(request, pk)
    access.require(cycle_access.can_manage_rating_round(request.user, rating_round))
    form = _invite_form(rating_round, request.POST)
    if form.is_valid():
        try:
            rating.rating_invite(by=request.user, rating_round=rating_round, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The rater is invited."))
    else:
        messages.error(request, _("Choose a post, a rater and a relation tier."))
    return redirect("rating_detail", pk=rating_round.pk)


@require_POST
def rating_close(request: HttpRequest, pk: int) -> HttpResponse:
    rating_round = _round_or_404(request, pk)
    access.require(cycle_access.can_manage_rating_round(request.user, rating_round))
    try:
        rating_round = rating.rating_round_close(by=request.user, rating_round=rating_round)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("The round is closed with %(count)s ratings.") % {"count": rating_round.response_count}
        )
    return redirect("rating_detail", pk=rating_round.pk)


@require_POST
def rating_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The round's scores as Excel or PDF (tiers' means and counts, never a rater); audited."""
    if fmt not in FORMATS:
        raise Http404
    rating_round = _round_or_404(request, pk)
    try:
        data, posts = rating_document(rating_round, fmt)
    except DocumentUnavailable as error:
        messages.error(request, str(error))
        return redirect("rating_detail", pk=rating_round.pk)
    audit_record(
        actor=request.user,
        action=AuditAction.RATING_EXPORT,
        target=rating_round,
        institution=rating_round.institution,
        summary=f"{fmt} {posts}",
        changes={"format": fmt, "posts": posts},
    )
    response = HttpResponse(data, content_type=FORMATS[fmt])
    response["Content-Disposition"] = content_disposition_header(True, rating_filename(rating_round, fmt))
    return response


@require_http_methods(["GET", "POST"])
def rating_rate(request: HttpRequest, pk: int) -> HttpResponse:
    """The rater's own form: 404 for anyone else's invitation, and once it is done."""
    invitation = access.object_or_404(
        cycle_access.rating_invitations_of(request.user).filter(done=False).select_related("round", "position"),
        pk=pk,
    )
    form = RatingForm(request.POST or None, indicators=invitation.round.factors)
    if request.method == "POST" and form.is_valid():
        try:
            rating.rating_submit(rater=request.user, invitation_id=invitation.pk, grades=form.grades())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your rating is recorded. It keeps your relation tier, not your name."))
            return redirect("rating_list")
    return render(request, "assessments/ratings/rate.html", {"invitation": invitation, "form": form})


PROFILES_PAGE = 50  # posts' rows at once, as every list's page


@require_GET
def post_profiles(request: HttpRequest, code: str) -> HttpResponse:
    """The institution's posts with their three measures and the combined suggestion."""
    institution = access.object_or_404(cycle_access.measured_institutions_visible_to(request.user), code=code)
    year = year_param(request.GET.get("year")) or current_year()
    raw = {
        measure: int_param(request.GET.get(f"w_{measure}"), name=f"w_{measure}", minimum=0, maximum=10)
        for measure in post_risk.MEASURES
    }
    weights = post_risk.profile_weights({m: w for m, w in raw.items() if w is not None})
    # every post measured (the groups' and the levels' figures need them all), 50 drawn a page: a
    # bureau of 1,100 posts drew them all (0.2 s)
    page = Paginator(post_risk.post_profiles(institution, year, weights), PROFILES_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "assessments/ratings/profiles.html",
        {
            "institution": institution,
            "year": year,
            "weights": weights,
            "profiles": page.object_list,
            "page": page if page.paginator.num_pages > 1 else None,
            "query": query.urlencode(),
        },
    )
