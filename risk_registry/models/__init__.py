"""Models of the register: organisation, grading, vocabularies, risk points, audit."""

from .audit import AuditEntry, SchedulerHeartbeat
from .documents import ExportJob
from .grading import GradeLevel, GradingScheme
from .organisation import Department, Institution, Membership, Role
from .register import Decision, LevelProposal, NoticeComment, Register, RegisterVersion
from .risk import FoundBy, RiskPoint, RiskPointState, RiskType

__all__ = [
    "AuditEntry",
    "Decision",
    "Department",
    "ExportJob",
    "FoundBy",
    "GradeLevel",
    "GradingScheme",
    "Institution",
    "LevelProposal",
    "Membership",
    "NoticeComment",
    "Register",
    "RegisterVersion",
    "RiskPoint",
    "RiskPointState",
    "RiskType",
    "Role",
    "SchedulerHeartbeat",
]
