"""A post's three measures of the leadership-post study (001 一(二)) and the profile combining them.

- **Control risk** (控制风险, 一(二)3) is derived, never typed: the most serious level among the
  post's *verified* points of the year (查实: a level the discipline office has defined, i.e. the
  states from "level defined" to "issued"), with the count per level beside it. Its score on
  0–100 is the level's place in the institution's scheme: 100 × (levels − rank + 1) / levels
  (高危 100, 严重 75, 中等 50, 低危 25 in the study's four levels); no verified point, no score.
- **Moral risk** (思想道德风险, 一(二)1): 100 − the post's weighted rating, scaled so that all 优
  is 0 and all 差 is 100, from the latest rating round of the year that rated the post.
- **Environment risk** (外部环境风险, 一(二)4): the 腐败接触率 (× 100) of the post's group in the
  latest survey round of the year: business posts (those exercising a power of the inventory)
  read the external questionnaire's business group, the others the internal questionnaire's
  non-business group, as the study says (一(二)4(2)); a group below the threshold gives nothing.

The **profile** is the weighted mean of the measures the post has (weights configurable, the
missing measures' weights left out) and the level of the institution's scheme it falls in, in
equal bands. It is a suggestion shown to the discipline office: nothing applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Exists, OuterRef

from assessments.rating import post_scores
from assessments.survey_models import PostGroup, Questionnaire, RatingRound, SurveyRound
from assessments.surveys import GroupResult, survey_results
from positions.models import Position, PowerItem
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel, Institution

VERIFIED_STATES = (
    RiskPointState.DEFINED,
    RiskPointState.APPRAISED,
    RiskPointState.APPROVED,
    RiskPointState.IN_NOTICE,
    RiskPointState.ISSUED,
)
# The study pairs each post group with one questionnaire (一(二)4(2)).
QUESTIONNAIRE_OF_GROUP = {PostGroup.BUSINESS: Questionnaire.EXTERNAL, PostGroup.NON_BUSINESS: Questionnaire.INTERNAL}
MEASURES = ("moral", "control", "environment")


@dataclass
class ControlRisk:
    level: GradeLevel | None = None
    counts: list[tuple[GradeLevel, int]] = field(default_factory=list)  # most serious first
    score: float | None = None


def _levels(institution: Institution) -> list[GradeLevel]:
    return list(GradeLevel.objects.filter(scheme_id=institution.grading_scheme_id).order_by("rank"))


def level_score(level: GradeLevel, levels: list[GradeLevel]) -> float:
    return 100 * (len(levels) - level.rank + 1) / len(levels)


def control_risks(
    institution: Institution, year: int, levels: list[GradeLevel] | None = None
) -> dict[int, ControlRisk]:
    """Each post's control risk from its verified points of ``year`` (one query, plus the levels)."""
    levels = levels if levels is not None else _levels(institution)
    by_pk = {level.pk: level for level in levels}
    risks: dict[int, ControlRisk] = {}
    rows = (
        RiskPoint.objects.filter(institution=institution, year=year, state__in=VERIFIED_STATES, position__isnull=False)
        .values("position_id", "level_id")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        level = by_pk.get(row["level_id"])
        if level is None:
            continue
        risk = risks.setdefault(row["position_id"], ControlRisk())
        risk.counts.append((level, row["n"]))
    for risk in risks.values():
        risk.counts.sort(key=lambda pair: pair[0].rank)
        risk.level = risk.counts[0][0]
        risk.score = level_score(risk.level, levels)
    return risks


@dataclass
class PostProfile:
    position: Position
    group: str
    control: ControlRisk
    moral_score: float | None = None  # the rating itself (higher is better)
    environment: GroupResult | None = None
    risks: dict[str, float | None] = field(default_factory=dict)  # measure → risk on 0–100
    combined: float | None = None
    suggested: GradeLevel | None = None

    @property
    def group_label(self) -> str:
        return str(PostGroup(self.group).label)


def profile_weights(raw: dict[str, float] | None = None) -> dict[str, float]:
    weights: dict[str, float] = dict(settings.RISK_REGISTRY_POST_PROFILE_WEIGHTS)
    weights.update(raw or {})
    return {measure: float(weights[measure]) for measure in MEASURES}


def combine(risks: dict[str, float | None], weights: dict[str, float]) -> float | None:
    present = {m: r for m, r in risks.items() if r is not None and weights[m] > 0}
    total = sum(weights[m] for m in present)
    if not present or total <= 0:
        return None
    return sum(weights[m] * r for m, r in present.items()) / total


def suggested_level(score: float, levels: list[GradeLevel]) -> GradeLevel | None:
    """The level whose equal band of 0–100 holds ``score`` (the top band is the most serious)."""
    if not levels:
        return None
    band = min(len(levels) - 1, int(score * len(levels) / 100))
    return levels[len(levels) - 1 - band]


def moral_risk(score: float, points: dict[str, float]) -> float:
    best, worst = max(points.values()), min(points.values())
    return 100 * (best - score) / (best - worst) if best > worst else 0.0


def post_profiles(institution: Institution, year: int, weights: dict[str, float]) -> list[PostProfile]:
    """Every post of the institution with its three measures and the suggestion. A fixed number
    of queries whatever the number of posts."""
    levels = _levels(institution)
    controls = control_risks(institution, year, levels)
    positions = (
        Position.objects.filter(institution=institution)
        .select_related("department")
        .annotate(business=Exists(PowerItem.objects.filter(positions=OuterRef("pk"))))
        .order_by("department__name", "title")
    )
    moral: dict[int, tuple[float, dict[str, float]]] = {}
    for rating_round in RatingRound.objects.filter(institution=institution, year=year).order_by("pk"):
        for post in post_scores(rating_round):  # later rounds replace earlier ones
            if post.score is not None:
                moral[post.position.pk] = (post.score, rating_round.grade_points)
    environment: dict[str, GroupResult] = {}
    survey_round = SurveyRound.objects.filter(institution=institution, year=year).order_by("-pk").first()
    if survey_round is not None:
        for row in survey_results(survey_round):
            if row.shown and QUESTIONNAIRE_OF_GROUP[PostGroup(row.group)] == row.questionnaire:
                environment[row.group] = row
    profiles = []
    for position in positions:
        group = PostGroup.BUSINESS if position.business else PostGroup.NON_BUSINESS
        profile = PostProfile(position=position, group=group, control=controls.get(position.pk, ControlRisk()))
        if position.pk in moral:
            profile.moral_score = moral[position.pk][0]
        env = environment.get(group)
        profile.environment = env
        profile.risks = {
            "moral": moral_risk(*moral[position.pk]) if position.pk in moral else None,
            "control": profile.control.score,
            "environment": env.rate.rate * 100 if env and env.rate else None,
        }
        profile.combined = combine(profile.risks, weights)
        if profile.combined is not None:
            profile.suggested = suggested_level(profile.combined, levels)
        profiles.append(profile)
    return profiles
