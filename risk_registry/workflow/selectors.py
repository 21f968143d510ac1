"""Read-side queries of the register pages and the batch steps."""

from __future__ import annotations

from django.db.models import Count, Prefetch
from django.utils import timezone

from risk_registry import access
from risk_registry.models import Decision, RiskPoint, RiskPointState
from risk_registry.workflow import inbox, registers
from risk_registry.workflow.quality import quality_report
from risk_registry.workflow.transitions import Change


def batch_points(*, user, register, state: str, step) -> list[RiskPoint]:
    """The points of a register in ``state`` that the user may move with ``step`` (bounded)."""
    points = (
        access.risk_points_visible_to(user)
        .filter(institution_id=register.institution_id, year=register.year, state=state)
        .select_related("institution", "department", "position", "risk_type", "level")
        .order_by("department__order", "department_id", "id")[:500]
    )
    return [p for p in points if step.may(user, p)]


def batch_change(post, point: RiskPoint, *, define: bool):
    """One row of a batch form as a workflow Change (per-point likelihood/severity when defining)."""

    def number(name: str) -> int | None:
        raw = post.get(f"{name}_{point.pk}", "")
        return int(raw) if raw.isdigit() else None

    return Change(
        point_id=point.pk,
        version=number("version"),
        likelihood=number("likelihood") if define else None,
        severity=number("severity") if define else None,
        reason=post.get(f"reason_{point.pk}", "")[:1000] if define else "",
    )


def register_page(*, user, register) -> dict:
    """Everything the register page shows; a fixed number of queries."""
    institution = register.institution
    points = access.risk_points_visible_to(user).filter(institution=institution, year=register.year)
    by_state = dict(points.order_by().values_list("state").annotate(n=Count("id")))
    rules = registers.decision_rules_for(institution)
    waiting = list(
        points.filter(state__in=(RiskPointState.DEFINED, RiskPointState.APPRAISED))
        .select_related("department", "position", "level")
        .order_by("department__order", "department_id", "id")[:500]
    )
    versions = list(
        access.versions_visible_to(user).filter(register=register).select_related("signed_by").order_by("-number")
    )
    notice_open = registers.notice_is_open(register)
    return {
        "register": register,
        "institution": institution,
        "by_state": [(value, label, by_state.get(value, 0)) for value, label in RiskPointState.choices],
        "total": sum(by_state.values()),
        "decisions": Decision.objects.filter(register=register)
        .select_related("recorded_by")
        .annotate(n=Count("points"))
        .prefetch_related(Prefetch("points", queryset=RiskPoint.objects.only("id").order_by("id"))),
        "rules": rules,
        "team_size": registers.leadership_team_size(institution, rules),
        "to_approve": waiting,
        "to_appraise": [p for p in waiting if p.state == RiskPointState.DEFINED],
        "comments": access.notice_comments_visible_to(user)
        .filter(register=register)
        .select_related("author", "answered_by", "risk_point"),
        "versions": versions,
        "notice_open": notice_open,
        "quality": quality_report(points=points, institution_id=institution.pk, year=register.year),
        "can": {
            "review": bool(access.scope_of(user).department_ids) and by_state.get(RiskPointState.SUBMITTED, 0) > 0,
            "define": access.is_discipline_office_for(user, institution)
            and by_state.get(RiskPointState.REVIEWED, 0) > 0,
            "appraise": access.is_discipline_office_for(user, institution)
            and by_state.get(RiskPointState.DEFINED, 0) > 0,
            "approve": access.is_leadership_of(user, institution)
            and (by_state.get(RiskPointState.DEFINED, 0) + by_state.get(RiskPointState.APPRAISED, 0)) > 0,
            "publish": access.is_discipline_office_for(user, institution)
            and (by_state.get(RiskPointState.APPROVED, 0) > 0 or notice_open),
            "rules": access.is_discipline_office_for(user, institution),
            "answer": access.is_discipline_office_for(user, institution),
            "comment": access.is_staff_of(user, institution) and notice_open,
            "issue": access.is_discipline_office_for(user, institution)
            and by_state.get(RiskPointState.IN_NOTICE, 0) > 0
            and register.notice_ends_on is not None
            and register.notice_ends_on < timezone.localdate(),
            "file": inbox.registers_to_file(user).filter(pk=register.pk).exists(),
        },
    }
