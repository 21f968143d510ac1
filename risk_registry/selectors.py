"""Read-side queries for pages: always start from the access module's scoped querysets."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from risk_registry import access
from risk_registry.models import GradeLevel, Institution, RiskPoint, RiskType


def vocabulary_for(*, model, institution: Institution | None) -> QuerySet:
    """An institution's own terms of a vocabulary if it has any, else the defaults.

    Two queries at most; ``model`` is a ``risk_registry.vocabulary.Vocabulary`` subclass.
    """
    active = model.objects.filter(is_active=True)
    if institution is not None and active.filter(institution=institution).exists():
        return active.filter(institution=institution)
    return active.filter(institution__isnull=True)


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


def level_counts(*, queryset: QuerySet[RiskPoint]) -> list[dict]:
    """Counts per level (one grouped query), most serious first."""
    return list(
        queryset.order_by()
        .values("level__name", "level__colour", "level__rank")
        .annotate(total=Count("id"))
        .order_by("level__rank", "level__name")
    )


def levels_of(institution: Institution | None) -> QuerySet[GradeLevel]:
    if institution is None or institution.grading_scheme_id is None:
        return GradeLevel.objects.none()
    return GradeLevel.objects.filter(scheme_id=institution.grading_scheme_id)


def risk_types_for(institution: Institution | None) -> QuerySet[RiskType]:
    return vocabulary_for(model=RiskType, institution=institution)
