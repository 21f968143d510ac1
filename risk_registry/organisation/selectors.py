"""Read-side queries of the organisation layer: vocabularies and grading tables."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from risk_registry.organisation.models import GradeLevel, GradingScheme, Institution, RiskType


def vocabulary_for(*, model, institution: Institution | None) -> QuerySet:
    """An institution's own terms of a vocabulary if it has any, else the defaults.

    Two queries at most; ``model`` is a ``risk_registry.organisation.models.Vocabulary`` subclass.
    """
    active = model.objects.filter(is_active=True)
    if institution is not None and active.filter(institution=institution).exists():
        return active.filter(institution=institution)
    return active.filter(institution__isnull=True)


def levels_of(institution: Institution | None) -> QuerySet[GradeLevel]:
    if institution is None or institution.grading_scheme_id is None:
        return GradeLevel.objects.none()
    return GradeLevel.objects.filter(scheme_id=institution.grading_scheme_id)


def risk_types_for(institution: Institution | None) -> QuerySet[RiskType]:
    return vocabulary_for(model=RiskType, institution=institution)


@dataclass(frozen=True)
class GradingTable:
    """A scheme laid out for display: rows from the most likely down, cells holding levels."""

    scheme: GradingScheme
    levels: list[GradeLevel]
    rows: list[tuple[str, list[GradeLevel | None]]]


def grading_table(institution: Institution) -> GradingTable | None:
    scheme = institution.grading_scheme
    if scheme is None:
        return None
    levels = list(levels_of(institution))
    by_code = {level.code: level for level in levels}
    rows = [
        (label, [by_code.get(code) for code in row])
        for label, row in zip(scheme.likelihood_labels, scheme.matrix, strict=True)
    ]
    return GradingTable(scheme=scheme, levels=levels, rows=rows[::-1])
