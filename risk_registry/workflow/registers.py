"""Services of a whole register: decisions, public notice, issue, filing, versions, re-grading.

Each service is one transaction that checks the actor's right, applies the workflow to the
points it covers (risk_registry.workflow) and writes its audit entries.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from controls.models import in_line_order
from risk_registry import access
from risk_registry.models import (
    Decision,
    LevelProposal,
    NoticeComment,
    Register,
    RegisterVersion,
    RiskPoint,
    RiskPointState,
)
from risk_registry.organisation.models import Institution, Membership, Role
from risk_registry.organisation.names import person
from risk_registry.organisation.services import audit_record, grade_level_for
from risk_registry.workflow.snapshots import content_hash, register_snapshot
from risk_registry.workflow.transitions import Change, transition_apply

S = RiskPointState
DEFAULT_NOTICE_DAYS = 5


def register_for(*, institution: Institution, year: int) -> Register:
    register, _created = Register.objects.get_or_create(institution=institution, year=year)
    return register


def register_points(register: Register) -> QuerySet[RiskPoint]:
    return RiskPoint.objects.filter(institution_id=register.institution_id, year=register.year)


def _ids_in_states(register: Register, states: Iterable[str], point_ids: Iterable[int] | None) -> list[int]:
    points = register_points(register).filter(state__in=list(states))
    if point_ids is not None:
        points = points.filter(pk__in=list(point_ids))
    return list(points.values_list("pk", flat=True))


# --- decisions ------------------------------------------------------------------------------


@transaction.atomic
def register_decide(
    *,
    by,
    register: Register,
    kind: str,
    meeting: str,
    held_on: datetime.date,
    participants: str = "",
    decision: str = "",
    votes: tuple[int | None, int | None, int | None] = (None, None, None),
    point_ids: Iterable[int] | None = None,
) -> Decision:
    """Record a meeting and move the points it covers: approval (审定) by leadership, or the
    optional democratic appraisal (民主评议) recorded by the discipline office."""
    approving = kind == Decision.Kind.APPROVAL
    allowed = (
        access.is_leadership_of(by, register.institution)
        if approving
        else access.is_discipline_office_for(by, register.institution)
    )
    access.require(allowed)
    if not meeting.strip():
        raise ValidationError(_("Name the meeting that decided."))
    if held_on > timezone.localdate():
        raise ValidationError(_("The meeting cannot be in the future."))
    if any(v is not None and v < 0 for v in votes):
        raise ValidationError(_("Vote counts cannot be negative."))
    sources = (S.DEFINED, S.APPRAISED) if approving else (S.DEFINED,)
    ids = _ids_in_states(register, sources, point_ids)
    if not ids:
        raise ValidationError(_("No risk point of this register is waiting for this decision."))
    record = Decision.objects.create(
        register=register,
        kind=kind,
        meeting=meeting.strip(),
        held_on=held_on,
        participants=participants,
        decision=decision,
        votes_for=votes[0],
        votes_against=votes[1],
        votes_abstaining=votes[2],
        recorded_by=by,
    )
    record.points.set(ids)
    transition_apply(
        by=by,
        name="approve" if approving else "appraise",
        changes=[Change(point_id=pk) for pk in ids],
        action_data={"decision": record.pk, "meeting": record.meeting},
    )
    audit_record(
        actor=by,
        action="register.approve" if approving else "register.appraise",
        target=register,
        institution=register.institution,
        summary=f"{record.meeting} ({len(ids)})",
        changes={"decision": record.pk, "points": len(ids)},
    )
    return record


# --- public notice --------------------------------------------------------------------------


@transaction.atomic
def notice_publish(
    *, by, register: Register, days: int = DEFAULT_NOTICE_DAYS, allow_anonymous: bool = False
) -> Register:
    """Publish the approved points inside the institution for ``days`` days (公示)."""
    access.require(access.is_discipline_office_for(by, register.institution))
    if not 1 <= days <= 60:
        raise ValidationError(_("A notice period lasts from 1 to 60 days."))
    register = Register.objects.select_for_update(of=("self",)).get(pk=register.pk)
    ids = _ids_in_states(register, (S.APPROVED,), None)
    if not ids:
        raise ValidationError(_("No approved risk point to publish."))
    transition_apply(by=by, name="publish", changes=[Change(point_id=pk) for pk in ids])
    today = timezone.localdate()
    register.notice_starts_on, register.notice_ends_on = today, today + datetime.timedelta(days=days)
    register.allow_anonymous_comments = allow_anonymous
    register.save(update_fields=["notice_starts_on", "notice_ends_on", "allow_anonymous_comments"])
    audit_record(
        actor=by,
        action="register.publish",
        target=register,
        institution=register.institution,
        summary=f"{register.notice_starts_on} – {register.notice_ends_on}",
        changes={"points": len(ids), "days": days, "anonymous": allow_anonymous},
    )
    return register


def notice_is_open(register: Register, *, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return bool(
        register.notice_starts_on
        and register.notice_ends_on
        and register.notice_starts_on <= today <= register.notice_ends_on
        and register_points(register).filter(state=S.IN_NOTICE).exists()
    )


@transaction.atomic
def notice_comment_add(
    *, by, register: Register, text: str, risk_point: RiskPoint | None = None, anonymous: bool = False
) -> NoticeComment:
    """Staff of the institution comment during the notice. An anonymous comment stores no author
    anywhere, the audit trail included."""
    register = Register.objects.select_related("institution").get(pk=register.pk)
    access.require(access.is_staff_of(by, register.institution))
    if not notice_is_open(register):
        raise ValidationError(_("The register is not in public notice."))
    if anonymous and not register.allow_anonymous_comments:
        raise ValidationError(_("This institution does not accept anonymous comments."))
    if not text.strip():
        raise ValidationError(_("Write your comment."))
    if risk_point is not None and (
        risk_point.institution_id != register.institution_id or risk_point.year != register.year
    ):
        raise ValidationError(_("The risk point is not in this register."))
    comment = NoticeComment.objects.create(
        register=register, risk_point=risk_point, author=None if anonymous else by, text=text.strip()
    )
    audit_record(
        actor=None if anonymous else by,
        action="notice_comment.create",
        target=comment,
        institution=register.institution,
        summary=comment.text[:80],
    )
    return comment


@transaction.atomic
def notice_comment_answer(*, by, comment: NoticeComment, answer: str, send_back: bool = False) -> NoticeComment:
    """The discipline office answers; it may send the commented point back for re-grading."""
    comment = (
        NoticeComment.objects.select_for_update(of=("self",)).select_related("register__institution").get(pk=comment.pk)
    )
    access.require(access.is_discipline_office_for(by, comment.register.institution))
    if not answer.strip():
        raise ValidationError(_("Write the answer."))
    if comment.answered_at is not None:
        raise ValidationError(_("This comment has already been answered."))
    comment.answer, comment.answered_by, comment.answered_at = answer.strip(), by, timezone.now()
    comment.save(update_fields=["answer", "answered_by", "answered_at"])
    if send_back:
        if comment.risk_point_id is None:
            raise ValidationError(_("The comment is about no particular point: nothing to send back."))
        transition_apply(
            by=by, name="return_from_notice", changes=[Change(point_id=comment.risk_point_id)], reason=comment.answer
        )
    audit_record(
        actor=by,
        action="notice_comment.answer",
        target=comment,
        institution=comment.register.institution,
        summary=comment.answer[:80],
        changes={"sent_back": send_back},
    )
    return comment


@transaction.atomic
def register_issue(*, by, register: Register, today: datetime.date | None = None) -> list[RiskPoint]:
    """When the notice period has ended, the points in notice are issued (印发). ``by`` is the
    discipline office, or None for the scheduler's daily run."""
    today = today or timezone.localdate()
    register = Register.objects.select_for_update(of=("self",)).select_related("institution").get(pk=register.pk)
    if by is not None:
        access.require(access.is_discipline_office_for(by, register.institution))
    if register.notice_ends_on is None or today <= register.notice_ends_on:
        raise ValidationError(_("The notice period has not ended yet."))
    ids = _ids_in_states(register, (S.IN_NOTICE,), None)
    if not ids:
        return []
    actor = by or _system_actor(register)
    points = transition_apply(by=actor, name="issue", changes=[Change(point_id=pk) for pk in ids])
    audit_record(
        actor=by,
        action="register.issue",
        target=register,
        institution=register.institution,
        changes={"points": len(ids)},
    )
    return points


def _system_actor(register: Register):
    """The scheduler issues on behalf of the institution's discipline office (its first member)."""

    membership = (
        Membership.objects.filter(institution__path__in=_ancestor_paths(register.institution), role=Role.DISCIPLINE)
        .select_related("user")
        .order_by("-institution__depth")
        .first()
    )
    if membership is None:
        raise PermissionDenied
    return membership.user


def _ancestor_paths(institution: Institution) -> list[str]:
    ids = institution.path.strip("/").split("/")
    return ["/" + "/".join(ids[: i + 1]) + "/" for i in range(len(ids))]


def registers_issue_due(*, today: datetime.date | None = None) -> int:
    """For the scheduler: issue every register whose notice has ended. Idempotent."""
    today = today or timezone.localdate()
    issued = 0
    in_notice = RiskPoint.objects.filter(
        institution_id=OuterRef("institution_id"), year=OuterRef("year"), state=S.IN_NOTICE
    )
    due = Register.objects.filter(Exists(in_notice), notice_ends_on__lt=today)
    for register_id in due.values_list("pk", flat=True):
        issued += len(register_issue(by=None, register=Register.objects.get(pk=register_id), today=today))
    return issued


# --- filing ---------------------------------------------------------------------------------


@transaction.atomic
def register_file(*, by, register: Register) -> RegisterVersion:
    """The principal leader signs the issued register: freeze it as the next filed version and
    send it to the superior office (the parent institution)."""
    register = (
        Register.objects.select_for_update(of=("self",))
        .select_related("institution__grading_scheme")
        .get(pk=register.pk)
    )
    access.require(access.is_principal_of(by, register.institution))
    points = register_points(register)
    if not points.filter(state=S.ISSUED).exists():
        raise ValidationError(_("Only an issued register can be filed."))
    unfinished = points.exclude(state=S.ISSUED).count()
    if unfinished:
        raise ValidationError(
            _("%(n)d risk points of this register are not issued yet: finish them before filing.") % {"n": unfinished}
        )
    # The filing's number, time and signatory are part of what the filed document prints, so they
    # are fixed first and frozen inside the snapshot: the hash covers them too.
    number = (register.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    signed_at = timezone.now().replace(microsecond=0)  # as the snapshot records it
    filed_with = register.institution.parent
    filing = {
        "number": number,
        "filed_at": timezone.localtime(signed_at).isoformat(timespec="seconds"),
        "signatory": person(by),
        "filed_with": filed_with.name if filed_with is not None else "",
    }
    snapshot = register_snapshot(institution=register.institution, year=register.year, points=points, filing=filing)
    version = RegisterVersion.objects.create(
        register=register,
        number=number,
        snapshot=snapshot,
        content_hash=content_hash(snapshot),
        signed_by=by,
        signed_at=signed_at,
        filed_with=filed_with,
    )
    audit_record(
        actor=by,
        action="register.file",
        target=register,
        institution=register.institution,
        summary=f"v{number} {version.content_hash[:12]}",
        changes={"version": number, "hash": version.content_hash, "points": len(snapshot["points"])},
    )
    return version


DIFF_FIELDS = ("department", "position", "risk_type", "description", "manifestation", "likelihood", "severity")


def version_diff(older: dict, newer: dict) -> dict:
    """Added, removed and changed points between two snapshots (matched by point id)."""
    before = {p["id"]: p for p in older["points"]}
    after = {p["id"]: p for p in newer["points"]}
    changed = []
    for pk in sorted(before.keys() & after.keys()):
        a, b = before[pk], after[pk]
        fields = {f: [a.get(f), b.get(f)] for f in DIFF_FIELDS if a.get(f) != b.get(f)}
        if a["level"]["name"] != b["level"]["name"]:
            fields["level"] = [a["level"]["name"], b["level"]["name"]]
        if in_line_order(a["controls"]) != in_line_order(b["controls"]):  # format 1 stored them by code
            fields["controls"] = [len(a["controls"]), len(b["controls"])]
        if fields:
            changed.append({"id": pk, "description": b["description"], "fields": fields})
    return {
        "added": [after[pk] for pk in sorted(after.keys() - before.keys())],
        "removed": [before[pk] for pk in sorted(before.keys() - after.keys())],
        "changed": changed,
    }


# --- re-grading -----------------------------------------------------------------------------


@transaction.atomic
def level_proposal_create(*, by, risk_point: RiskPoint, likelihood: int, severity: int, reason: str) -> LevelProposal:
    """The discipline office proposes raising a level at any time, with a reason."""
    access.require(access.is_discipline_office_for(by, risk_point.institution))
    if not reason.strip():
        raise ValidationError(_("Give the reason for raising the level."))
    level = grade_level_for(institution=risk_point.institution, likelihood=likelihood, severity=severity)
    if level.rank >= risk_point.level.rank:
        raise ValidationError(_("The proposed level is not higher than the current one."))
    if LevelProposal.objects.filter(risk_point=risk_point, status=LevelProposal.Status.PENDING).exists():
        raise ValidationError(_("A proposal for this point is already waiting for leadership."))
    proposal = LevelProposal.objects.create(
        risk_point=risk_point,
        likelihood=likelihood,
        severity=severity,
        level=level,
        reason=reason.strip(),
        proposed_by=by,
    )
    audit_record(
        actor=by,
        action="level_proposal.create",
        target=risk_point,
        institution=risk_point.institution,
        summary=proposal.reason[:80],
        changes={"level": [risk_point.level.name, level.name]},
    )
    return proposal


# Once leadership has approved a grade, it is what the notice, the issued register and the filed
# version say: a raised level must go through the register path again (seed 000 篇2: "按规定程序
# 做出调整…存档备案"), so it shows in a new notice and a new filed version's diff.
SETTLED_STATES = (S.APPROVED, S.IN_NOTICE, S.ISSUED)


def refuse_regrade_in_place(point: RiskPoint) -> None:
    """Accepting a proposal re-grades the point in place, which only a point still on its way to
    approval may take. An approved, published or issued point is refused with the way forward: the
    discipline office reopens it for revision and it is graded, approved, published, issued and
    filed again; the proposal stays pending until then."""
    if point.state in SETTLED_STATES:
        raise ValidationError(
            _(
                "This risk point is already approved, published or issued: its level cannot be changed in "
                "place. The discipline office first reopens it for revision (重新定级); the new level is then "
                "graded and approved through the register path and filed as a new version. The proposal "
                "stays pending until then."
            )
        )


@transaction.atomic
def level_proposal_decide(*, by, proposal: LevelProposal, accept: bool, note: str = "") -> LevelProposal:
    """Leadership accepts (the point's level is raised) or rejects a proposal."""
    proposal = (
        LevelProposal.objects.select_for_update(of=("self",))
        .select_related("risk_point__institution")
        .get(pk=proposal.pk)
    )
    point = (
        RiskPoint.objects.select_for_update(of=("self",))
        .select_related("level", "institution")
        .get(pk=proposal.risk_point_id)
    )
    access.require(access.is_leadership_of(by, point.institution))
    if proposal.status != LevelProposal.Status.PENDING:
        raise ValidationError(_("This proposal has already been decided."))
    if accept:
        refuse_regrade_in_place(point)
    proposal.status = LevelProposal.Status.ACCEPTED if accept else LevelProposal.Status.REJECTED
    proposal.decided_by, proposal.decided_at, proposal.decision_note = by, timezone.now(), note
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    changes = {}
    if accept:
        changes = {"level": [point.level.name, proposal.level.name]}
        point.likelihood, point.severity, point.level = proposal.likelihood, proposal.severity, proposal.level
        point.save(update_fields=["likelihood", "severity", "level"])
    audit_record(
        actor=by,
        action="level_proposal.accept" if accept else "level_proposal.reject",
        target=point,
        institution=point.institution,
        summary=note[:80],
        changes=changes,
    )
    return proposal
