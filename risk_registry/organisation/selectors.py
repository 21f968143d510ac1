"""Read-side queries of the organisation layer: vocabularies and grading tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from risk_registry.organisation.models import Band, GradeLevel, GradingScheme, Institution, RiskType


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


# --- the legend of the schemes a cross-institution view or document shows --------------------


@dataclass(frozen=True)
class LegendLevel:
    name: str
    colour: str
    band: str
    rank: int

    @property
    def band_label(self) -> str:
        return str(Band(self.band).label) if self.band in Band.values else ""


@dataclass(frozen=True)
class LegendEntry:
    """One way of grading found among the shown points: a scheme's name, its levels from the most
    serious with their bands, and the institutions grading that way."""

    scheme: str
    levels: tuple[LegendLevel, ...]
    institutions: tuple[str, ...]

    SHOWN = 6  # institutions named on a page; the rest are counted

    @property
    def institutions_shown(self) -> tuple[str, ...]:
        return self.institutions[: self.SHOWN]

    @property
    def institutions_more(self) -> int:
        return max(0, len(self.institutions) - self.SHOWN)

    def text(self, limit: int = 0) -> str:
        """One line for a document: 方案：一级=高、二级=中、三级=低（单位：甲局、乙局）."""
        levels = "、".join(f"{level.name}={level.band_label}" for level in self.levels)
        names = self.institutions if not limit or len(self.institutions) <= limit else self.institutions[:limit]
        more = f"等{len(self.institutions)}个单位" if len(names) < len(self.institutions) else ""
        return f"{self.scheme}：{levels}（{'、'.join(names)}{more}）"


def band_legend(scheme_ids: QuerySet | Iterable[int]) -> list[LegendEntry]:
    """The legend of the schemes ``scheme_ids`` (a subquery such as ``points.values("level__scheme_id")``
    or ids): one query. Each institution grades with its own copy of a scheme, so copies that name
    the same levels with the same bands make one entry listing their institutions."""
    # Plain tuples, not models: a 1,000-institution subtree has some 3,500 levels, and building
    # their schemes (matrix, labels) and institutions as objects cost half a second.
    levels = (
        GradeLevel.objects.filter(scheme_id__in=scheme_ids)
        .order_by("scheme__name", "scheme_id", "rank")
        .values_list("scheme_id", "scheme__name", "scheme__institution__name", "name", "colour", "band", "rank")
    )
    schemes: dict[int, tuple[str, str | None, list[LegendLevel]]] = {}
    for scheme_id, scheme_name, owner_name, name, colour, band, rank in levels:
        entry = schemes.setdefault(scheme_id, (scheme_name, owner_name, []))
        entry[2].append(LegendLevel(name=name, colour=colour, band=band, rank=rank))
    # Names kept in a dict (ordered, one lookup each): a list searched per scheme was quadratic, some
    # two seconds for a province's 10,000 schemes of which 2,500 share an entry.
    merged: dict[tuple, dict[str, None]] = {}
    for title, owner, scheme_levels in schemes.values():
        names = merged.setdefault((title, tuple(scheme_levels)), {})
        if owner is not None:
            names[owner] = None
    return [
        LegendEntry(scheme=name, levels=levels_key, institutions=tuple(names))
        for (name, levels_key), names in merged.items()
    ]
