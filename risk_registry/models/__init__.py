"""Models of the register: risk points, and the register they are approved, published and filed in."""

from .post_grade import PostGrade, PostGradeLevel, Supervision
from .register import (
    Decision,
    DecisionAttachment,
    DecisionRules,
    LevelProposal,
    NoticeComment,
    Register,
    RegisterVersion,
)
from .risk import FoundBy, RiskPoint, RiskPointState
from .tally import PointSpread, PointTally

__all__ = [
    "Decision",
    "DecisionAttachment",
    "DecisionRules",
    "FoundBy",
    "LevelProposal",
    "NoticeComment",
    "PointSpread",
    "PointTally",
    "PostGrade",
    "PostGradeLevel",
    "Register",
    "RegisterVersion",
    "RiskPoint",
    "RiskPointState",
    "Supervision",
]
