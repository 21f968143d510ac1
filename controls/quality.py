"""Control-quality checks the seeds ask for (seed 000, 一(二)4): warnings for reviewers, never blocks."""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from controls.models import Control

# Phrases that promise nothing checkable when no monitoring control follows them up.
GENERIC_PHRASES = (
    "严格按照规章制度办事",
    "严格执行有关规定",
    "严格遵守",
    "加强学习",
    "提高认识",
    "自觉遵守",
    "按规定办理",
)


def vague_control_reasons(*, measure: str, owner: str, frequency: str, evidence: str, followed_up: bool) -> list:
    """Why a control is vague: no owner, no frequency, no evidence, or a generic phrase with no
    monitoring control on the same point (``followed_up``)."""
    reasons = []
    if not owner.strip():
        reasons.append(_("no owner"))
    if not frequency:
        reasons.append(_("no frequency"))
    if not evidence.strip():
        reasons.append(_("no evidence"))
    if any(phrase in measure for phrase in GENERIC_PHRASES) and not followed_up:
        reasons.append(_("a generic phrase with no follow-up check"))
    return reasons


def control_hints(*, rule_id: int | None) -> list:
    """What a good control also names (seed 000, 一(二)4: 制度): advice while writing, which the
    register does not flag."""
    return [] if rule_id else [_("no rule it rests on")]


def vague_controls() -> QuerySet[Control]:
    """The controls ``vague_control_reasons`` finds vague, as one query (the dashboards count the
    points that have one): no owner, no frequency, no evidence, or a generic phrase with no
    monitoring control on the same point."""
    monitored = Control.objects.filter(risk_point_id=OuterRef("risk_point_id"), line=Control.Line.MONITORING)
    generic = reduce(or_, (Q(measure__contains=phrase) for phrase in GENERIC_PHRASES))
    return Control.objects.filter(
        Q(owner__regex=r"^\s*$") | Q(frequency="") | Q(evidence__regex=r"^\s*$") | (generic & ~Exists(monitored))
    )
