"""Models of the register: organisation, grading, vocabularies, risk points, audit."""

from .audit import AuditEntry, SchedulerHeartbeat
from .grading import GradeLevel, GradingScheme
from .organisation import Department, Institution, Membership, Role
from .register import Decision, LevelProposal, NoticeComment, Register, RegisterVersion
from .risk import FoundBy, RiskPoint, RiskPointState, RiskType

__all__ = [
    "AuditEntry",
    "Decision",
    "NoticeComment",
    "Register",
    "RegisterVersion",
    "Department",
    "FoundBy",
    "GradeLevel",
    "GradingScheme",
    "Institution",
    "LevelProposal",
    "Membership",
    "RiskPoint",
    "RiskPointState",
    "RiskType",
    "Role",
    "SchedulerHeartbeat",
]
