"""What documents read: the points of a register or a list, filed versions, always through access."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

from risk_registry import access, selectors
from risk_registry.filters import RiskPointFilterForm
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.models.register import RegisterVersion
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
    if not form.is_valid():  # the list drops a bad filter; an export must not widen to every point
        raise ValidationError(
            _("The export's filters are not valid: %(errors)s")
            % {
                "errors": "; ".join(
                    f"{form.fields[name].label}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items()
                )
            }
        )
    filters = form.filters()
    return selectors.risk_points_for_list(user=user, filters=filters), filters.institution, filters.year


def register_points_for_filing(*, institution: Institution, year: int) -> QuerySet[RiskPoint]:
    """For the command line and the archive command (an operator, no user): the register of an
    institution and year without drafts, which stay private to their authors until submitted."""
    return RiskPoint.objects.filter(institution=institution, year=year).exclude(state=RiskPointState.DRAFT)


def filed_versions_visible_to(user) -> QuerySet[RegisterVersion]:
    """Filed versions of the institutions the user may see (the same rule as the filings pages)."""
    return RegisterVersion.objects.filter(register__institution__in=access.institutions_visible_to(user))


def can_import_into(user, institution: Institution) -> bool:
    """Import writes points for the whole institution: only its discipline office (纪检) may."""
    return access.is_discipline_office_for(user, institution)
