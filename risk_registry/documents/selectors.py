"""What documents read: the points of a register or a list, filed versions, always through access."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import QueryDict

from risk_registry import access, selectors
from risk_registry.documents.models import ExportJob
from risk_registry.filters import RiskPointFilterForm
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import Institution


def points_for_export(
    *, user, params: dict[str, list[str]]
) -> tuple[QuerySet[RiskPoint], Institution | None, int | None]:
    """The points of the risk-point list for ``params`` (the list's query string, so the filters
    are kept): the user's visible points only. Returns (points, institution, year)."""
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, values)
    institutions = access.institutions_visible_to(user)
    code = query.get("institution")
    if code:  # the list drops an unknown code silently; an export of another unit's register is 404
        access.object_or_404(institutions, code=code)
    form = RiskPointFilterForm(query, institutions=institutions)
    filters = form.filters()
    return selectors.risk_points_for_list(user=user, filters=filters), filters.institution, filters.year


def register_points_for_filing(*, institution: Institution, year: int) -> QuerySet[RiskPoint]:
    """For the command line and the archive command (an operator, no user): the register of an
    institution and year without drafts, which stay private to their authors until submitted."""
    return RiskPoint.objects.filter(institution=institution, year=year).exclude(state=RiskPointState.DRAFT)


def export_jobs_of(user) -> QuerySet[ExportJob]:
    """The user's own export jobs: a job and its file belong to the one who asked for it."""
    if not getattr(user, "is_authenticated", False):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(owner_id=user.pk)


def can_import_into(user, institution: Institution) -> bool:
    """Import writes points for the whole institution: only its discipline office (纪检) may."""
    return access.is_discipline_office_for(user, institution)
