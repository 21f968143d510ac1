"""Read-side queries for pages: always start from the access module's scoped querysets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from positions.models import Holding
from risk_registry import access
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Institution


def current_year() -> int:
    """The register year pages open on: the calendar year in the site's time zone (Asia/Shanghai).

    The one place that decides it: the risk list, the position page, the home page and the
    launch form all ask here, so they never disagree about which year is current.
    """
    return timezone.localdate().year


@dataclass(frozen=True)
class RiskPointFilters:
    institution: Institution | None = None
    department_id: int | None = None
    risk_type_id: int | None = None
    level_rank: int | None = None
    state: str = ""
    year: int | None = None
    text: str = ""
    position_id: int | None = None


def risk_points_for_list(*, user, filters: RiskPointFilters) -> QuerySet[RiskPoint]:
    """The risk points a user may see, filtered, with what a list row shows joined in."""
    queryset = access.risk_points_visible_to(user)
    if filters.institution is not None:
        queryset = queryset.filter(institution=filters.institution)
    if filters.department_id:
        queryset = queryset.filter(department_id=filters.department_id)
    if filters.position_id:
        queryset = queryset.filter(position_id=filters.position_id)
    if filters.risk_type_id:
        queryset = queryset.filter(risk_type_id=filters.risk_type_id)
    if filters.level_rank:
        queryset = queryset.filter(level__rank=filters.level_rank)
    if filters.state:
        queryset = queryset.filter(state=filters.state)
    if filters.year:
        queryset = queryset.filter(year=filters.year)
    if filters.text:
        queryset = queryset.filter(Q(description__icontains=filters.text) | Q(manifestation__icontains=filters.text))
    return queryset.select_related("institution", "department", "position", "risk_type", "level")


def level_counts(*, queryset: QuerySet[RiskPoint]) -> list[Mapping[str, Any]]:
    """Counts per level (one grouped query), most serious first."""
    return list(
        queryset.order_by()
        .values("level__name", "level__colour", "level__rank")
        .annotate(total=Count("id"))
        .order_by("level__rank", "level__name")
    )


@dataclass(frozen=True)
class InstitutionSummary:
    institution: Institution
    counts: dict[str, int]  # state → number of visible points this year
    total: int


def oversight_summary(*, user, year: int, limit: int = 50) -> list[InstitutionSummary]:
    """For the home page: the institutions a user oversees and their direct subordinates, with
    the visible points of the year by state. Two queries, bounded by ``limit`` institutions."""
    scope = access.scope_of(user)
    roots = scope_subtree_roots(scope)
    institutions = list(
        access.institutions_visible_to(user)
        .filter(Q(id__in=scope.institution_ids | set(roots)) | Q(parent_id__in=roots))
        .order_by("path")[:limit]
    )
    rows = (
        access.risk_points_visible_to(user)
        .filter(year=year, institution__in=institutions)
        .order_by()
        .values("institution_id", "state")
        .annotate(total=Count("id"))
    )
    counts: dict[int, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["institution_id"], {})[row["state"]] = row["total"]
    return [
        InstitutionSummary(institution=i, counts=counts.get(i.pk, {}), total=sum(counts.get(i.pk, {}).values()))
        for i in institutions
    ]


def scope_subtree_roots(scope: access.Scope) -> list[int]:
    """Ids of the institutions at the top of the user's subtree scopes (from their paths)."""
    return [int(path.rstrip("/").rsplit("/", 1)[-1]) for path in scope.subtree_paths]


def department_summary(*, user, year: int) -> list[Mapping[str, Any]]:
    """For department heads: their departments' points of the year by state (one query)."""
    scope = access.scope_of(user)
    if not scope.department_ids:
        return []
    return list(
        access.risk_points_visible_to(user)
        .filter(year=year, department_id__in=scope.department_ids)
        .order_by()
        .values("department_id", "department__name", "institution__code", "state")
        .annotate(total=Count("id"))
        .order_by("department__name", "state")
    )


def home_for(*, user, year: int) -> dict:
    """Everything the home page shows a user, by role; a fixed number of queries."""
    scope = access.scope_of(user)
    holdings = (
        Holding.objects.filter(user=user, ended_on__isnull=True)
        .select_related("position__department", "position__institution")
        .annotate(points=Count("position__risk_points"))
    )
    drafts = (
        access.risk_points_visible_to(user)
        .filter(state=RiskPointState.DRAFT, created_by=user)
        .select_related("level", "position")[:10]
    )
    memberships = user.memberships.select_related("institution", "department").order_by("institution__path")
    return {
        "year": year,
        "scope": scope,
        "holdings": holdings,
        "my_drafts": drafts,
        "memberships": memberships,
        "department_rows": department_summary(user=user, year=year),
        "oversight": oversight_summary(user=user, year=year) if (scope.subtree_paths or scope.institution_ids) else [],
        "states": RiskPointState.choices,
    }


INBOX_JOINS = {
    "to_submit": ("institution", "department", "position", "level"),
    "to_review": ("institution", "department", "position", "level"),
    "to_define": ("institution", "department", "position", "level"),
    "to_approve": ("institution", "department", "position", "level"),
    "to_regrade": ("institution", "department", "position", "level"),
    "comments": ("register__institution", "risk_point"),
    "proposals": ("risk_point__institution", "level", "proposed_by"),
    "to_file": ("institution",),
}


def audit_entries(*, user, form) -> QuerySet:
    """Audit entries of the institutions the user oversees, filtered by the search form."""
    scope = access.scope_of(user)
    paths = Q(pk__in=[])
    for path in scope.subtree_paths:
        paths |= Q(institution__path__startswith=path)
    entries = AuditEntry.objects.filter(paths).select_related("actor", "institution")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["person"]:
            entries = entries.filter(actor__username=data["person"])
        if data["institution"]:
            entries = entries.filter(institution__code=data["institution"])
        if data["action"]:
            entries = entries.filter(action__startswith=data["action"])
        if data["since"]:
            entries = entries.filter(at__date__gte=data["since"])
        if data["until"]:
            entries = entries.filter(at__date__lte=data["until"])
    return entries
