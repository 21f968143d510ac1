"""The moral-risk rating of leadership posts (思想道德风险测评, 001 一(二)1): rounds, invited raters
in three relation tiers, grades 优/良/中/差 per sub-indicator, and the weighted score per post.

The arithmetic (docs/surveys.md, "Rating"): a rating's value is the mean of its grades' points;
a tier's value the mean of its ratings; the post's score the mean of its tiers' values weighted
by the round's tier weights, over the tiers that have ratings (their weights renormalised).
A rating keeps its tier, never its rater: the invitation is marked done beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.survey_models import Rating, RatingInvitation, RatingRound, RoundState
from positions.models import Holding, Position
from risk_registry import access
from risk_registry.organisation.models import AuditAction, Institution
from risk_registry.organisation.services import audit_record

# The study's three factors (评价因素), each refined into sub-indicators (评价指标): configurable.
DEFAULT_INDICATORS: dict[str, list[str]] = {
    "政治素质": ["理想信念", "政治纪律和政治规矩"],
    "道德素质": ["廉洁自律", "个人品行"],
    "法治素质": ["依法用权", "遵守制度规定"],
}
# Tier 1 is the closest relation to the post and weighs most (the study: 一级为最高，三级为最低).
DEFAULT_TIER_WEIGHTS: dict[str, float] = {"1": 0.5, "2": 0.3, "3": 0.2}
GRADES = ("excellent", "good", "fair", "poor")
GRADE_LABELS = {
    "excellent": gettext_lazy("Excellent"),
    "good": gettext_lazy("Good"),
    "fair": gettext_lazy("Fair"),
    "poor": gettext_lazy("Poor"),
}
DEFAULT_GRADE_POINTS: dict[str, float] = {"excellent": 100, "good": 80, "fair": 60, "poor": 40}
TIERS = (1, 2, 3)


def _check_config(indicators: dict[str, list[str]], tier_weights: dict[str, float]) -> None:
    if not indicators or any(not subs for subs in indicators.values()):
        raise ValidationError(_("Each factor needs at least one sub-indicator."))
    if set(tier_weights) != {"1", "2", "3"} or any(w < 0 for w in tier_weights.values()):
        raise ValidationError(_("Weights are zero or more, and not all zero."))
    if sum(tier_weights.values()) <= 0:
        raise ValidationError(_("Weights are zero or more, and not all zero."))


@transaction.atomic
def rating_round_open(
    *,
    by,
    institution: Institution,
    year: int,
    name: str,
    positions: QuerySet[Position] | list[Position],
    indicators: dict[str, list[str]] | None = None,
    tier_weights: dict[str, float] | None = None,
    grade_points: dict[str, float] | None = None,
) -> RatingRound:
    indicators = indicators or DEFAULT_INDICATORS
    tier_weights = tier_weights or DEFAULT_TIER_WEIGHTS
    _check_config(indicators, tier_weights)
    positions = list(positions)
    if not positions or any(p.institution_id != institution.pk for p in positions):
        raise ValidationError(_("Choose posts of the institution."))
    rating_round = RatingRound.objects.create(
        institution=institution,
        year=year,
        name=name,
        indicators=[[factor, subs] for factor, subs in indicators.items()],
        tier_weights=tier_weights,
        grade_points=grade_points or DEFAULT_GRADE_POINTS,
        opened_by=by,
    )
    rating_round.positions.set(positions)
    audit_record(
        actor=by,
        action=AuditAction.RATING_ROUND_OPEN,
        target=rating_round,
        institution=institution,
        summary=name,
        changes={"tier_weights": tier_weights, "posts": [p.pk for p in positions]},
    )
    return rating_round


@transaction.atomic
def rating_invite(*, by, rating_round: RatingRound, position: Position, rater, tier: int) -> RatingInvitation:
    """Invite ``rater`` to rate ``position`` in relation ``tier``; nobody rates a post they hold."""
    if rating_round.state != RoundState.OPEN:
        raise ValidationError(_("The round is closed."))
    if tier not in TIERS:
        raise ValidationError(_("The relation tier is 1, 2 or 3."))
    if not rating_round.positions.filter(pk=position.pk).exists():
        raise ValidationError(_("This post is not rated in this round."))
    if Holding.objects.filter(position=position, user=rater, ended_on__isnull=True).exists():
        raise ValidationError(_("Nobody rates a post they hold."))
    if RatingInvitation.objects.filter(round=rating_round, position=position, rater=rater).exists():
        raise ValidationError(_("This person is already invited to rate this post."))
    invitation = RatingInvitation.objects.create(round=rating_round, position=position, rater=rater, tier=tier)
    audit_record(
        actor=by,
        action=AuditAction.RATING_INVITE,
        target=rating_round,
        institution=rating_round.institution,
        summary=f"{position.title} · {tier}",
        changes={"position": position.pk, "tier": tier},
    )
    return invitation


def rating_submit(*, rater, invitation_id: int, grades: dict[str, dict[str, str]]) -> Rating:
    """Store one rater's grades: the rating keeps the post and the tier; the invitation is marked
    done in the same transaction (a second submission finds it done and stores nothing)."""
    with transaction.atomic():
        invitation = (
            RatingInvitation.objects.select_for_update()
            .select_related("round")
            .filter(pk=invitation_id, rater_id=rater.pk, done=False, round__state=RoundState.OPEN)
            .first()
        )
        if invitation is None:
            raise ValidationError(_("This rating is no longer open."))
        indicators = invitation.round.factors
        complete = set(grades) == set(indicators) and all(
            set(grades[factor]) == set(subs) and all(g in GRADES for g in grades[factor].values())
            for factor, subs in indicators.items()
        )
        if not complete:
            raise ValidationError(_("Grade every indicator."))
        invitation.done = True
        invitation.save(update_fields=["done"])
        return Rating.objects.create(
            round=invitation.round, position=invitation.position, tier=invitation.tier, grades=grades
        )


@transaction.atomic
def rating_round_close(*, by, rating_round: RatingRound) -> RatingRound:
    rating_round = RatingRound.objects.select_for_update().get(pk=rating_round.pk)
    if rating_round.state != RoundState.OPEN:
        raise ValidationError(_("The round is closed."))
    rating_round.state = RoundState.CLOSED
    rating_round.closed_at = timezone.now()
    rating_round.response_count = rating_round.ratings.count()
    rating_round.save(update_fields=["state", "closed_at", "response_count"])
    invited = rating_round.invitations.count()
    audit_record(
        actor=by,
        action=AuditAction.RATING_ROUND_CLOSE,
        target=rating_round,
        institution=rating_round.institution,
        summary=f"{rating_round.response_count}/{invited}",
        changes={"responses": rating_round.response_count, "invited": invited},
    )
    return rating_round


# --- scores ------------------------------------------------------------------------------------------


def rating_value(grades: dict[str, dict[str, str]], points: dict[str, float]) -> float:
    """The mean of the points of every sub-indicator's grade."""
    values = [points[grade] for subs in grades.values() for grade in subs.values()]
    return sum(values) / len(values)


def weighted(tier_values: dict[int, float], weights: dict[str, float]) -> float | None:
    """The tiers' values weighted by the round's weights, over the tiers that have a value."""
    present = {tier: value for tier, value in tier_values.items() if weights[str(tier)] > 0}
    total = sum(weights[str(tier)] for tier in present)
    if not present or total <= 0:
        return None
    return sum(weights[str(tier)] * value for tier, value in present.items()) / total


@dataclass
class PostScore:
    position: Position
    score: float | None = None
    tiers: dict[int, tuple[int, float]] = field(default_factory=dict)  # tier → (ratings, mean value)
    factors: dict[str, float | None] = field(default_factory=dict)  # factor → weighted score
    ratings: int = 0

    def tier_rows(self) -> list[tuple[int, int, float | None]]:
        return [(tier, *self.tiers.get(tier, (0, None))) for tier in TIERS]


def post_scores(rating_round: RatingRound) -> list[PostScore]:
    """The weighted score of each post of the round (and per factor). Two queries."""
    points = rating_round.grade_points
    by_post: dict[int, list[Rating]] = {}
    for rating in Rating.objects.filter(round=rating_round).only("position_id", "tier", "grades"):
        by_post.setdefault(rating.position_id, []).append(rating)
    results = []
    for position in rating_round.positions.order_by("department__name", "title").select_related("department"):
        ratings = by_post.get(position.pk, [])
        result = PostScore(position=position, ratings=len(ratings))
        tier_values: dict[int, float] = {}
        for tier in TIERS:
            values = [rating_value(r.grades, points) for r in ratings if r.tier == tier]
            if values:
                tier_values[tier] = sum(values) / len(values)
                result.tiers[tier] = (len(values), tier_values[tier])
        result.score = weighted(tier_values, rating_round.tier_weights)
        for factor in rating_round.factors:
            factor_values = {}
            for tier in TIERS:
                values = [rating_value({factor: r.grades[factor]}, points) for r in ratings if r.tier == tier]
                if values:
                    factor_values[tier] = sum(values) / len(values)
            result.factors[factor] = weighted(factor_values, rating_round.tier_weights)
        results.append(result)
    return results


def possible_raters(institution: Institution):
    """People who may be invited: members of the institution and holders of its posts."""
    return access.people_of(Institution.objects.filter(pk=institution.pk))
