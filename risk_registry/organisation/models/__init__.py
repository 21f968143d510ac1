"""The bottom layer's data: the institutions tree, departments, roles, grading schemes, vocabularies
and the audit trail that every service above writes to."""

from .audit import ActorKind, AuditAction, AuditEntry, SchedulerHeartbeat
from .grading import GradeLevel, GradingScheme
from .organisation import Department, Institution, Membership, Role
from .vocabulary import RiskType, Vocabulary

__all__ = [
    "ActorKind",
    "AuditAction",
    "AuditEntry",
    "Department",
    "GradeLevel",
    "GradingScheme",
    "Institution",
    "Membership",
    "RiskType",
    "Role",
    "SchedulerHeartbeat",
    "Vocabulary",
]
