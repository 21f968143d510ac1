"""Services of a whole register: decisions, public notice, issue, filing, versions, re-grading.

Each service is one transaction that checks the actor's right, applies the workflow to the
points it covers (risk_registry.workflow) and writes its audit entries.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.queue import enqueue_on_commit
from controls.models import in_line_order
from risk_registry import access
from risk_registry.models import (
    Decision,
    DecisionRules,
    LevelProposal,
    NoticeComment,
    Register,
    RegisterVersion,
    RiskPoint,
    RiskPointState,
)
from risk_registry.organisation import work
from risk_registry.organisation.models import ActorKind, AuditEntry, Institution, Membership, Role
from risk_registry.organisation.names import person
from risk_registry.organisation.services import apply_changes, audit_record, grade_level_for
from risk_registry.services import STALE_POINT_MESSAGE
from risk_registry.workflow.attachments import attach, check_uploads
from risk_registry.workflow.snapshots import content_hash, register_snapshot
from risk_registry.workflow.transitions import Change, WorkflowConflict, transition_apply

S = RiskPointState
DEFAULT_NOTICE_DAYS = 5


def register_for(*, institution: Institution, year: int) -> Register:
    """The register of an institution and year, created on first use (by an action that writes)."""
    register, _created = Register.objects.get_or_create(institution=institution, year=year)
    return register


def register_get(*, institution: Institution, year: int) -> Register:
    """The register for reading: the saved one, or an unsaved empty one (a GET writes nothing)."""
    register = Register.objects.filter(institution=institution, year=year).first()
    if register is None:
        return Register(institution=institution, year=year)
    register.institution = institution  # the caller's, with what it joined: not read again
    return register


def register_points(register: Register) -> QuerySet[RiskPoint]:
    return RiskPoint.objects.filter(institution_id=register.institution_id, year=register.year)


def _ids_in_states(register: Register, states: Iterable[str], point_ids: Iterable[int] | None) -> list[int]:
    points = register_points(register).filter(state__in=list(states))
    if point_ids is not None:
        points = points.filter(pk__in=list(point_ids))
    return list(points.values_list("pk", flat=True))


# --- decisions ------------------------------------------------------------------------------


def decision_rules_for(institution: Institution) -> DecisionRules:
    """The institution's rules, or the default ones (unsaved) when it has set none."""
    rules = DecisionRules.objects.filter(institution=institution).first()
    return rules or DecisionRules(institution=institution)


def leadership_team_size(institution: Institution, rules: DecisionRules | None = None) -> int:
    """The size of the leadership team: as configured, else the leaders recorded in the system."""
    rules = rules or decision_rules_for(institution)
    if rules.team_size:
        return rules.team_size
    return (
        Membership.objects.filter(institution=institution, role__in=(Role.LEADERSHIP, Role.PRINCIPAL))
        .values("user_id")
        .distinct()
        .count()
    )


@transaction.atomic
def decision_rules_update(
    *,
    by,
    institution: Institution,
    team_size: int | None,
    quorum: str,
    majority: str,
    superior_approval: bool = False,
    measures_after_approval: bool = False,
) -> DecisionRules:
    """The discipline office sets how the institution's meetings decide (audited)."""
    access.require(access.is_discipline_office_for(by, institution))
    if quorum not in DecisionRules.Quorum.values or majority not in DecisionRules.Majority.values:
        raise ValidationError(_("Choose a quorum and a majority from the list."))
    if team_size is not None and not 1 <= team_size <= 99:
        raise ValidationError(_("The leadership team has from 1 to 99 members."))
    rules, _created = DecisionRules.objects.select_for_update().get_or_create(institution=institution)
    changes = apply_changes(
        rules,
        {
            "team_size": team_size,
            "quorum": quorum,
            "majority": majority,
            "superior_approval": superior_approval,
            "measures_after_approval": measures_after_approval,
        },
    )
    if changes:
        rules.save()
        audit_record(
            actor=by,
            action="decision_rules.update",
            target=rules,
            institution=institution,
            changes=changes,
        )
    return rules


@dataclass(frozen=True)
class Vote:
    """The meeting's count: members present, votes for, against and abstaining."""

    present: int
    votes_for: int
    against: int
    abstaining: int


def _check_vote(*, vote: Vote, approving: bool, team: int) -> None:
    counts = (vote.present, vote.votes_for, vote.against, vote.abstaining)
    if any(v is None for v in counts):
        raise ValidationError(_("Record how many were present and how many voted for, against and abstained."))
    if any(v < 0 for v in counts):
        raise ValidationError(_("Vote counts cannot be negative."))
    if vote.present < 1:
        raise ValidationError(_("Record how many members were present."))
    if vote.votes_for + vote.against + vote.abstaining > vote.present:
        raise ValidationError(
            _("%(votes)d votes were counted but only %(present)d members were present.")
            % {"votes": vote.votes_for + vote.against + vote.abstaining, "present": vote.present}
        )
    if approving and vote.present > team:
        raise ValidationError(
            _("%(present)d members present, but the leadership team has %(team)d members.")
            % {"present": vote.present, "team": team}
        )


@transaction.atomic
def register_decide(
    *,
    by,
    register: Register,
    kind: str,
    meeting: str,
    held_on: datetime.date,
    participants: str,
    decision: str,
    vote: Vote,
    meeting_kind: str = Decision.MeetingKind.OTHER,
    point_ids: Iterable[int] | None = None,
    attachments: Iterable = (),
) -> Decision:
    """Record a meeting: approval (审定) by leadership, or the optional democratic appraisal
    (民主评议) recorded by the discipline office. The institution's rules decide whether it passed
    (approval: a quorum of the leadership team, and the majority); a decision that did not pass is
    recorded as such and moves no point. ``point_ids`` are the points the recorder was shown: the
    decision covers exactly those, and is refused if one of them has changed state meanwhile.
    ``attachments`` (uploaded files: the minutes) are checked before anything is written and frozen
    with the decision."""
    register = Register.objects.select_for_update(of=("self",)).select_related("institution").get(pk=register.pk)
    approving = kind == Decision.Kind.APPROVAL
    if kind not in Decision.Kind.values:
        raise ValidationError(_("Unknown kind of decision."))
    allowed = (
        access.is_leadership_of(by, register.institution)
        if approving
        else access.is_discipline_office_for(by, register.institution)
    )
    access.require(allowed)
    meeting, participants, decision = meeting.strip(), (participants or "").strip(), (decision or "").strip()
    if not meeting:
        raise ValidationError(_("Name the meeting that decided."))
    if meeting_kind not in Decision.MeetingKind.values:
        raise ValidationError(_("Choose the kind of meeting."))
    if held_on > timezone.localdate():
        raise ValidationError(_("The meeting cannot be in the future."))
    if not participants:
        raise ValidationError(_("List the participants present."))
    if not decision:
        raise ValidationError(_("Write the decision as the meeting took it."))
    uploads = check_uploads(attachments)
    rules = decision_rules_for(register.institution)
    team = leadership_team_size(register.institution, rules)
    _check_vote(vote=vote, approving=approving, team=team)
    sources = (S.DEFINED, S.APPRAISED) if approving else (S.DEFINED,)
    waiting = _ids_in_states(register, sources, None)
    if not waiting:
        raise ValidationError(_("No risk point of this register is waiting for this decision."))
    if point_ids is None:
        ids = waiting
    else:
        ids = sorted(set(point_ids))
        if not ids:
            raise ValidationError(_("Choose at least one risk point."))
        gone = sorted(set(ids) - set(waiting))
        if gone:
            raise WorkflowConflict(
                _("Someone else has just changed %(points)s. Reload the page to see the current state.")
                % {"points": "、".join(f"#{pk}" for pk in gone)}
            )
    quorate = not approving or rules.has_quorum(present=vote.present, team=team)
    passed = quorate and rules.passes(present=vote.present, votes_for=vote.votes_for, votes_against=vote.against)
    record = Decision.objects.create(
        register=register,
        kind=kind,
        meeting=meeting,
        meeting_kind=meeting_kind,
        held_on=held_on,
        participants=participants,
        present=vote.present,
        team_size=team if approving else None,
        decision=decision,
        votes_for=vote.votes_for,
        votes_against=vote.against,
        votes_abstaining=vote.abstaining,
        outcome=Decision.Outcome.PASSED if passed else Decision.Outcome.NOT_PASSED,
        rules={"quorum": rules.quorum if approving else None, "majority": rules.majority, "quorate": quorate},
        recorded_by=by,
    )
    record.points.set(ids)
    files = attach(decision=record, uploads=uploads, by=by)
    if passed:
        transition_apply(
            by=by,
            name="approve" if approving else "appraise",
            changes=[Change(point_id=pk) for pk in ids],
            action_data={"decision": record.pk, "meeting": record.meeting},
        )
        action = "register.approve" if approving else "register.appraise"
    else:
        action = "register.not_passed"
    audit_record(
        actor=by,
        action=action,
        target=register,
        institution=register.institution,
        summary=f"{record.meeting} ({len(ids)})",
        changes={
            "decision": record.pk,
            "kind": kind,
            "points": ids,
            "votes": [vote.votes_for, vote.against, vote.abstaining],
            "present": vote.present,
            "outcome": record.outcome,
            **({"attachments": [f.name for f in files]} if files else {}),
        },
    )
    return record


# --- the superior office's approval (审议确定), where the institution's rules ask for it ---------


def superior_pending(register: Register) -> list[int]:
    """Approved points the superior office has not approved at their current version: a point
    returned and approved again since (its version moved) needs the superior's approval again.
    Two queries, whatever the number of points."""
    covered: set[tuple[int, int]] = set()
    decisions = (
        Decision.objects.none()
        if register.pk is None
        else Decision.objects.filter(
            register=register, kind=Decision.Kind.SUPERIOR, outcome=Decision.Outcome.PASSED
        ).values_list("point_versions", flat=True)
    )
    for versions in decisions:
        covered |= {(int(pk), version) for pk, version in versions.items()}
    approved = register_points(register).filter(state=S.APPROVED).order_by("pk").values_list("pk", "version")
    return [pk for pk, version in approved if (pk, version) not in covered]


def refuse_without_superior_approval(register: Register, ids: list[int]) -> None:
    """Where the institution's rules ask for it, no approved point (``ids``, those to publish) goes
    to notice before the superior office has approved it at its current version."""
    if not ids or not decision_rules_for(register.institution).superior_approval:
        return
    waiting = superior_pending(register)
    if waiting:
        raise ValidationError(
            _(
                "The institution's rules ask the superior office to approve the grades before the notice: "
                "%(points)s are not approved by it yet."
            )
            % {"points": "、".join(f"#{pk}" for pk in waiting)}
        )


@transaction.atomic
def register_superior_decide(
    *,
    by,
    register: Register,
    meeting: str,
    held_on: datetime.date,
    decision: str,
    passed: bool,
    point_versions: dict[int, int],
    attachments: Iterable = (),
) -> Decision:
    """The superior office approves the grades of the approved points (审议确定, the Jiuquan plan:
    "报上一级…领导小组办公室审议确定…公示") or does not (recorded, nothing changes; the institution
    then returns the points through its own steps). ``point_versions`` are the points and versions the
    superior was shown: exactly the points waiting for it, unchanged since, or the record is refused."""
    register = Register.objects.select_for_update(of=("self",)).select_related("institution").get(pk=register.pk)
    access.require(access.is_superior_office_for(by, register.institution))
    if not decision_rules_for(register.institution).superior_approval:
        raise ValidationError(_("This institution's rules do not ask for the superior office's approval."))
    meeting, decision = meeting.strip(), (decision or "").strip()
    if not meeting:
        raise ValidationError(_("Name the meeting that decided."))
    if held_on > timezone.localdate():
        raise ValidationError(_("The meeting cannot be in the future."))
    if not decision:
        raise ValidationError(_("Write the decision as the meeting took it."))
    uploads = check_uploads(attachments)
    waiting = set(superior_pending(register))
    if not waiting:
        raise ValidationError(_("No risk point of this register is waiting for this decision."))
    current = dict(register_points(register).filter(pk__in=list(point_versions)).values_list("pk", "version"))
    changed = sorted(
        pk for pk, version in point_versions.items() if pk not in waiting or current.get(pk) != version
    ) + sorted(waiting - set(point_versions))
    if changed:
        raise WorkflowConflict(
            _("Someone else has just changed %(points)s. Reload the page to see the current state.")
            % {"points": "、".join(f"#{pk}" for pk in changed)}
        )
    record = Decision.objects.create(
        register=register,
        kind=Decision.Kind.SUPERIOR,
        meeting=meeting,
        meeting_kind=Decision.MeetingKind.OTHER,
        held_on=held_on,
        decision=decision,
        outcome=Decision.Outcome.PASSED if passed else Decision.Outcome.NOT_PASSED,
        point_versions={str(pk): version for pk, version in sorted(point_versions.items())},
        recorded_by=by,
    )
    record.points.set(sorted(point_versions))
    files = attach(decision=record, uploads=uploads, by=by)
    audit_record(
        actor=by,
        action="register.superior_approve" if passed else "register.not_passed",
        target=register,
        institution=register.institution,
        summary=f"{record.meeting} ({len(point_versions)})",
        changes={
            "decision": record.pk,
            "kind": record.kind,
            "points": sorted(point_versions),
            "outcome": record.outcome,
            **({"attachments": [f.name for f in files]} if files else {}),
        },
    )
    return record


# --- public notice --------------------------------------------------------------------------


@transaction.atomic
def notice_publish(
    *, by, register: Register, days: int = DEFAULT_NOTICE_DAYS, allow_anonymous: bool = False, reason: str = ""
) -> Register:
    """Publish the approved points inside the institution for ``days`` days (公示).

    A notice already published keeps its start; publishing again (newly approved points, or more
    time for opinions) may only move its end later, never earlier — people were told until when
    they may comment — and a later end needs a reason, audited as ``register.notice_extend``."""
    access.require(access.is_discipline_office_for(by, register.institution))
    if not 1 <= days <= 60:
        raise ValidationError(_("A notice period lasts from 1 to 60 days."))
    register = Register.objects.select_for_update(of=("self",)).get(pk=register.pk)
    reason = (reason or "").strip()
    ids = _ids_in_states(register, (S.APPROVED,), None)
    refuse_without_superior_approval(register, ids)
    in_notice = register_points(register).filter(state=S.IN_NOTICE).exists()
    current_end = register.notice_ends_on
    running = in_notice and current_end is not None
    if not ids and not running:
        raise ValidationError(_("No approved risk point to publish."))
    today = timezone.localdate()
    ends_on = today + datetime.timedelta(days=days)
    extended_from = None
    if running and current_end is not None:
        if ends_on < current_end:
            raise ValidationError(
                _(
                    "The notice runs until %(end)s: publishing again may only extend it, never shorten it "
                    "(the new end would be %(new)s)."
                )
                % {"end": current_end.isoformat(), "new": ends_on.isoformat()}
            )
        if ends_on > current_end:
            if not reason:
                raise ValidationError(_("Give the reason for extending the notice period."))
            extended_from = current_end
        elif not ids:
            raise ValidationError(_("Nothing to publish: to extend the notice, choose a later end."))
    if ids:
        transition_apply(by=by, name="publish", changes=[Change(point_id=pk) for pk in ids])
    if not running:
        register.notice_starts_on = today
    register.notice_ends_on = ends_on
    register.allow_anonymous_comments = allow_anonymous or (running and register.allow_anonymous_comments)
    register.save(update_fields=["notice_starts_on", "notice_ends_on", "allow_anonymous_comments"])
    if extended_from is not None:
        audit_record(
            actor=by,
            action="register.notice_extend",
            target=register,
            institution=register.institution,
            summary=reason,
            changes={"notice_ends_on": [extended_from.isoformat(), ends_on.isoformat()], "reason": reason},
        )
    if ids:
        audit_record(
            actor=by,
            action="register.publish",
            target=register,
            institution=register.institution,
            summary=f"{register.notice_starts_on} – {register.notice_ends_on}",
            changes={"points": len(ids), "days": days, "anonymous": register.allow_anonymous_comments},
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


def comment_day() -> datetime.datetime:
    """When a comment was left, as precisely as it is kept: the start of the local day."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


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
    # Only a point published in this notice (read again: the caller's copy may be stale). A draft
    # or a point still under review must not be nameable, let alone confirmed, by a comment.
    if risk_point is not None and not register_points(register).filter(pk=risk_point.pk, state=S.IN_NOTICE).exists():
        raise ValidationError(_("The risk point is not in this register."))
    day = comment_day()
    comment = NoticeComment.objects.create(
        register=register, risk_point=risk_point, author=None if anonymous else by, text=text.strip(), created_at=day
    )
    audit_record(
        actor=None if anonymous else by,
        action="notice_comment.create",
        target=comment,
        institution=register.institution,
        summary=comment.text[:80],
        at=day,
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
    discipline office, or None for the scheduler's daily run, recorded as the system itself."""
    today = today or timezone.localdate()
    register = Register.objects.select_for_update(of=("self",)).select_related("institution").get(pk=register.pk)
    if by is not None:
        access.require(access.is_discipline_office_for(by, register.institution))
    if register.notice_ends_on is None or today <= register.notice_ends_on:
        raise ValidationError(_("The notice period has not ended yet."))
    ids = _ids_in_states(register, (S.IN_NOTICE,), None)
    if not ids:
        return []
    system = by is None
    points = transition_apply(by=by, name="issue", changes=[Change(point_id=pk) for pk in ids], system=system)
    audit_record(
        actor=by,
        actor_kind=ActorKind.SYSTEM if system else ActorKind.PERSON,
        action="register.issue",
        target=register,
        institution=register.institution,
        changes={"points": len(ids)},
    )
    return points


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

FILED_PDF_TASK = "risk_registry.documents.tasks.filed_pdf_keep"


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
    work.work_changed(work.FILING, institution_ids=[register.institution_id], year=register.year)
    # Its PDF is rendered once by a worker and kept; downloads serve the kept bytes (documents/filed.py).
    enqueue_on_commit(FILED_PDF_TASK, version.pk)
    return version


def _control_changes(older: list[dict], newer: list[dict]) -> dict[str, list[dict]]:
    """The controls only one of two snapshots has (a revised control is one removed, one added)."""

    def key(control: dict) -> tuple:
        return tuple(
            str(control.get(name, "")) for name in ("line", "measure", "owner", "frequency", "evidence", "rule")
        )

    before, after = [key(c) for c in older], [key(c) for c in newer]
    return {
        "added": in_line_order([c for c in newer if key(c) not in before]),
        "removed": in_line_order([c for c in older if key(c) not in after]),
    }


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
        controls = None
        if in_line_order(a["controls"]) != in_line_order(b["controls"]):  # format 1 stored them by code
            fields["controls"] = [len(a["controls"]), len(b["controls"])]
            controls = _control_changes(a["controls"], b["controls"])
        if fields:
            changed.append({"id": pk, "description": b["description"], "fields": fields, "controls": controls})
    return {
        "added": [after[pk] for pk in sorted(after.keys() - before.keys())],
        "removed": [before[pk] for pk in sorted(before.keys() - after.keys())],
        "changed": changed,
    }


LEVEL_ACTIONS = ("risk_point.define", "risk_point.update", "level_proposal.accept")
CONTROLS_ACTION = "control_revision.approve"  # risk_registry.workflow.revisions


def version_diff_explained(older: RegisterVersion, newer: RegisterVersion) -> dict:
    """``version_diff`` of two filed versions, each changed level with the audited changes that
    made it between the two filings: who set which level, and why (an override's reason, a
    proposal's note). One query for all the points."""
    diff = version_diff(older.snapshot, newer.snapshot)
    ids = [c["id"] for c in diff["changed"] if "level" in c["fields"] or "controls" in c["fields"]]
    # Between the two filings' own audit entries (``signed_at`` is kept to the second, and a
    # re-grade may fall within the second of a filing): the entries' ids follow their order.
    filings = dict(
        AuditEntry.objects.filter(
            action="register.file",
            target_type="risk_registry.register",
            target_id=newer.register_id,
            changes__version__in=[older.number, newer.number],
        ).values_list("changes__version", "id")
    )
    after, up_to = filings.get(older.number), filings.get(newer.number)
    window = Q(id__gt=after, id__lt=up_to) if after and up_to else Q(at__gt=older.signed_at, at__lte=newer.signed_at)
    entries = AuditEntry.objects.filter(
        window,
        Q(action__in=LEVEL_ACTIONS, changes__has_key="level") | Q(action=CONTROLS_ACTION),
        target_type="risk_registry.riskpoint",
        target_id__in=ids,
    ).order_by("at", "id")
    reasons: dict[int, list[dict]] = {}
    revisions: dict[int, list[dict]] = {}
    for entry in entries:
        if entry.action == CONTROLS_ACTION:
            revisions.setdefault(entry.target_id, []).append(
                {"action": entry.action_label, "reason": entry.changes.get("reason") or entry.summary}
            )
            continue
        override = entry.changes.get("override") or {}
        reasons.setdefault(entry.target_id, []).append(
            {
                "action": entry.action_label,
                "level": entry.changes["level"],
                "reason": override.get("reason") or entry.changes.get("reason") or entry.summary,
                "override": bool(override),
            }
        )
    for change in diff["changed"]:
        change["level_changes"] = reasons.get(change["id"], [])
        change["control_revisions"] = revisions.get(change["id"], [])
    return diff


# --- re-grading -----------------------------------------------------------------------------


@transaction.atomic
def level_proposal_create(*, by, risk_point: RiskPoint, likelihood: int, severity: int, reason: str) -> LevelProposal:
    """The discipline office proposes raising a level at any time after submission, with a reason."""
    access.require(access.can_propose_level(by, risk_point))
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
def level_proposal_decide(
    *, by, proposal: LevelProposal, accept: bool, note: str = "", version: int | None = None
) -> LevelProposal:
    """Leadership accepts (the point's level is raised) or rejects a proposal. ``version`` is the
    point's version the leader saw: a point changed since is refused, and accepting bumps it."""
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
    if version is not None and version != point.version:
        raise WorkflowConflict(str(STALE_POINT_MESSAGE))
    if accept:
        refuse_regrade_in_place(point)
    proposal.status = LevelProposal.Status.ACCEPTED if accept else LevelProposal.Status.REJECTED
    proposal.decided_by, proposal.decided_at, proposal.decision_note = by, timezone.now(), note
    proposal.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    changes = {}
    if accept:
        changes = {"level": [point.level.name, proposal.level.name]}
        point.likelihood, point.severity, point.level = proposal.likelihood, proposal.severity, proposal.level
        point.graded_directly = False
        point.version += 1  # read under the row lock
        point.save(update_fields=["likelihood", "severity", "graded_directly", "level", "version", "updated_at"])
    audit_record(
        actor=by,
        action="level_proposal.accept" if accept else "level_proposal.reject",
        target=point,
        institution=point.institution,
        summary=note[:80],
        changes=changes,
    )
    return proposal


@transaction.atomic
def level_proposals_create(
    *, by, register: Register, versions: dict[int, int | None], likelihood: int, severity: int, reason: str
) -> list[LevelProposal]:
    """The register table's bulk 提级: one proposal per selected point (``versions``: point id →
    the version the user saw), all or nothing. The points are locked in id order and each is
    checked as ``level_proposal_create`` checks one; a point changed since it was shown is refused."""
    points = list(
        RiskPoint.objects.select_for_update(of=("self",))
        .filter(pk__in=list(versions), institution_id=register.institution_id, year=register.year)
        .select_related("institution", "level")
        .order_by("pk")
    )
    if not points or len(points) != len(versions):
        raise ValidationError(_("Choose at least one risk point of this register."))
    stale = [p for p in points if versions[p.pk] is not None and versions[p.pk] != p.version]
    if stale:
        raise WorkflowConflict(
            _("Someone else has just changed %(points)s. Reload the page to see the current state.")
            % {"points": "、".join(f"#{p.pk}" for p in stale)}
        )
    proposals = []
    for point in points:  # few rows (a selection), each with its own checks and audit entry
        try:
            proposals.append(
                level_proposal_create(by=by, risk_point=point, likelihood=likelihood, severity=severity, reason=reason)
            )
        except ValidationError as error:
            raise ValidationError([f"#{point.pk}: {message}" for message in error.messages]) from error
    return proposals
