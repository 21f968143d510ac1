"""The bottom layer's data: the institutions tree, departments, roles, grading schemes, vocabularies
and the audit trail that every service above writes to."""

from .audit import ActorKind, AuditAction, AuditEntry, SchedulerHeartbeat
from .grading import BAND_ORDER, Band, GradeLevel, GradingScheme, band_order_expression, level_band
from .organisation import Department, Institution, Membership, Role
from .vocabulary import RiskType, Vocabulary

__all__ = [
    "BAND_ORDER",
    "ActorKind",
    "AuditAction",
    "AuditEntry",
    "Band",
    "Department",
    "GradeLevel",
    "GradingScheme",
    "Institution",
    "Membership",
    "RiskType",
    "Role",
    "SchedulerHeartbeat",
    "Vocabulary",
    "band_order_expression",
    "level_band",
]
