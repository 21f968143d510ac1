"""Quality checks of a set of risk points, shown to reviewers as warnings (never as blocks).

- vague controls (controls.quality);
- grading by rank alone (seed 000, 一(二)3): every leadership point at the top level and every
  general post's point at the lowest;
- positions with powers but no risk points; points without controls.
A fixed number of queries, whatever the number of points, each cut at the rows shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.utils.translation import gettext as _

from controls.models import Control
from controls.quality import vague_control_reasons, vague_controls
from positions.models import Position
from risk_registry.models import RiskPoint

LEADERSHIP_KINDS = (Position.Kind.PRINCIPAL, Position.Kind.DEPUTY)
MIN_POINTS_FOR_RANK_CHECK = 2


SHOWN = 20  # rows of each kind the page lists; the count says how many there are in all


@dataclass
class QualityReport:
    vague_controls: list[Mapping[str, Any]] = field(default_factory=list)  # {point_id, description, measure, reasons}
    vague_count: int = 0  # all of them; ``vague_controls`` holds the first ``SHOWN``
    points_without_controls: list[Mapping[str, Any]] = field(default_factory=list)
    positions_without_points: list[Mapping[str, Any]] = field(default_factory=list)
    graded_by_rank: str = ""

    @property
    def count(self) -> int:
        return (
            self.vague_count
            + len(self.points_without_controls)
            + len(self.positions_without_points)
            + (1 if self.graded_by_rank else 0)
        )


FIGURES = ("position_kind", "level_rank")  # the grouping of the report's one pass over the points


def figure_rows(points: QuerySet[RiskPoint], *by: str) -> list[dict[str, Any]]:
    """The report's one pass over ``points``: counted and their vague controls summed by the post's
    kind and the level's rank as the point stores them (kept by PostgreSQL's triggers,
    ``position_kind`` "" for a department's point: no join of the posts or the levels), and by
    ``by`` too (the register page adds the state, for its state counts: ``figures_of``)."""
    return list(points.order_by().values(*by, *FIGURES).annotate(n=Count("id"), vague=Sum("vague_controls")))


def figures_of(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The report's figures (points and vague controls by post kind and level rank) summed from rows
    grouped more finely (the register page groups by state too, for its state counts)."""
    summed: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in FIGURES)
        into = summed.setdefault(key, {**dict(zip(FIGURES, key, strict=True)), "n": 0, "vague": 0})
        into["n"] += row["n"]
        into["vague"] += row["vague"] or 0
    return list(summed.values())


def quality_report(
    *,
    points: QuerySet[RiskPoint],
    institution_id: int | None = None,
    year: int | None = None,
    figures: list[dict[str, Any]] | None = None,
) -> QualityReport:
    """The report of ``points``, each list computed in SQL and cut at ``SHOWN`` rows. The counts come
    from the points' stored control quality (``controls_count``, ``vague_controls``: written by
    ``controls.services.control_quality_refresh`` with every change of controls, reconciled by
    ``reconcile_stored``) in one grouped pass that also gives the rank pattern; then only the twenty
    vague controls shown (when there are some) and the twenty points without a control are read. A
    register of thousands of points never joins its controls to count them. ``figures``: that pass
    already made by the caller (``figures_of``), for the same ``points``."""
    report = QualityReport()
    if figures is None:
        figures = figure_rows(points)
    report.vague_count = sum(row["vague"] or 0 for row in figures)
    if report.vague_count:
        monitored = Control.objects.filter(risk_point_id=OuterRef("risk_point_id"), line=Control.Line.MONITORING)
        rows = (
            vague_controls()
            # The first twenty vague controls by point are among the first twenty points that have one.
            .filter(risk_point__in=points.filter(vague_controls__gt=0).order_by("id").values("id")[:SHOWN])
            .annotate(followed_up=Exists(monitored))
            .order_by("risk_point_id", "id")
            .values(
                "risk_point_id", "risk_point__description", "measure", "owner", "frequency", "evidence", "followed_up"
            )[:SHOWN]
        )
        for c in rows:
            reasons = vague_control_reasons(
                measure=c["measure"],
                owner=c["owner"],
                frequency=c["frequency"],
                evidence=c["evidence"],
                followed_up=c["followed_up"],
            )
            report.vague_controls.append(
                {
                    "point_id": c["risk_point_id"],
                    "description": c["risk_point__description"],
                    "measure": c["measure"],
                    "reasons": "、".join(str(r) for r in reasons),
                }
            )
    report.points_without_controls = list(
        points.filter(controls_count=0).order_by("-id").values("id", "description")[:SHOWN]
    )
    if institution_id is not None:
        # Only the points the reader may see (``points`` comes from the access module): a hidden
        # draft must not show through as a position that "has" points.
        with_points = points.filter(institution_id=institution_id, position__isnull=False)
        if year is not None:
            with_points = with_points.filter(year=year)
        report.positions_without_points = list(
            Position.objects.filter(institution_id=institution_id, power_items__isnull=False)
            .exclude(pk__in=with_points.values("position_id"))
            .distinct()
            .values("id", "title", "department__name")[:SHOWN]
        )
    report.graded_by_rank = _rank_pattern([row for row in figures if row["position_kind"]])
    return report


def _rank_pattern(rows: list[Mapping[str, Any]]) -> str:
    """Say so when levels follow position rank exactly (``rows``: the points of posts counted by the
    post's kind and the level's rank, ``position_kind`` and ``level_rank``)."""
    ranks_by_kind: dict[str, set[int]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    all_ranks = set()
    for row in rows:
        ranks_by_kind[row["position_kind"]].add(row["level_rank"])
        counts[row["position_kind"]] += row["n"]
        all_ranks.add(row["level_rank"])
    leaders = set().union(*(ranks_by_kind[k] for k in LEADERSHIP_KINDS))
    general = ranks_by_kind[Position.Kind.GENERAL]
    enough = sum(counts[k] for k in LEADERSHIP_KINDS) >= MIN_POINTS_FOR_RANK_CHECK and (
        counts[Position.Kind.GENERAL] >= MIN_POINTS_FOR_RANK_CHECK
    )
    if enough and len(all_ranks) > 1 and leaders == {min(all_ranks)} and general == {max(all_ranks)}:
        return _(
            "Levels follow position rank exactly: every leadership point has the highest level and every "
            "general post's point the lowest. Grade each point by its own likelihood and severity."
        )
    return ""
