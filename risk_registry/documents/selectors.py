"""What documents read: the points of a register or a list, filed versions, always through access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from risk_registry import access, selectors
from risk_registry.documents.models import ExportJob
from risk_registry.filters import RiskPointFilterForm
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import Institution, SchedulerHeartbeat
from risk_registry.organisation.tasks import HEARTBEAT_NAME
from risk_registry.selectors import RiskPointFilters

WORKING_COPY = "working"  # ``copy=working`` asks for a working copy even of a whole register


@dataclass(frozen=True)
class ExportPoints:
    points: QuerySet[RiskPoint]
    institution: Institution | None
    year: int | None
    official: bool  # the register's official form; else a working copy (工作稿)


def points_for_export(*, user, params: dict[str, list[str]]) -> ExportPoints:
    """The points an export of the risk-point list holds, for ``params`` (the list's query string).

    A register — an institution and a year and no other filter — is exported as the official form:
    its approved (or published) points, identical for every reader (``access.official_register_for``).
    Anything else, or a reader who may not read the whole register, gets a working copy of the
    user's visible points with the filters kept."""
    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, values)
    working_asked = query.get("copy") == WORKING_COPY
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
    institution, year = filters.institution, filters.year
    is_register = (
        institution is not None and year is not None and filters == RiskPointFilters(institution=institution, year=year)
    )
    if is_register and not working_asked and institution is not None and year is not None:
        official = access.official_register_for(user, institution=institution, year=year)
        if official is not None:
            return ExportPoints(official, filters.institution, filters.year, official=True)
    points = selectors.risk_points_for_list(user=user, filters=filters)
    return ExportPoints(points, filters.institution, filters.year, official=False)


def register_points_for_filing(*, institution: Institution, year: int) -> QuerySet[RiskPoint]:
    """For the command line and the archive command (an operator, no user): the official register
    of an institution and year, the same points every reader's official export holds."""
    points, _published = access.register_official_points(institution=institution, year=year)
    return points


def register_points_for_working_copy(*, institution: Institution, year: int) -> QuerySet[RiskPoint]:
    """For the command line's working copy: every point of the year except drafts, which stay
    private to their authors until submitted."""
    return RiskPoint.objects.filter(institution=institution, year=year).exclude(state=RiskPointState.DRAFT)


def export_jobs_of(user) -> QuerySet[ExportJob]:
    """The user's own export jobs: a job and its file belong to the one who asked for it."""
    if not getattr(user, "is_authenticated", False):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(owner_id=user.pk).exclude(kind__in=ExportJob.IMPORT_KINDS)


def import_jobs_of(user, institution: Institution) -> QuerySet[ExportJob]:
    """The import jobs the user started for the institution, while they may import into it: the
    uploaded file and its preview are the uploader's alone."""
    if not getattr(user, "is_authenticated", False) or not can_import_into(user, institution):
        return ExportJob.objects.none()
    return ExportJob.objects.filter(owner_id=user.pk, institution=institution, kind__in=ExportJob.IMPORT_KINDS)


def can_import_into(user, institution: Institution) -> bool:
    """Import writes points for the whole institution: only its discipline office (纪检) may."""
    return access.is_discipline_office_for(user, institution)


def workers_silent() -> bool:
    """Whether no worker has run the scheduler heartbeat for RISK_REGISTRY_WORKERS_SILENT_MINUTES
    (beat sends it every minute): then no worker, no beat or no broker is running, and a waiting
    export will not move until they are back. One indexed read, cheap enough for every poll."""
    last = SchedulerHeartbeat.objects.filter(name=HEARTBEAT_NAME).values_list("last_run_at", flat=True).first()
    limit = timedelta(minutes=settings.RISK_REGISTRY_WORKERS_SILENT_MINUTES)
    return last is None or timezone.now() - last > limit
