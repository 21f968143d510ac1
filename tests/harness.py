"""The one permission harness: every login-protected route × every persona of the shared world.

Each ``Case`` names a route (its URL name), a method, how to build the URL and the form data
from a ``Scene`` (the session's world plus what the route needs: a register in notice, a filed
version, a cycle, an export job …, built on first use inside the test's transaction), and what
each persona gets, written with the one ``expect()``: the allowed personas 200 (or 302), those
who may see the object but not act 403, everyone else 404 (the object is outside their scope).

``tests/test_harness.py`` runs the cases and checks, besides the status:

- a GET, and a refused request (403, 404, or a form sent back with its error), writes nothing:
  PostgreSQL's counters of the current transaction (``pg_stat_xact_user_tables``: rows inserted,
  updated, deleted per table) are equal before and after the request. The counters also count
  writes rolled back by a savepoint, so "refused" means refused before anything was attempted;
- an allowed POST shows its ``effect``: the rows it must insert, update or delete (by model),
  the audit entry with them, and where it matters a check of the row itself (a state, a version);
- every login-protected route of the URL resolver is in ``CASES`` (route completeness): a new
  route fails the suite until someone writes down who may use it (Django's admin, staff only,
  is exempt as a namespace; its guard is one case).

Where today's code writes on a GET, the case says ``get_writes``: those (case, persona) pairs are
expected to fail (``xfail(strict=True)``) until the leaks branch makes those pages read-only.
"""

from __future__ import annotations

import datetime
import io
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from assessments import unit as unit_services
from assessments.models import (
    Checklist,
    ChecklistItem,
    Cycle,
    Notification,
    SelfAssessment,
    Task,
    UnitAssessment,
    UnitEvidenceFile,
    UnitOutcome,
)
from assessments.rating import DEFAULT_INDICATORS, rating_invite, rating_round_open
from assessments.services import cycle_generate_tasks, cycle_launch, default_phases
from assessments.survey_models import Rating, RatingInvitation, RatingRound, SurveyCode, SurveyRound
from assessments.surveys import survey_codes_issue, survey_round_open
from assessments.unit_presets import install_checklist_presets
from controls import attachments
from controls.models import Control, ControlRevision, Rule
from controls.services import rule_attachment_set, rule_create
from integrity_warnings.grades import scale_of
from integrity_warnings.models import Disposition, ReportAttachment, WarningChannel, WarningItem
from integrity_warnings.services import report_attachment_add
from positions.models import Holding, PowerItem
from risk_registry.documents import import_jobs
from risk_registry.documents.models import ExportJob
from risk_registry.documents.rendering import export_dir
from risk_registry.documents.services import import_mapping_complete
from risk_registry.models import (
    Decision,
    DecisionAttachment,
    DecisionRules,
    LevelProposal,
    NoticeComment,
    PostGrade,
    Register,
    RegisterVersion,
    RiskPoint,
    RiskPointState,
)
from risk_registry.organisation.models import AuditEntry, GradingScheme, RiskType, Role
from risk_registry.organisation.services import membership_grant
from risk_registry.services import post_grades_refresh
from risk_registry.tests.test_documents_import import good_rows, workbook_bytes
from risk_registry.tests.wizard_layouts import market_xlsx
from risk_registry.workflow.attachments import attachments_dir
from risk_registry.workflow.registers import level_proposal_create, notice_comment_add
from risk_registry.workflow.revisions import control_revision_propose
from risk_registry.workflow.snapshots import content_hash, register_snapshot
from tests.test_control_revisions import revision_form as point_revision_form
from tests.test_power_import import good_rows as power_good_rows
from tests.test_power_import import workbook_bytes as power_workbook_bytes
from tests.warnings_helpers import grade, inspection_item, issue, petition_item
from tests.warnings_helpers import step as warning_step

PERSONAS = (
    "holder",
    "holder2",
    "holder3",
    "head",
    "discipline",
    "leader",
    "principal",
    "superior",
    "outsider",
    "outsider_holder",
    "nobody",
)
PASSWORD = "persona-password-1"
S = RiskPointState

# Who is who (see the root conftest): staff of bureau A, those who see bureau A, bureau B.
A_STAFF = frozenset({"holder", "holder2", "holder3", "head", "discipline", "leader", "principal"})
SEES_A = A_STAFF | {"superior"}
SEES_B = frozenset({"outsider", "outsider_holder", "superior"})
OVERSIGHT_A = frozenset({"discipline", "leader", "principal", "superior"})
CYCLE_VIEWERS = frozenset({"head", "discipline", "leader", "principal", "superior"})
AUDIT_READERS = frozenset({"discipline", "superior", "outsider"})
CYCLE_LAUNCHERS = frozenset({"discipline", "superior", "outsider"})

# Not in the matrix, on purpose: Django's admin is staff-only and guarded by one AdminSite.admin_view
# (no persona is staff; the "admin index" case shows the guard); login and health are public.
EXEMPT_NAMESPACES = {"admin": "Django's admin: staff only, one guard for every page (see the admin index case)"}


class Expected(dict):
    """Status per persona; ``ok`` are the personas whose request is carried out (its effect shown)."""

    ok: frozenset[str] = frozenset()


def expect(
    ok: Iterable[str] = (), *, status: int = 200, forbidden: Iterable[str] = (), refused: Iterable[str] = ()
) -> Expected:
    """``ok`` get ``status``, ``forbidden`` (may see, may not act) 403, ``refused`` 200 (the form
    comes back with its error: e.g. nothing of theirs to act on), everyone else 404."""
    ok, forbidden, refused = set(ok), set(forbidden), set(refused)
    assert not (ok & forbidden or ok & refused or forbidden & refused), (ok, forbidden, refused)
    expected = Expected(
        {p: status if p in ok else 403 if p in forbidden else 200 if p in refused else 404 for p in PERSONAS}
    )
    expected.ok = frozenset(ok)
    return expected


def everyone(status: int = 200) -> Expected:
    return expect(PERSONAS, status=status)


# --- what an allowed write must show ---------------------------------------------------------


def table(label: str) -> str:
    return apps.get_model(label)._meta.db_table


def table_counters() -> dict[str, tuple[int, int, int]]:
    """Rows inserted, updated and deleted per table by the current transaction so far (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
        )
        return {name: (ins, upd, dele) for name, ins, upd, dele in cursor.fetchall()}


def writes_between(before: dict, after: dict) -> dict[str, tuple[int, int, int]]:
    """The writes of one request: {table: (inserted, updated, deleted)}, tables it wrote only."""
    diff = {}
    for name, counts in after.items():
        delta = tuple(a - b for a, b in zip(counts, before.get(name, (0, 0, 0)), strict=True))
        if any(delta):
            diff[name] = delta
    return diff


@dataclass(frozen=True)
class Writes:
    """An allowed write's effect: the models it inserts, updates or deletes rows of, and a check
    of the rows themselves (``then(scene)`` asserts, after the request)."""

    inserted: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    then: Callable[[Scene], object] | None = None
    nothing: str = ""  # an allowed POST that writes no row says why (a preview, a cookie)

    def check(self, scene: Scene, diff: dict[str, tuple[int, int, int]]) -> None:
        if self.nothing:
            assert diff == {}, f"{self.nothing}, yet it wrote {diff}"
        for position, labels in enumerate((self.inserted, self.updated, self.deleted)):
            for label in labels:
                verb = ("inserted into", "updated", "deleted from")[position]
                assert diff.get(table(label), (0, 0, 0))[position] > 0, f"nothing {verb} {label}; wrote {diff}"
        if self.then is not None:
            self.then(scene)


def writes(*inserted: str, updated: Iterable[str] = (), deleted: Iterable[str] = (), then=None) -> Writes:
    return Writes(tuple(inserted), tuple(updated), tuple(deleted), then)


AUDIT = "organisation.AuditEntry"


def state_of(point: str, state: str):
    def then(scene: Scene) -> None:
        assert RiskPoint.objects.get(pk=getattr(scene.w, point).pk).state == state

    return then


# --- the scene: the world and what each route needs --------------------------------------------


class Scene:
    """The session's world (``w``), the persona logged in (``me``) and objects built on first use.

    Everything is written inside the test's transaction (rolled back after it) and before the
    request, so the request's own writes are the only ones its counters show.
    """

    def __init__(self, world, persona: str | None, client) -> None:
        self.w = world
        self.persona = persona
        self.me = getattr(world, persona) if persona else None
        self.client = client
        self.files: list[Path] = []

    def close(self) -> None:
        for path in self.files:
            path.unlink(missing_ok=True)

    def _points(self, *points: RiskPoint, state: str) -> None:
        RiskPoint.objects.filter(pk__in=[p.pk for p in points]).update(state=state)

    @cached_property
    def register(self) -> Register:
        """Bureau A's register of 2026 (the world itself has none: today's pages create it on GET)."""
        return Register.objects.create(institution=self.w.a, year=2026)

    @cached_property
    def defined(self) -> Register:
        """Bureau A's register with its submitted point defined (定级), waiting for approval."""
        self._points(self.w.submitted, state=S.DEFINED)
        return self.register

    @cached_property
    def reviewed(self) -> Register:
        """Bureau A's register with its submitted point reviewed by the department (部门评查)."""
        self._points(self.w.submitted, state=S.REVIEWED)
        return self.register

    @cached_property
    def approved(self) -> Register:
        self._points(self.w.submitted, state=S.APPROVED)
        return self.register

    @cached_property
    def decision_attachment(self) -> DecisionAttachment:
        """The minutes (a PDF) of an appraisal meeting of bureau A's register, on disk."""
        decision = Decision.objects.create(
            register=self.register,
            kind=Decision.Kind.APPRAISAL,
            meeting="民主评议会",
            held_on=datetime.date(2026, 1, 5),
            recorded_by=self.w.discipline,
        )
        stored_as = f"{decision.pk}-{uuid.uuid4().hex}.pdf"
        path = attachments_dir() / stored_as
        path.write_bytes(MINUTES_PDF)
        self.files.append(path)
        return DecisionAttachment.objects.create(
            decision=decision,
            name="民主评议会议纪要.pdf",
            content_type="application/pdf",
            size=len(MINUTES_PDF),
            sha256="0" * 64,
            stored_as=stored_as,
            uploaded_by=self.w.discipline,
        )

    @cached_property
    def superior_waiting(self) -> Register:
        """Bureau A asks the superior office to approve the grades (审议确定): its approved point waits."""
        DecisionRules.objects.create(institution=self.w.a, superior_approval=True)
        return self.approved

    def _notice(self, starts: int, ends: int) -> Register:
        self._points(self.w.submitted, self.w.finance_point, state=S.IN_NOTICE)
        today = timezone.localdate()
        register = self.register
        register.notice_starts_on = today + datetime.timedelta(days=starts)
        register.notice_ends_on = today + datetime.timedelta(days=ends)
        register.save(update_fields=["notice_starts_on", "notice_ends_on"])
        return register

    @cached_property
    def in_notice(self) -> Register:
        """In public notice (公示) from today for five days, with two points."""
        return self._notice(0, 5)

    @cached_property
    def notice_ended(self) -> Register:
        return self._notice(-6, -1)

    @cached_property
    def issued(self) -> Register:
        """Every point of bureau A's 2026 register issued (印发): ready to be filed."""
        RiskPoint.objects.filter(institution=self.w.a, year=2026).update(state=S.ISSUED)
        return self.register

    @cached_property
    def version(self) -> RegisterVersion:
        """Version 1 of bureau A's register, filed with the county."""
        points = RiskPoint.objects.filter(institution=self.w.a, year=2026).exclude(state=S.DRAFT)
        snapshot = register_snapshot(institution=self.w.a, year=2026, points=points)
        return RegisterVersion.objects.create(
            register=self.register,
            number=1,
            snapshot=snapshot,
            content_hash=content_hash(snapshot),
            signed_by=self.w.principal,
            signed_at=timezone.now(),
            filed_with=self.w.county,
        )

    @cached_property
    def comment(self) -> NoticeComment:
        return notice_comment_add(by=self.w.holder2, register=self.in_notice, text="建议补充防控措施")

    @cached_property
    def proposal(self) -> LevelProposal:
        """The discipline office proposes raising the submitted point (2×2) to 3×3."""
        return level_proposal_create(
            by=self.w.discipline, risk_point=self.w.submitted, likelihood=3, severity=3, reason="多次被举报"
        )

    @cached_property
    def measures_after_approval(self) -> RiskPoint:
        """Bureau A lets measures follow the approved grades; its submitted point is approved."""
        DecisionRules.objects.create(institution=self.w.a, measures_after_approval=True)
        self._points(self.w.submitted, state=S.APPROVED)
        return self.w.submitted

    @cached_property
    def control_revision(self) -> ControlRevision:
        """The holder proposes a monitoring control for the approved point (waiting for review)."""
        point = self.measures_after_approval
        return control_revision_propose(
            by=self.w.holder,
            risk_point=point,
            controls=[{"line": "monitoring", "measure": "纪检员每月抽查审批档案", "owner": "纪检员"}],
            reason="按审定的等级补充中期监控措施",
        )

    @cached_property
    def post_grades(self) -> dict[int, PostGrade]:
        """Bureau A's posts' proposed grades of 2026, by position id (nothing decided yet)."""
        post_grades_refresh(by=self.w.discipline, institution=self.w.a, year=2026)
        return {g.position_id: g for g in PostGrade.objects.filter(institution=self.w.a, year=2026)}

    @cached_property
    def cycle(self) -> Cycle:
        """Bureau A's cycle of 2026, launched by its discipline office, with its tasks."""
        launched_on = datetime.date(2026, 1, 15)  # before the first deadline of the default phases
        cycle = cycle_launch(by=self.w.discipline, institution=self.w.a, year=2026, today=launched_on)
        cycle_generate_tasks(cycle_id=cycle.pk)
        return cycle

    @cached_property
    def survey_round(self) -> SurveyRound:
        """Bureau A's survey round of 2026 with two unused codes, opened by its discipline office."""
        survey_round = survey_round_open(by=self.w.discipline, institution=self.w.a, year=2026, name="环境调查")
        survey_codes_issue(
            by=self.w.discipline, survey_round=survey_round, questionnaire="external", group="business", count=2
        )
        return survey_round

    @cached_property
    def rating_round(self) -> RatingRound:
        """Bureau A's rating of 审批岗, with holder2 invited in tier 1."""
        rating_round = rating_round_open(
            by=self.w.discipline, institution=self.w.a, year=2026, name="班子测评", positions=[self.w.position]
        )
        rating_invite(
            by=self.w.discipline, rating_round=rating_round, position=self.w.position, rater=self.w.holder2, tier=1
        )
        return rating_round

    @cached_property
    def invitation(self) -> RatingInvitation:
        return RatingInvitation.objects.get(round=self.rating_round, rater=self.w.holder2)

    @cached_property
    def unread(self) -> Notification:
        """An unread reminder for the persona logged in, about a task of the cycle."""
        task = Task.objects.filter(cycle=self.cycle).first()
        assert task is not None
        mine = self.me or self.w.holder
        return Notification.objects.create(
            task_ids=[task.pk], task_count=1, recipient=mine, stage="remind", created_at=timezone.now()
        )

    @cached_property
    def digest(self) -> Notification:
        """holder2's digest of three of the cycle's tasks: the notification page is its reader's alone."""
        tasks = list(Task.objects.filter(cycle=self.cycle).order_by("due_on", "id").values_list("id", flat=True)[:3])
        holder2 = self.w.holder2
        return Notification.objects.create(
            task_ids=tasks, task_count=len(tasks), recipient=holder2, stage="supervise", created_at=timezone.now()
        )

    @cached_property
    def secret(self) -> WarningItem:
        """A confidential 信访举报 about the holder, entered by bureau A's discipline office."""
        return petition_item(self.w)

    @cached_property
    def normal(self) -> WarningItem:
        """A warning from a special inspection about the holder (not confidential)."""
        return inspection_item(self.w)

    @cached_property
    def secret_notice(self) -> Disposition:
        return issue(self.w, self.secret, notice_facts="你在审批工作中存在需要说明的情况。")

    @cached_property
    def normal_notice(self) -> Disposition:
        return issue(self.w, self.normal)

    @cached_property
    def answered_notice(self) -> Disposition:
        """The normal notice, answered by the holder: waiting for the office to accept it."""
        return warning_step(self.w, self.normal_notice, "respond")

    @cached_property
    def attachment(self) -> ReportAttachment:
        """A PDF the holder attached to the report of the normal notice."""
        return report_attachment_add(
            by=self.w.holder, disposition=self.normal_notice, upload=SimpleUploadedFile("整改报告.pdf", REPORT_PDF)
        )

    @cached_property
    def colleague(self):
        """Another member of bureau A's discipline office, who may be granted an item."""
        user = get_user_model().objects.create_user(username="colleague", password=PASSWORD)
        membership_grant(user=user, institution=self.w.a, role=Role.DISCIPLINE)
        return user

    @cached_property
    def rule(self) -> Rule:
        """A rule (制度) of 审批科 in bureau A's rule catalogue."""
        return rule_create(
            institution=self.w.a,
            department=self.w.dept,
            title="行政审批工作规程",
            effective_on=datetime.date(2026, 1, 1),
            text="第一条 受理、审查、决定分岗办理。",
            by=self.w.discipline,
        )

    @cached_property
    def rule_with_file(self) -> Rule:
        """The rule above with a PDF attached (the file removed after the test)."""
        rule = rule_attachment_set(rule=self.rule, name="规程.pdf", data=b"%PDF-1.4 harness", by=self.w.discipline)
        self.files.append(attachments.path_of(rule.attachment_key))
        return rule

    @cached_property
    def control(self) -> Control:
        return Control.objects.get(risk_point=self.w.submitted)

    @cached_property
    def job(self) -> ExportJob:
        """A finished export of the discipline office, its file on disk."""
        path = export_dir() / f"harness-{uuid.uuid4().hex}.xlsx"
        path.write_bytes(b"PK harness")
        self.files.append(path)
        return ExportJob.objects.create(
            owner=self.w.discipline,
            institution=self.w.a,
            form="overview",
            file_format="xlsx",
            state=ExportJob.State.DONE,
            file_path=str(path),
            filename="甲局_2026年度_廉政风险点一览表.xlsx",  # as the product names it: Chinese
        )

    @cached_property
    def pending_import(self) -> ExportJob:
        """A checked import of the discipline office waiting for confirmation: its job, its file."""
        token = uuid.uuid4().hex
        path = export_dir() / f"import-{token}.xlsx"
        path.write_bytes(workbook_bytes(good_rows()))
        self.files.append(path)
        return ExportJob.objects.create(
            owner=self.w.discipline,
            institution=self.w.a,
            kind=ExportJob.IMPORT_CHECK,
            form="overview",
            file_format="xlsx",
            filename="甲局风险点台账.xlsx",  # the holder's own file, named as an office names it
            params={"upload": token, "year": 2026, "sheet": "", "language": "zh-hans"},
            state=ExportJob.State.DONE,
            total=3,
            done=3,
            result={"ok": True, "count": 3, "problems": [], "preview": [], "sheets": []},
        )

    # --- unit assessment (单位考核评估) of bureau A in its cycle ---

    @cached_property
    def unit_preset(self) -> Checklist:
        """The nine items of 篇5 (installed again: a transactional test may have flushed them)."""
        install_checklist_presets(Checklist, ChecklistItem)
        return Checklist.objects.get(institution=None, key="pian5-nine")

    @cached_property
    def unit(self) -> UnitAssessment:
        """Bureau A's unit assessment, opened by its principal, being self-scored."""
        return unit_services.unit_open(
            by=self.w.principal, cycle=self.cycle, institution=self.w.a, checklist=self.unit_preset
        )

    @cached_property
    def unit_submitted(self) -> UnitAssessment:
        scores = [unit_services.SelfScore(item.pk, 80) for item in self.unit.items.all()]
        return unit_services.unit_self_score(
            by=self.w.principal, assessment=self.unit, scores=scores, submit=True, today=timezone.localdate()
        )

    @cached_property
    def unit_assessed(self) -> UnitAssessment:
        scores = [unit_services.AssessedScore(item.pk, 85) for item in self.unit_submitted.items.all()]
        return unit_services.unit_assess(
            by=self.w.superior, assessment=self.unit_submitted, scores=scores, conclusion="", finish=True
        )

    @cached_property
    def unit_file(self) -> UnitEvidenceFile:
        upload = SimpleUploadedFile("领导小组文件.pdf", self.pdf().getvalue())
        record = unit_services.evidence_upload(by=self.w.principal, item=self.unit.items.first(), upload=upload)
        self.files.append(unit_services.evidence_path(record))
        return record

    @cached_property
    def unit_rectify(self) -> UnitOutcome:
        return unit_services.outcome_record(
            by=self.w.superior,
            assessment=self.unit_assessed,
            kind=UnitOutcome.Kind.RECTIFY,
            text="完善预警台账",
            deadline=timezone.localdate() + datetime.timedelta(days=30),
            today=timezone.localdate(),
        )

    @cached_property
    def county_checklist(self) -> Checklist:
        """The county office's own copy of the preset."""
        return unit_services.checklist_adopt(by=self.w.superior, checklist=self.unit_preset, institution=self.w.county)

    def pdf(self) -> io.BytesIO:
        upload = io.BytesIO(b"%PDF-1.4\n%%EOF\n")
        upload.name = "领导小组文件.pdf"
        return upload

    @cached_property
    def pending_power_import(self) -> str:
        """A previewed power inventory import waiting in the persona's session; its token."""
        token = uuid.uuid4().hex
        path = export_dir() / f"power-import-{token}.xlsx"
        path.write_bytes(power_workbook_bytes(power_good_rows()))
        self.files.append(path)
        session = self.client.session
        session["power_import"] = {"token": token, "institution": "bureau-a", "name": "职权目录.xlsx", "sheet": ""}
        session.save()
        return token

    def power_upload(self) -> io.BytesIO:
        upload = io.BytesIO(power_workbook_bytes(power_good_rows()))
        upload.name = "职权目录.xlsx"
        return upload

    def upload(self) -> io.BytesIO:
        upload = io.BytesIO(workbook_bytes(good_rows()))
        upload.name = "甲局风险点台账.xlsx"
        return upload

    def wizard_upload(self) -> io.BytesIO:
        upload = io.BytesIO(market_xlsx())
        upload.name = "市场监管局.xlsx"
        return upload

    def wizard_pending(self, step: str) -> str:
        """A file waiting in the import wizard at ``step``, its mapping complete; its token."""
        token = uuid.uuid4().hex
        path = export_dir() / f"import-{token}.xlsx"
        path.write_bytes(market_xlsx())
        self.files.append(path)
        risk_type = RiskType.objects.filter(institution__isnull=True, is_active=True).order_by("id").first()
        mapping = import_mapping_complete(
            institution=self.w.a,
            data=path.read_bytes(),
            mapping={"default_risk_type": str(risk_type.pk) if risk_type else "", "create_unknown": True},
        )
        session = self.client.session
        session["documents_import_wizard"] = {
            "token": token,
            "institution": "bureau-a",
            "year": 2026,
            "name": "市场监管局.xlsx",
            "sheet": "",
            "step": step,
            "mapping": mapping,
        }
        session.save()
        return token


# --- the cases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    route: str  # the URL name
    label: str
    method: str
    url: Callable[[Scene], str]
    expected: Expected
    data: Callable[[Scene], dict] | None = None
    effect: Writes | None = None  # what an allowed POST must show
    get_writes: frozenset[str] = field(default_factory=frozenset)  # today's GET writes (xfail)
    get_writes_why: str = "GET writes: fixed by the leaks branch"
    effect_for: frozenset[str] | None = None  # who shows the effect (default: the allowed); a GET's
    # only allowed effect is an audit entry of a confidential read
    location: str = ""  # where the allowed answers redirect to, when it matters
    setup: Callable[[Scene], object] | None = None  # builds what the request needs besides its URL

    @property
    def allowed(self) -> frozenset[str]:
        return self.expected.ok

    @property
    def effect_personas(self) -> frozenset[str]:
        if self.effect is None:
            return frozenset()
        return self.allowed if self.effect_for is None else self.effect_for


def point_form(scene: Scene, description: str) -> dict:
    return {
        "risk_type": scene.w.risk_type.pk,
        "found_by": "self",
        "description": description,
        "manifestation": "",
        "likelihood": "2",
        "severity": "2",
        "controls-TOTAL_FORMS": "0",
        "controls-INITIAL_FORMS": "0",
        "controls-MIN_NUM_FORMS": "0",
        "controls-MAX_NUM_FORMS": "30",
    }


def revision_form(scene: Scene) -> dict:
    """The revision form: the point's control kept, a monitoring control added, with a reason."""
    return point_revision_form(scene.measures_after_approval, measure="纪检员每月抽查审批档案")


def _controls_unchanged(scene: Scene) -> None:
    """A proposal changes no control until it is approved."""
    assert list(Control.objects.filter(risk_point=scene.w.submitted).values_list("measure", flat=True)) == ["双人审核"]
    assert ControlRevision.objects.get(risk_point=scene.w.submitted).status == ControlRevision.Status.PENDING


def _revision_applied(scene: Scene) -> None:
    measures = set(Control.objects.filter(risk_point=scene.w.submitted).values_list("measure", flat=True))
    assert measures == {"双人审核", "纪检员每月抽查审批档案"}
    assert ControlRevision.objects.get(pk=scene.control_revision.pk).status == ControlRevision.Status.APPROVED


# Who sees bureau A's submitted point (the bulk actions' 403s; everyone else gets 404).
BULK_SEES_SUBMITTED = frozenset({"holder", "head", "discipline", "leader", "principal", "superior"})


def bulk_form(scene: Scene, action: str) -> dict:
    """The register table's bulk form with the submitted point selected, at the version shown."""
    point = RiskPoint.objects.get(pk=scene.w.submitted.pk)
    return {"action": action, "point": [point.pk], f"version_{point.pk}": point.version}


def state_and_version(point: str, state: str):
    """The point moved to ``state`` and its version went up by one."""

    def then(scene: Scene) -> None:
        row = RiskPoint.objects.get(pk=getattr(scene.w, point).pk)
        assert row.state == state
        assert row.version == getattr(scene.w, point).version + 1

    return then


def defined_with_override(scene: Scene) -> None:
    """Defined at the new level (3×3), its override and reason in the audit entry."""
    row = RiskPoint.objects.select_related("level").get(pk=scene.w.submitted.pk)
    assert (row.state, row.likelihood, row.severity) == (S.DEFINED, 3, 3)
    entry = AuditEntry.objects.filter(action="risk_point.define", target_id=row.pk).latest("pk")
    assert entry.changes["override"]["reason"] == "涉及大额资金"


MINUTES_PDF = b"%PDF-1.4\n% minutes of the meeting\n%%EOF\n"


def minutes_upload() -> io.BytesIO:
    upload = io.BytesIO(MINUTES_PDF)
    upload.name = "民主评议会议纪要.pdf"
    return upload


def attached_and_appraised(scene: Scene) -> None:
    """The appraisal moved the point and keeps the minutes, on disk outside the web root."""
    attachment = DecisionAttachment.objects.get(decision__kind=Decision.Kind.APPRAISAL)
    path = attachments_dir() / attachment.stored_as
    scene.files.append(path)
    assert path.read_bytes() == MINUTES_PDF and attachment.name == "民主评议会议纪要.pdf"
    assert RiskPoint.objects.get(pk=scene.w.submitted.pk).state == S.APPRAISED


def superior_approved(scene: Scene) -> None:
    """The superior's decision covers the point at the version it was shown; the point did not move."""
    decision = Decision.objects.get(kind=Decision.Kind.SUPERIOR)
    point = RiskPoint.objects.get(pk=scene.w.submitted.pk)
    assert decision.point_versions == {str(point.pk): point.version} and point.state == S.APPROVED


def decision_form(scene: Scene, points: list[int]) -> dict:
    """A complete meeting record of bureau A's leadership that passes (two present, two for)."""
    return {
        "kind": "approval",
        "meeting": "党组会",
        "meeting_kind": "party_group",
        "held_on": "2026-01-05",
        "participants": "周局长、孙副局长",
        "present": 2,
        "votes_for": 2,
        "votes_against": 0,
        "votes_abstaining": 0,
        "decision": "同意",
        "points": points,
        "confirmed": "1",  # past the confirmation step (its own cases below)
    }


def cycle_form(scene: Scene, *, institution=None, year: int = 2027) -> dict:
    data = {
        "name": "年度排查",
        "reminder_days": "7, 1",
        "supervisor_after_days": 1,
        "discipline_after_days": 7,
    }
    if institution is not None:
        data.update(institution=institution.pk, year=year)
    for n, spec in enumerate(default_phases(year), start=1):
        data[f"phase_{n}_name"] = spec.name
        data[f"phase_{n}_starts_on"] = spec.starts_on.isoformat()
        data[f"phase_{n}_due_on"] = spec.due_on.isoformat()
    return data


def _described(description: str):
    def then(scene: Scene) -> None:
        assert RiskPoint.objects.filter(description=description).exists()

    return then


def _previewed(scene: Scene) -> None:
    """The upload writes no row of the register: the file waits, its check a job for a worker."""
    job = ExportJob.objects.filter(kind=ExportJob.IMPORT_CHECK, owner=scene.w.discipline).latest("id")
    waiting = export_dir() / f"import-{job.params['upload']}.xlsx"
    scene.files.append(waiting)  # removed after the test
    assert job.institution == scene.w.a and job.params["year"] == 2026 and waiting.is_file()
    assert job.state == ExportJob.State.PENDING


def _write_started(scene: Scene) -> None:
    """The confirmation starts the write in a worker, and running it imports the file."""
    job = ExportJob.objects.filter(kind=ExportJob.IMPORT_WRITE, owner=scene.w.discipline).latest("id")
    import_jobs.import_job_run(job.pk)
    assert RiskPoint.objects.filter(description="受理材料时索要好处", institution=scene.w.a).exists()


def _wizard_at(step: str | None):
    def then(scene: Scene) -> None:
        state = scene.client.session.get("documents_import_wizard")
        if step is None:
            assert state is None
            return
        assert state["step"] == step and state["institution"] == "bureau-a"
        scene.files.append(export_dir() / f"import-{state['token']}.xlsx")  # removed after the test

    return then


def _cycle_closed(scene: Scene) -> None:
    assert Cycle.objects.get(pk=scene.cycle.pk).state == Cycle.State.CLOSED


def _read(scene: Scene) -> None:
    assert not Notification.objects.filter(recipient=scene.me, read_at__isnull=True).exists()


def _password_changed(scene: Scene) -> None:
    scene.me.refresh_from_db()
    assert scene.me.check_password("新的密码-Harness-42")


A = "/registers/bureau-a/2026"

POINTS = [
    Case("home", "home", "get", lambda s: "/", everyone()),
    Case("institution_tree", "institution tree", "get", lambda s: "/org/", everyone()),
    Case("institution_detail", "institution A", "get", lambda s: "/org/bureau-a/", expect(SEES_A)),
    Case("institution_detail", "institution B", "get", lambda s: "/org/bureau-b/", expect(SEES_B)),
    Case("institution_detail", "county", "get", lambda s: "/org/county-jw/", expect({"superior"})),
    Case("department_detail", "department", "get", lambda s: f"/departments/{s.w.dept.pk}/", expect(SEES_A)),
    Case("position_detail", "position", "get", lambda s: f"/positions/{s.w.position.pk}/", expect(SEES_A)),
    Case("risk_point_list", "risk list", "get", lambda s: "/risks/", everyone()),
    Case("risk_point_detail", "draft", "get", lambda s: f"/risks/{s.w.draft.pk}/", expect({"holder", "head"})),
    Case("risk_point_detail", "department draft", "get", lambda s: f"/risks/{s.w.dept_draft.pk}/", expect({"head"})),
    Case(
        "risk_point_detail",
        "submitted",
        "get",
        lambda s: f"/risks/{s.w.submitted.pk}/",
        expect({"holder", "head"} | OVERSIGHT_A),
    ),
    Case("risk_point_detail", "B point", "get", lambda s: f"/risks/{s.w.point_b.pk}/", expect(SEES_B)),
    Case(
        "risk_point_edit",
        "edit draft form",
        "get",
        lambda s: f"/risks/{s.w.draft.pk}/edit/",
        expect({"holder"}, forbidden={"head"}),
    ),
    Case(
        "risk_point_edit",
        "edit draft",
        "post",
        lambda s: f"/risks/{s.w.draft.pk}/edit/",
        expect({"holder"}, status=302, forbidden={"head"}),
        data=lambda s: point_form(s, "已修改的描述"),
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=_described("已修改的描述")),
    ),
    Case(
        "risk_point_edit",
        "edit department draft",
        "post",
        lambda s: f"/risks/{s.w.dept_draft.pk}/edit/",
        expect({"head"}, status=302),
        data=lambda s: point_form(s, "已修改的科室风险点"),
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=_described("已修改的科室风险点")),
    ),
    Case(
        "risk_point_edit",
        "edit submitted form",
        "get",
        lambda s: f"/risks/{s.w.submitted.pk}/edit/",
        expect(forbidden={"holder", "head"} | OVERSIGHT_A),
    ),
    Case(
        "position_risk_point_create",
        "new point form",
        "get",
        lambda s: f"/positions/{s.w.position.pk}/risks/new/",
        expect({"holder"}, forbidden=SEES_A - {"holder"}),
    ),
    Case(
        "position_risk_point_create",
        "new point",
        "post",
        lambda s: f"/positions/{s.w.position.pk}/risks/new/",
        expect({"holder"}, status=302, forbidden=SEES_A - {"holder"}),
        data=lambda s: point_form(s, "新风险点"),
        effect=writes("risk_registry.RiskPoint", AUDIT, then=_described("新风险点")),
    ),
    Case(
        "department_risk_point_create",
        "new department point form",
        "get",
        lambda s: f"/departments/{s.w.dept.pk}/risks/new/",
        expect({"head"}, forbidden=SEES_A - {"head"}),
    ),
    Case(
        "department_risk_point_create",
        "new department point",
        "post",
        lambda s: f"/departments/{s.w.dept.pk}/risks/new/",
        expect({"head"}, status=302, forbidden=SEES_A - {"head"}),
        data=lambda s: point_form(s, "科室新风险点"),
        effect=writes("risk_registry.RiskPoint", AUDIT, then=_described("科室新风险点")),
    ),
]

WORKFLOW = [
    Case(
        "risk_point_step",
        "submit own draft",
        "post",
        lambda s: f"/risks/{s.w.draft.pk}/step/submit/",
        expect({"holder"}, status=302, forbidden={"head"}),
        data=lambda s: {"version": s.w.draft.version},
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=state_of("draft", S.SUBMITTED)),
    ),
    Case(
        "risk_point_step",
        "review submitted",
        "post",
        lambda s: f"/risks/{s.w.submitted.pk}/step/review/",
        expect({"head", "discipline"}, status=302, forbidden={"holder", "leader", "principal", "superior"}),
        data=lambda s: {"version": s.w.submitted.version},
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=state_of("submitted", S.REVIEWED)),
    ),
    Case(
        "risk_point_step",
        "withdraw submitted",
        "post",
        lambda s: f"/risks/{s.w.submitted.pk}/step/withdraw/",
        expect({"holder"}, status=302, forbidden={"head"} | OVERSIGHT_A),
        data=lambda s: {"version": s.w.submitted.version},
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=state_of("submitted", S.DRAFT)),
    ),
    Case(
        "risk_point_propose",
        "propose raising",
        "post",
        lambda s: f"/risks/{s.w.submitted.pk}/propose/",
        expect({"discipline"}, status=302, forbidden={"holder", "head", "leader", "principal", "superior"}),
        data=lambda s: {"likelihood": 3, "severity": 3, "reason": "多次被举报"},
        effect=writes("risk_registry.LevelProposal", AUDIT),
    ),
    Case(
        "proposal_decide",
        "accept a proposal",
        "post",
        lambda s: f"/proposals/{s.proposal.pk}/decide/",
        expect({"leader", "principal"}, status=302, forbidden={"holder", "head", "discipline", "superior"}),
        data=lambda s: {"accept": "yes", "note": "同意"},
        effect=writes(AUDIT, updated=["risk_registry.LevelProposal", "risk_registry.RiskPoint"]),
    ),
    Case(
        "control_revision_create",
        "revise the controls of an approved point, the form",
        "get",
        lambda s: f"/risks/{s.measures_after_approval.pk}/controls/revise/",
        expect({"holder", "head"}, forbidden=BULK_SEES_SUBMITTED - {"holder", "head"}),
    ),
    Case(
        "control_revision_create",
        "revise the controls of an approved point",
        "post",
        lambda s: f"/risks/{s.measures_after_approval.pk}/controls/revise/",
        expect({"holder", "head"}, status=302, forbidden=BULK_SEES_SUBMITTED - {"holder", "head"}),
        data=lambda s: revision_form(s),
        effect=writes("controls.ControlRevision", AUDIT, then=_controls_unchanged),
    ),
    Case(
        "control_revision_detail",
        "a revision of controls",
        "get",
        lambda s: f"/control-revisions/{s.control_revision.pk}/",
        expect(BULK_SEES_SUBMITTED),
    ),
    Case(
        "control_revision_review",
        "approve a revision of controls",
        "post",
        lambda s: f"/control-revisions/{s.control_revision.pk}/review/",
        expect({"head", "discipline"}, status=302, forbidden=BULK_SEES_SUBMITTED - {"head", "discipline"}),
        data=lambda s: {"decision": "approve"},
        effect=writes(
            "controls.Control",
            AUDIT,
            updated=["controls.ControlRevision", "risk_registry.RiskPoint"],
            then=_revision_applied,
        ),
    ),
    Case(
        "register_detail",
        "register A, none yet",
        "get",
        lambda s: f"{A}/",
        expect(SEES_A),
    ),
    Case("register_detail", "register A", "get", lambda s: f"/registers/bureau-a/{s.register.year}/", expect(SEES_A)),
    Case(
        "register_detail",
        "register B, none yet",
        "get",
        lambda s: "/registers/bureau-b/2026/",
        expect(SEES_B),
    ),
    Case(
        "register_batch",
        "batch review page",
        "get",
        lambda s: f"/registers/bureau-a/{s.register.year}/batch/review/",
        expect(SEES_A),
    ),
    Case(
        "register_batch",
        "batch define page, no register yet",
        "get",
        lambda s: f"{A}/batch/define/",
        expect(SEES_A),
    ),
    Case(
        "register_batch",
        "batch review",
        "post",
        lambda s: f"/registers/bureau-a/{s.register.year}/batch/review/",
        expect({"head", "discipline"}, status=302, refused=SEES_A - {"head", "discipline"}),
        data=lambda s: {"point": [s.w.submitted.pk], f"version_{s.w.submitted.pk}": s.w.submitted.version},
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=state_of("submitted", S.REVIEWED)),
    ),
    Case(
        "register_decide",
        "approve register",
        "post",
        lambda s: f"/registers/bureau-a/{s.defined.year}/decide/",
        expect({"leader", "principal"}, status=302, forbidden=SEES_A - {"leader", "principal"}),
        data=lambda s: decision_form(s, [s.w.submitted.pk]),
        effect=writes(
            "risk_registry.Decision", AUDIT, updated=["risk_registry.RiskPoint"], then=state_of("submitted", S.APPROVED)
        ),
    ),
    Case(
        "register_bulk",
        "bulk review from the register table",
        "post",
        lambda s: f"/registers/bureau-a/{s.register.year}/bulk/",
        expect({"head", "discipline"}, status=302, forbidden=BULK_SEES_SUBMITTED - {"head", "discipline"}),
        data=lambda s: bulk_form(s, "review"),
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=state_and_version("submitted", S.REVIEWED)),
    ),
    Case(
        "register_bulk",
        "bulk review, a version seen before someone else's change",
        "post",
        lambda s: f"/registers/bureau-a/{s.register.year}/bulk/",
        expect({"head", "discipline"}, status=302, forbidden=BULK_SEES_SUBMITTED - {"head", "discipline"}),
        data=lambda s: {**bulk_form(s, "review"), f"version_{s.w.submitted.pk}": s.w.submitted.version + 1},
        effect=Writes(nothing="a stale version is refused with a message: the point keeps its state"),
    ),
    Case(
        "register_bulk",
        "bulk return to the holder, with a reason",
        "post",
        lambda s: f"/registers/bureau-a/{s.register.year}/bulk/",
        expect({"head", "discipline"}, status=302, forbidden=BULK_SEES_SUBMITTED - {"head", "discipline"}),
        data=lambda s: {**bulk_form(s, "return_to_author"), "reason": "风险描述不具体"},
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=state_and_version("submitted", S.DRAFT)),
    ),
    Case(
        "register_bulk",
        "bulk define with an override and its reason",
        "post",
        lambda s: f"/registers/bureau-a/{s.reviewed.year}/bulk/",
        expect({"discipline"}, status=302, forbidden=BULK_SEES_SUBMITTED - {"discipline"}),
        data=lambda s: {**bulk_form(s, "define"), "likelihood": 3, "severity": 3, "reason": "涉及大额资金"},
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=defined_with_override),
    ),
    Case(
        "register_bulk",
        "bulk proposal of a higher level",
        "post",
        lambda s: f"/registers/bureau-a/{s.register.year}/bulk/",
        expect({"discipline"}, status=302, forbidden=BULK_SEES_SUBMITTED - {"discipline"}),
        data=lambda s: {**bulk_form(s, "propose"), "likelihood": 3, "severity": 3, "reason": "多次被举报"},
        effect=writes("risk_registry.LevelProposal", AUDIT),
    ),
    Case(
        "register_decide",
        "approve register, the confirmation step",
        "post",
        lambda s: f"/registers/bureau-a/{s.defined.year}/decide/",
        expect({"leader", "principal"}, forbidden=SEES_A - {"leader", "principal"}),
        data=lambda s: {**decision_form(s, [s.w.submitted.pk]), "confirmed": ""},
        effect=Writes(nothing="the confirmation step says how many points will change and writes nothing"),
    ),
    Case(
        "register_decide",
        "democratic appraisal with its minutes attached",
        "post",
        lambda s: f"/registers/bureau-a/{s.defined.year}/decide/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {
            **decision_form(s, [s.w.submitted.pk]),
            "kind": "appraisal",
            "meeting_kind": "appraisal",
            "attachments": [minutes_upload()],
        },
        effect=writes(
            "risk_registry.Decision",
            "risk_registry.DecisionAttachment",
            AUDIT,
            updated=["risk_registry.RiskPoint"],
            then=attached_and_appraised,
        ),
    ),
    Case(
        "decision_attachment",
        "a decision's minutes",
        "get",
        lambda s: f"/attachments/{s.decision_attachment.pk}/",
        expect(SEES_A),
    ),
    Case(
        "register_decide",
        "approve register, nothing waiting",
        "post",
        lambda s: f"/registers/bureau-a/{s.register.year}/decide/",
        expect(refused={"leader", "principal"}, forbidden=SEES_A - {"leader", "principal"}),
        data=lambda s: decision_form(s, []),
    ),
    Case(
        "register_rules",
        "decision rules",
        "post",
        lambda s: f"/registers/bureau-a/{s.register.year}/rules/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"team_size": 7, "quorum": "more_than_half", "majority": "majority_of_present"},
        effect=writes("risk_registry.DecisionRules", AUDIT),
    ),
    Case(
        "register_publish",
        "publish the notice",
        "post",
        lambda s: f"/registers/bureau-a/{s.approved.year}/publish/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"days": 5, "confirmed": "1"},
        effect=writes(
            AUDIT,
            updated=["risk_registry.Register", "risk_registry.RiskPoint"],
            then=state_of("submitted", S.IN_NOTICE),
        ),
    ),
    Case(
        "register_superior",
        "the superior office approves the grades",
        "post",
        lambda s: f"/registers/bureau-a/{s.superior_waiting.year}/superior/",
        expect({"superior"}, status=302, forbidden=A_STAFF),
        data=lambda s: {
            "meeting": "县纪委常委会",
            "held_on": "2026-01-05",
            "decision": "同意所报等级",
            "outcome": "passed",
            "points": [s.w.submitted.pk],
            f"version_{s.w.submitted.pk}": RiskPoint.objects.get(pk=s.w.submitted.pk).version,
        },
        effect=writes("risk_registry.Decision", AUDIT, then=superior_approved),
    ),
    Case(
        "register_publish",
        "publish the notice, the confirmation step",
        "post",
        lambda s: f"/registers/bureau-a/{s.approved.year}/publish/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"days": 5},
        effect=Writes(nothing="the confirmation step says how many points will change and writes nothing"),
    ),
    Case(
        "register_comment",
        "comment on the notice",
        "post",
        lambda s: f"/registers/bureau-a/{s.in_notice.year}/comment/",
        expect(A_STAFF, status=302, forbidden={"superior"}),
        data=lambda s: {"text": "建议细化措施"},
        effect=writes("risk_registry.NoticeComment", AUDIT),
    ),
    Case(
        "comment_answer",
        "answer a comment",
        "post",
        lambda s: f"/comments/{s.comment.pk}/answer/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"answer": "已采纳"},
        effect=writes(AUDIT, updated=["risk_registry.NoticeComment"]),
    ),
    Case(
        "register_issue",
        "issue after the notice",
        "post",
        lambda s: f"/registers/bureau-a/{s.notice_ended.year}/issue/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"confirmed": "1"},
        effect=writes(AUDIT, updated=["risk_registry.RiskPoint"], then=state_of("submitted", S.ISSUED)),
    ),
    Case(
        "register_file",
        "sign and file",
        "post",
        lambda s: f"/registers/bureau-a/{s.issued.year}/file/",
        expect({"principal"}, status=302, forbidden=SEES_A - {"principal"}),
        data=lambda s: {"confirmed": "1"},
        effect=writes("risk_registry.RegisterVersion", AUDIT),
    ),
    Case(
        "register_issue",
        "issue after the notice, the confirmation step",
        "post",
        lambda s: f"/registers/bureau-a/{s.notice_ended.year}/issue/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
        effect=Writes(nothing="the confirmation step says how many points will change and writes nothing"),
    ),
    Case(
        "register_file",
        "sign and file, the confirmation step",
        "post",
        lambda s: f"/registers/bureau-a/{s.issued.year}/file/",
        expect({"principal"}, forbidden=SEES_A - {"principal"}),
        effect=Writes(nothing="the confirmation step says how many points will change and writes nothing"),
    ),
    Case("filings", "filings", "get", lambda s: "/filings/", everyone()),
    Case("version_detail", "filed version", "get", lambda s: f"/versions/{s.version.pk}/", expect(SEES_A)),
    Case("inbox", "inbox", "get", lambda s: "/inbox/", everyone()),
    Case(
        "risk_point_coach",
        "coaching of a point's controls in bureau A",
        "get",
        lambda s: "/risks/coach/?institution=bureau-a&controls-TOTAL_FORMS=1&controls-0-measure=严格遵守",
        expect(SEES_A),
    ),
    Case(
        "audit_log",
        "audit log",
        "get",
        lambda s: "/audit/",
        expect(AUDIT_READERS, forbidden=set(PERSONAS) - AUDIT_READERS),
    ),
    Case(
        "oversight_dashboard",
        "oversight dashboard",
        "get",
        lambda s: "/dashboards/oversight/",
        expect(AUDIT_READERS, forbidden=set(PERSONAS) - AUDIT_READERS),
    ),
    Case(
        "oversight_dashboard",
        "oversight dashboard of bureau A",
        "get",
        lambda s: "/dashboards/oversight/?institution=bureau-a",
        expect({"discipline", "superior"}, forbidden=set(PERSONAS) - AUDIT_READERS),
    ),
    Case(
        "leadership_dashboard",
        "leadership dashboard",
        "get",
        lambda s: "/dashboards/leadership/",
        expect({"leader", "principal"}, forbidden=set(PERSONAS) - {"leader", "principal"}),
    ),
    Case("my_dashboard", "my dashboard", "get", lambda s: "/dashboards/mine/", everyone()),
]

CYCLE = [
    Case("my_tasks", "my tasks (leads to the one inbox)", "get", lambda s: "/tasks/", everyone(302)),
    Case(
        "notifications_mark_read",
        "mark notifications read",
        "post",
        lambda s: "/tasks/read/",
        everyone(302),
        setup=lambda s: s.unread,
        effect=writes(updated=["assessments.Notification"], then=_read),
    ),
    Case(
        "notification_detail",
        "a notification (a digest of tasks): its recipient's alone",
        "get",
        lambda s: f"/notifications/{s.digest.pk}/",
        expect({"holder2"}),
    ),
    Case("cycle_list", "cycle list", "get", lambda s: "/cycles/", everyone()),
    Case(
        "cycle_launch",
        "launch form",
        "get",
        lambda s: "/cycles/new/",
        expect(CYCLE_LAUNCHERS, forbidden=set(PERSONAS) - CYCLE_LAUNCHERS),
    ),
    Case(
        "cycle_launch",
        "launch bureau A's cycle",
        "post",
        lambda s: "/cycles/new/",
        expect({"discipline"}, status=302, refused={"superior", "outsider"}, forbidden=set(PERSONAS) - CYCLE_LAUNCHERS),
        data=lambda s: cycle_form(s, institution=s.w.a),
        effect=writes("assessments.Cycle", "assessments.Phase", AUDIT),
    ),
    Case("cycle_board", "board", "get", lambda s: f"/cycles/{s.cycle.pk}/", expect(CYCLE_VIEWERS)),
    Case(
        "cycle_board",
        "board, department",
        "get",
        lambda s: f"/cycles/{s.cycle.pk}/?institution=bureau-a&department={s.w.dept.pk}",
        expect(CYCLE_VIEWERS),
    ),
    Case(
        "cycle_edit",
        "edit form",
        "get",
        lambda s: f"/cycles/{s.cycle.pk}/edit/",
        expect({"discipline"}, forbidden=CYCLE_VIEWERS - {"discipline"}),
    ),
    Case(
        "cycle_edit",
        "edit the cycle",
        "post",
        lambda s: f"/cycles/{s.cycle.pk}/edit/",
        expect({"discipline"}, status=302, forbidden=CYCLE_VIEWERS - {"discipline"}),
        data=lambda s: cycle_form(s, year=2026) | {"name": "改过的名称"},
        effect=writes(
            AUDIT,
            updated=["assessments.Cycle"],
            then=lambda s: Cycle.objects.get(pk=s.cycle.pk, name="改过的名称"),
        ),
    ),
    Case(
        "cycle_close",
        "close page",
        "get",
        lambda s: f"/cycles/{s.cycle.pk}/close/",
        expect({"discipline"}, forbidden=CYCLE_VIEWERS - {"discipline"}),
    ),
    Case(
        "cycle_close",
        "close while unfiled, no reason",
        "post",
        lambda s: f"/cycles/{s.cycle.pk}/close/",
        expect(refused={"discipline"}, forbidden=CYCLE_VIEWERS - {"discipline"}),
    ),
    Case(
        "cycle_close",
        "close with a reason, not yet confirmed (asks, with the numbers; writes nothing)",
        "post",
        lambda s: f"/cycles/{s.cycle.pk}/close/",
        expect(refused={"discipline"}, forbidden=CYCLE_VIEWERS - {"discipline"}),
        data=lambda s: {"reason": "乙局机构改革，未能按期归档"},
    ),
    Case(
        "cycle_close",
        "close with a reason, confirmed",
        "post",
        lambda s: f"/cycles/{s.cycle.pk}/close/",
        expect({"discipline"}, status=302, forbidden=CYCLE_VIEWERS - {"discipline"}),
        data=lambda s: {"reason": "乙局机构改革，未能按期归档", "confirmed": "1"},
        effect=writes(AUDIT, updated=["assessments.Cycle"], then=_cycle_closed),
    ),
    Case(
        "self_assessment",
        "self-assessment page",
        "get",
        lambda s: f"/cycles/{s.cycle.pk}/self-assessment/bureau-a/",
        expect(CYCLE_VIEWERS | {"holder", "holder2", "holder3"}),
    ),
    Case(
        "self_assessment",
        "submit the self-assessment",
        "post",
        lambda s: f"/cycles/{s.cycle.pk}/self-assessment/bureau-a/",
        expect(
            {"discipline", "leader", "principal"},
            status=302,
            forbidden={"holder", "holder2", "holder3", "head", "superior"},
        ),
        data=lambda s: {"summary": "组织健全"},
        effect=writes("assessments.SelfAssessment", AUDIT, then=lambda s: SelfAssessment.objects.get(cycle=s.cycle)),
    ),
    Case(
        "year_changes",
        "changes between years",
        "get",
        lambda s: f"/cycles/{s.cycle.pk}/changes/bureau-a/",
        expect(CYCLE_VIEWERS),
    ),
    Case(
        "control_run_create",
        "control runs page",
        "get",
        lambda s: f"/controls/{s.control.pk}/runs/new/",
        expect({"holder", "head"} | OVERSIGHT_A),
    ),
    Case(
        "control_run_create",
        "record a control run",
        "post",
        lambda s: f"/controls/{s.control.pk}/runs/new/",
        expect({"holder"}, status=302, forbidden={"head"} | OVERSIGHT_A),
        data=lambda s: {"ran_on": "2026-01-05", "description": "双人审核"},
        effect=writes("controls.ControlRun", AUDIT),
    ),
]

UNIT_READERS = frozenset({"discipline", "leader", "principal", "superior"})  # who oversees bureau A as a unit
UNIT_SELF = frozenset({"discipline", "leader", "principal"})  # bureau A scores itself
CHECKLIST_KEEPERS = frozenset({"discipline", "superior", "outsider"})  # discipline and superior offices
OWN_OFFICE = {"discipline": "a", "superior": "county", "outsider": "b"}


def _unit_url(rest: str = ""):
    return lambda s: f"/cycles/{s.cycle.pk}/units/bureau-a/{rest}"


def _evidence_stored(scene: Scene) -> None:
    for record in UnitEvidenceFile.objects.all():
        scene.files.append(unit_services.evidence_path(record))
    assert UnitEvidenceFile.objects.filter(content_type="application/pdf").exists()


UNITS = [
    Case(
        "unit_compare",
        "units side by side",
        "get",
        lambda s: f"/cycles/{s.cycle.pk}/units/",
        expect(CYCLE_VIEWERS),
        setup=lambda s: s.unit_assessed,
    ),
    Case(
        "unit_export",
        "unit results as Excel",
        "post",
        lambda s: f"/cycles/{s.cycle.pk}/units/export.xlsx",
        expect(CYCLE_VIEWERS),
        setup=lambda s: s.unit_assessed,
        effect=writes(AUDIT),
    ),
    Case("unit_assessment", "unit assessment page", "get", _unit_url(), expect(UNIT_READERS), setup=lambda s: s.unit),
    Case(
        "unit_open",
        "open bureau A's unit assessment",
        "post",
        _unit_url("open/"),
        expect(UNIT_READERS, status=302),
        data=lambda s: {"checklist": s.unit_preset.pk},
        effect=writes("assessments.UnitAssessment", "assessments.UnitItem", AUDIT),
    ),
    Case(
        "unit_self_score",
        "save self-scores",
        "post",
        _unit_url("self/"),
        expect(UNIT_SELF, status=302, forbidden={"superior"}),
        data=lambda s: {f"score_{item.pk}": "85" for item in s.unit.items.all()} | {"action": "save"},
        effect=writes(AUDIT, updated=["assessments.UnitItem"]),
    ),
    Case(
        "unit_self_score",
        "submit the self-assessment",
        "post",
        _unit_url("self/"),
        expect(UNIT_SELF, status=302, forbidden={"superior"}),
        data=lambda s: {f"score_{item.pk}": "85" for item in s.unit.items.all()} | {"action": "submit"},
        effect=writes(
            AUDIT,
            updated=["assessments.UnitItem", "assessments.UnitAssessment"],
            then=lambda s: UnitAssessment.objects.get(pk=s.unit.pk, state="submitted", self_total=85),
        ),
    ),
    Case(
        "unit_evidence_upload",
        "upload an evidence file",
        "post",
        lambda s: f"/cycles/{s.cycle.pk}/units/bureau-a/items/{s.unit.items.first().pk}/files/",
        expect(UNIT_SELF, status=302, forbidden={"superior"}),
        data=lambda s: {"file": s.pdf()},
        effect=writes("assessments.UnitEvidenceFile", AUDIT, then=_evidence_stored),
    ),
    Case(
        "unit_evidence_file",
        "download an evidence file",
        "get",
        lambda s: f"/cycles/{s.cycle.pk}/units/bureau-a/files/{s.unit_file.pk}/",
        expect(UNIT_READERS),
    ),
    Case(
        "unit_assess",
        "the office above assesses",
        "post",
        _unit_url("assess/"),
        expect({"superior"}, status=302, forbidden=UNIT_SELF),
        setup=lambda s: s.unit_submitted,
        data=lambda s: {f"final_{item.pk}": "90" for item in s.unit.items.all()} | {"action": "submit"},
        effect=writes(
            AUDIT,
            updated=["assessments.UnitItem", "assessments.UnitAssessment"],
            then=lambda s: UnitAssessment.objects.get(pk=s.unit.pk, state="assessed", final_total=90, grade="优秀"),
        ),
    ),
    Case(
        "unit_outcome",
        "record a rectification",
        "post",
        _unit_url("outcomes/"),
        expect({"superior"}, status=302, forbidden=UNIT_SELF),
        setup=lambda s: s.unit_assessed,
        data=lambda s: {
            "kind": "rectify",
            "text": "完善制度",
            "deadline": str(timezone.localdate() + datetime.timedelta(days=20)),
        },
        effect=writes(
            "assessments.UnitOutcome",
            "assessments.Task",
            AUDIT,
            then=lambda s: Task.objects.get(kind=Task.Kind.RECTIFICATION, cycle=s.cycle, owner=s.w.principal),
        ),
    ),
    Case(
        "unit_rectified",
        "report a rectification done",
        "post",
        lambda s: f"/cycles/{s.cycle.pk}/units/bureau-a/outcomes/{s.unit_rectify.pk}/done/",
        expect(UNIT_SELF, status=302, forbidden={"superior"}),
        data=lambda s: {"note": "已完善"},
        effect=writes(
            AUDIT,
            updated=["assessments.UnitOutcome"],
            then=lambda s: UnitOutcome.objects.get(pk=s.unit_rectify.pk, done_at__isnull=False),
        ),
    ),
    Case(
        "checklist_list",
        "assessment checklists",
        "get",
        lambda s: "/assessment-checklists/",
        expect(CHECKLIST_KEEPERS, forbidden=set(PERSONAS) - CHECKLIST_KEEPERS),
        setup=lambda s: s.unit_preset,
    ),
    Case(
        "checklist_adopt",
        "copy a preset for one's office",
        "post",
        lambda s: "/assessment-checklists/adopt/",
        expect(CHECKLIST_KEEPERS, status=302, forbidden=set(PERSONAS) - CHECKLIST_KEEPERS),
        data=lambda s: {
            "checklist": s.unit_preset.pk,
            "institution": getattr(s.w, OWN_OFFICE.get(s.persona or "", "a")).pk,
        },
        effect=writes("assessments.Checklist", "assessments.ChecklistItem", AUDIT),
    ),
    Case(
        "checklist_edit",
        "checklist form",
        "get",
        lambda s: f"/assessment-checklists/{s.county_checklist.pk}/",
        expect({"superior"}),
    ),
    Case(
        "checklist_edit",
        "change a checklist's weights",
        "post",
        lambda s: f"/assessment-checklists/{s.county_checklist.pk}/",
        expect({"superior"}, status=302),
        data=lambda s: {
            "name": "县纪委考核清单",
            "grades": "优秀 95，合格 60，不合格 0",
            "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "1",
            "items-MAX_NUM_FORMS": "30",
            "items-0-title": "风险查找是否深入",
            "items-0-weight": "60",
            "items-0-evidence": "posts_with_points",
            "items-1-title": "防控效果是否明显",
            "items-1-weight": "40",
        },
        effect=writes(
            "assessments.ChecklistItem",
            AUDIT,
            updated=["assessments.Checklist"],
            deleted=["assessments.ChecklistItem"],
            then=lambda s: Checklist.objects.get(pk=s.county_checklist.pk, name="县纪委考核清单", items__weight=60),
        ),
    ),
]

DOCUMENTS = [
    Case("documents_home", "documents", "get", lambda s: "/documents/", everyone()),
    Case(
        "documents_export",
        "export my list",
        "post",
        lambda s: "/documents/export/",
        everyone(),
        data=lambda s: {"form": "overview", "format": "xlsx", "filters": ""},
        effect=writes("documents.ExportJob", AUDIT),
    ),
    Case(
        "documents_export",
        "export bureau A's register",
        "post",
        lambda s: "/documents/export/",
        expect(SEES_A),
        data=lambda s: {"form": "overview", "format": "xlsx", "filters": "institution=bureau-a&year=2026"},
        effect=writes("documents.ExportJob", AUDIT),
    ),
    Case(
        "documents_version_export",
        "export a filed version",
        "post",
        lambda s: f"/documents/versions/{s.version.pk}/export/",
        expect(SEES_A),
        data=lambda s: {"form": "overview", "format": "xlsx"},
        effect=writes("documents.ExportJob", AUDIT),
    ),
    Case(
        "documents_archive",
        "archive bureau A's year",
        "post",
        lambda s: "/documents/archive/",
        expect(SEES_A, status=302),
        data=lambda s: {"institution": "bureau-a", "year": "2026"},
        effect=writes("documents.ExportJob", AUDIT),
    ),
    Case("documents_job", "an export job", "get", lambda s: f"/documents/jobs/{s.job.token}/", expect({"discipline"})),
    Case(
        "documents_job_download",
        "its file",
        "get",
        lambda s: f"/documents/jobs/{s.job.token}/download/",
        expect({"discipline"}),
    ),
    Case(
        "documents_import",
        "import page",
        "get",
        lambda s: "/documents/import/bureau-a/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "documents_import",
        "import preview",
        "post",
        lambda s: "/documents/import/bureau-a/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"file": s.upload(), "year": "2026"},
        effect=writes("documents.ExportJob", then=_previewed),
    ),
    Case(
        "documents_import_job",
        "an import's check and preview",
        "get",
        lambda s: f"/documents/import/bureau-a/jobs/{s.pending_import.token}/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "documents_import_confirm",
        "import confirmed",
        "post",
        lambda s: "/documents/import/bureau-a/confirm/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"job": str(s.pending_import.token)},
        effect=writes("documents.ExportJob", updated=["documents.ExportJob"], then=_write_started),
    ),
    Case(
        "documents_wizard",
        "import wizard",
        "get",
        lambda s: "/documents/import/bureau-a/wizard/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "documents_wizard_upload",
        "import wizard: upload",
        "post",
        lambda s: "/documents/import/bureau-a/wizard/upload/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"file": s.wizard_upload(), "year": "2026"},
        effect=writes(updated=["sessions.Session"], then=_wizard_at("columns")),
    ),
    Case(
        "documents_wizard_step",
        "import wizard: columns",
        "post",
        lambda s: "/documents/import/bureau-a/wizard/step/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"step": "columns", "token": s.wizard_pending("columns")},
        effect=writes(updated=["sessions.Session"], then=_wizard_at("values")),
    ),
    Case(
        "documents_wizard_confirm",
        "import wizard: confirmed",
        "post",
        lambda s: "/documents/import/bureau-a/wizard/confirm/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"token": s.wizard_pending("check")},
        effect=writes(
            "risk_registry.RiskPoint",
            "controls.Control",
            "organisation.Department",
            "positions.PowerItem",
            "documents.ImportMapping",
            AUDIT,
            updated=["sessions.Session"],
            then=_described("处罚自由裁量不当"),
        ),
    ),
    Case(
        "documents_wizard_restart",
        "import wizard: start again",
        "post",
        lambda s: "/documents/import/bureau-a/wizard/restart/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"token": s.wizard_pending("values")},
        effect=writes(updated=["sessions.Session"], then=_wizard_at(None)),
    ),
    Case(
        "documents_import_template",
        "import template",
        "get",
        lambda s: "/documents/import/bureau-a/template.xlsx",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
]

ACCOUNTS = [
    Case("password_change", "password form", "get", lambda s: "/accounts/password/", everyone()),
    Case(
        "password_change",
        "change my password",
        "post",
        lambda s: "/accounts/password/",
        everyone(302),
        data=lambda s: {
            "old_password": PASSWORD,
            "new_password1": "新的密码-Harness-42",
            "new_password2": "新的密码-Harness-42",
        },
        effect=writes(updated=["auth.User"], then=_password_changed),
    ),
    Case("password_change_done", "password changed", "get", lambda s: "/accounts/password/done/", everyone()),
    Case(
        "logout",
        "log out",
        "post",
        lambda s: "/accounts/logout/",
        everyone(302),
        effect=writes(deleted=["sessions.Session"]),
    ),
    Case(
        "set_language",
        "switch to English",
        "post",
        lambda s: "/i18n/setlang/",
        everyone(302),
        data=lambda s: {"language": "en", "next": "/"},
        effect=Writes(nothing="the language is a cookie"),
    ),
    Case("admin:index", "admin index", "get", lambda s: "/admin/", everyone(302), location="/admin/login/"),
]

POWER_MANAGERS = frozenset({"discipline", "head"})  # the office, and the head for 审批科's powers


def power_form(scene: Scene, name: str) -> dict:
    return {
        "name": name,
        "category": scene.w.power.category_id,
        "department": scene.w.dept.pk,
        "positions": [scene.w.position.pk, scene.w.position2.pk],
        "legal_basis": "《行政许可法》第二十二条",
    }


def steps_form(scene: Scene) -> dict:
    steps = list(scene.w.power.steps.order_by("order"))
    data = {"form-TOTAL_FORMS": str(len(steps)), "form-INITIAL_FORMS": str(len(steps))}
    data.update({"form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000"})
    for index, step in enumerate(steps):
        data[f"form-{index}-id"] = step.pk
        data[f"form-{index}-name"] = f"{step.name}（改）"
    return data


def _power_named(name: str):
    def then(scene: Scene) -> None:
        assert PowerItem.objects.filter(name=name).exists()

    return then


def _retired(scene: Scene) -> None:
    assert PowerItem.objects.get(pk=scene.w.power.pk).retired_on == datetime.date(2026, 6, 30)


def _power_import_previewed(scene: Scene) -> None:
    pending = scene.client.session["power_import"]
    waiting = export_dir() / f"power-import-{pending['token']}.xlsx"
    scene.files.append(waiting)  # removed after the test
    assert pending["institution"] == "bureau-a" and waiting.is_file()
    assert not PowerItem.objects.filter(name="大额资金支付审批").exists()


def _power_imported(scene: Scene) -> None:
    assert PowerItem.objects.filter(institution=scene.w.a, name="大额资金支付审批").exists()
    assert PowerItem.objects.get(pk=scene.w.power.pk).discretion == "一般：5日；复杂：10日"


def _rotated(scene: Scene) -> None:
    assert Holding.objects.filter(user=scene.w.holder, position=scene.w.position3, ended_on=None).exists()


def grading_form(scene: Scene) -> dict:
    """Bureau A's matrix with the cell likelihood 2 × severity 2 (the submitted point's) made 一级."""
    scheme = scene.w.a.grading_scheme
    data = {
        f"cell_{li}_{s}": code for li, row in enumerate(scheme.matrix, start=1) for s, code in enumerate(row, start=1)
    }
    data["cell_2_2"] = "1"
    data.update({f"band_{level.pk}": level.band for level in scheme.levels.all()})
    return data


def _matrix_changed(scene: Scene) -> None:
    point = RiskPoint.objects.select_related("level").get(pk=scene.w.submitted.pk)
    assert point.needs_regrading and point.level.name == "二级"  # flagged, never regraded
    assert GradingScheme.objects.get(pk=scene.w.a.grading_scheme_id).matrix[1][1] == "1"


def _grades_proposed(scene: Scene) -> None:
    grades = PostGrade.objects.filter(institution=scene.w.a, year=2026)
    assert grades.count() == 3 and not grades.exclude(grade="").exists()  # proposed, none decided


def _grade_confirmed(scene: Scene) -> None:
    grade = PostGrade.objects.get(position=scene.w.position2, year=2026)
    assert (grade.grade, grade.decided_by) == (grade.proposed, scene.me)
    assert not PostGrade.objects.filter(position=scene.w.position3, year=2026).exclude(grade="").exists()


def _grade_decided(scene: Scene) -> None:
    grade = PostGrade.objects.get(position=scene.w.position2, year=2026)
    assert (grade.grade, grade.reason, grade.supervision) == ("B", "负责大额复核", "stationed")


def _decide_form(scene: Scene) -> dict:
    pk = scene.post_grades[scene.w.position2.pk].pk
    return {f"g{pk}-grade": "B", f"g{pk}-reason": "负责大额复核"}


POST_GRADES = [
    Case("watch", "what I must watch", "get", lambda s: "/watch/?year=2026", everyone(), setup=lambda s: s.post_grades),
    Case(
        "post_grade_list",
        "post grades page",
        "get",
        lambda s: "/org/bureau-a/post-grades/2026/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
        setup=lambda s: s.post_grades,
    ),
    Case(
        "post_grade_list",
        "propose post grades",
        "post",
        lambda s: "/org/bureau-a/post-grades/2026/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"action": "propose"},
        effect=writes("risk_registry.PostGrade", AUDIT, then=_grades_proposed),
    ),
    Case(
        "post_grade_list",
        "confirm proposed grades",
        "post",
        lambda s: "/org/bureau-a/post-grades/2026/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"action": "confirm", "grades": [s.post_grades[s.w.position2.pk].pk]},
        effect=writes(AUDIT, updated=["risk_registry.PostGrade"], then=_grade_confirmed),
        setup=lambda s: s.post_grades,
    ),
    Case(
        "post_grade_decide",
        "decide a post grade",
        "post",
        lambda s: f"/post-grades/{s.post_grades[s.w.position2.pk].pk}/decide/",
        expect({"discipline"}, status=302, forbidden=OVERSIGHT_A - {"discipline"}),
        data=_decide_form,
        effect=writes(AUDIT, updated=["risk_registry.PostGrade"], then=_grade_decided),
    ),
]

POWERS = [
    Case("power_list", "power inventory", "get", lambda s: "/org/bureau-a/powers/", expect(SEES_A)),
    Case(
        "power_create",
        "new power form",
        "get",
        lambda s: "/org/bureau-a/powers/new/",
        expect(POWER_MANAGERS, forbidden=SEES_A - POWER_MANAGERS),
    ),
    Case(
        "power_create",
        "new power",
        "post",
        lambda s: "/org/bureau-a/powers/new/",
        expect(POWER_MANAGERS, status=302, forbidden=SEES_A - POWER_MANAGERS),
        data=lambda s: power_form(s, "政府采购"),
        effect=writes("positions.PowerItem", AUDIT, then=_power_named("政府采购")),
    ),
    Case("power_detail", "power item", "get", lambda s: f"/powers/{s.w.power.pk}/", expect(SEES_A)),
    Case(
        "power_import",
        "power import page",
        "get",
        lambda s: "/org/bureau-a/powers/import/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "power_import",
        "power import preview",
        "post",
        lambda s: "/org/bureau-a/powers/import/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"file": s.power_upload()},
        effect=writes(updated=["sessions.Session"], then=_power_import_previewed),
    ),
    Case(
        "power_import_confirm",
        "power import confirmed",
        "post",
        lambda s: "/org/bureau-a/powers/import/confirm/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"token": s.pending_power_import},
        effect=writes(
            "positions.PowerItem",
            AUDIT,
            updated=["positions.PowerItem", "risk_registry.RiskPoint"],
            then=_power_imported,
        ),
    ),
    Case(
        "power_import_template",
        "power import template",
        "get",
        lambda s: "/org/bureau-a/powers/import/template/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "power_edit",
        "edit power form",
        "get",
        lambda s: f"/powers/{s.w.power.pk}/edit/",
        expect(POWER_MANAGERS, forbidden=SEES_A - POWER_MANAGERS),
    ),
    Case(
        "power_edit",
        "edit a power",
        "post",
        lambda s: f"/powers/{s.w.power.pk}/edit/",
        expect(POWER_MANAGERS, status=302, forbidden=SEES_A - POWER_MANAGERS),
        data=lambda s: power_form(s, "企业设立登记审批"),
        effect=writes(AUDIT, updated=["positions.PowerItem"], then=_power_named("企业设立登记审批")),
    ),
    Case(
        "power_steps",
        "process flow form",
        "get",
        lambda s: f"/powers/{s.w.power.pk}/steps/",
        expect(POWER_MANAGERS, forbidden=SEES_A - POWER_MANAGERS),
    ),
    Case(
        "power_steps",
        "save the process flow",
        "post",
        lambda s: f"/powers/{s.w.power.pk}/steps/",
        expect(POWER_MANAGERS, status=302, forbidden=SEES_A - POWER_MANAGERS),
        data=steps_form,
        effect=writes(AUDIT, updated=["positions.ProcessStep"], then=lambda s: s.w.power.steps.get(name="审查（改）")),
    ),
    Case(
        "power_retire",
        "retire a power",
        "post",
        lambda s: f"/powers/{s.w.power.pk}/retire/",
        expect(POWER_MANAGERS, status=302, forbidden=SEES_A - POWER_MANAGERS),
        data=lambda s: {"on": "2026-06-30", "reason": "职能划转"},
        effect=writes(AUDIT, updated=["positions.PowerItem"], then=_retired),
    ),
    Case(
        "grading_scheme_edit",
        "grading matrix editor",
        "get",
        lambda s: "/org/bureau-a/grading/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "grading_scheme_edit",
        "change a cell of the matrix",
        "post",
        lambda s: "/org/bureau-a/grading/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=grading_form,
        effect=writes(AUDIT, updated=["organisation.GradingScheme", "risk_registry.RiskPoint"], then=_matrix_changed),
    ),
    Case(
        "grading_scheme_switch",
        "preview a switch of the grading preset",
        "get",
        lambda s: "/org/bureau-a/grading/switch/?preset=abc",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "grading_scheme_switch",
        "switch the grading preset",
        "post",
        lambda s: "/org/bureau-a/grading/switch/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"preset": "abc", "confirm": "on"},
        effect=writes(
            "organisation.GradingScheme", AUDIT, updated=["organisation.Institution", "risk_registry.RiskPoint"]
        ),
    ),
    Case(
        "rotation",
        "rotation page",
        "get",
        lambda s: "/org/bureau-a/rotation/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "rotation",
        "rotate a holder",
        "post",
        lambda s: "/org/bureau-a/rotation/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {
            "kind": "rotate",
            "holding": Holding.objects.get(user=s.w.holder, ended_on=None).pk,
            "position": s.w.position3.pk,
            "on": "2026-07-01",
        },
        effect=writes("positions.Holding", AUDIT, updated=["positions.Holding"], then=_rotated),
    ),
]

RULE_MANAGERS = POWER_MANAGERS  # the office, and the head for 审批科's rules


def rule_form(scene: Scene, title: str) -> dict:
    return {
        "title": title,
        "document_number": "甲局发〔2026〕1号",
        "issuing_body": "甲局",
        "effective_on": "2026-01-01",
        "department": scene.w.dept.pk,
        "summary": "",
        "text": "第一条 受理、审查、决定分岗办理。",
    }


def _rule_titled(title: str):
    def then(scene: Scene) -> None:
        assert Rule.objects.filter(title=title).exists()

    return then


RULES = [
    Case("rule_list", "rule catalogue", "get", lambda s: "/org/bureau-a/rules/", expect(SEES_A)),
    Case(
        "rule_create",
        "new rule form",
        "get",
        lambda s: "/org/bureau-a/rules/new/",
        expect(RULE_MANAGERS, forbidden=SEES_A - RULE_MANAGERS),
    ),
    Case(
        "rule_create",
        "record a rule",
        "post",
        lambda s: "/org/bureau-a/rules/new/",
        expect(RULE_MANAGERS, status=302, forbidden=SEES_A - RULE_MANAGERS),
        data=lambda s: rule_form(s, "公务接待管理办法"),
        effect=writes("controls.Rule", AUDIT, then=_rule_titled("公务接待管理办法")),
    ),
    Case("rule_detail", "a rule", "get", lambda s: f"/rules/{s.rule.pk}/", expect(SEES_A)),
    Case(
        "rule_attachment", "a rule's file", "get", lambda s: f"/rules/{s.rule_with_file.pk}/attachment/", expect(SEES_A)
    ),
    Case(
        "rule_edit",
        "edit rule form",
        "get",
        lambda s: f"/rules/{s.rule.pk}/edit/",
        expect(RULE_MANAGERS, forbidden=SEES_A - RULE_MANAGERS),
    ),
    Case(
        "rule_edit",
        "correct a rule",
        "post",
        lambda s: f"/rules/{s.rule.pk}/edit/",
        expect(RULE_MANAGERS, status=302, forbidden=SEES_A - RULE_MANAGERS),
        data=lambda s: rule_form(s, "行政审批工作规程（修正）"),
        effect=writes(AUDIT, updated=["controls.Rule"], then=_rule_titled("行政审批工作规程（修正）")),
    ),
    Case(
        "rule_revise",
        "revise a rule",
        "post",
        lambda s: f"/rules/{s.rule.pk}/revise/",
        expect(RULE_MANAGERS, status=302, forbidden=SEES_A - RULE_MANAGERS),
        data=lambda s: {"on": "2026-06-01", "text": "第一条 受理、审查、决定分岗办理，全程留痕。", "note": "增加留痕"},
        effect=writes(AUDIT, updated=["controls.Rule"]),
    ),
    Case(
        "rule_repeal",
        "repeal a rule",
        "post",
        lambda s: f"/rules/{s.rule.pk}/repeal/",
        expect(RULE_MANAGERS, status=302, forbidden=SEES_A - RULE_MANAGERS),
        data=lambda s: {"on": "2026-06-01", "reason": "已被新规程替代"},
        effect=writes(
            AUDIT, updated=["controls.Rule"], then=lambda s: Rule.objects.get(pk=s.rule.pk, repealed_on__isnull=False)
        ),
    ),
    Case(
        "catalogue_export",
        "export the power catalogue",
        "post",
        lambda s: "/org/bureau-a/catalogues/",
        expect(SEES_A),
        data=lambda s: {"kind": "powers", "fmt": "xlsx"},
        effect=writes(AUDIT),
    ),
    Case(
        "disclosure_scope",
        "who reads the public page",
        "post",
        lambda s: "/public/bureau-a/scope/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=lambda s: {"scope": "public"},
        effect=writes("positions.Disclosure", AUDIT),
    ),
]

REPORT_PDF = b"%PDF-1.4\n%%EOF\n"
LEDGER_READERS = OVERSIGHT_A | {"outsider"}  # oversight roles (bureau B's office reads its own ledger)
SUBTREE_A = frozenset({"discipline", "superior"})


def warning_item_form(scene: Scene) -> dict:
    return {
        "institution": scene.w.a.pk,
        "channel": WarningChannel.objects.get(institution=None, code="special_inspection").pk,
        "received_on": "2026-02-25",
        "grade": grade(scene.w.a, 3).pk,
        "subject_kind": "person",
        "subject_user": scene.w.holder.pk,
        "source": "2026年第一季度专项检查",
        "facts": "专项检查发现审批超时未说明理由",
    }


def issue_form(scene: Scene) -> dict:
    item = scene.normal
    return {
        "measure": "warning_reminder",
        "recipient_user": scene.w.holder.pk,
        "recipient_name": "张审批同志",
        "notice_facts": "你在办理企业登记审批中存在超时未说明理由的情况。",
        "requirement": "请对照岗位职责认真自查。",
        "reason": "",
        "response_days": 5,
        "version": WarningItem.objects.get(pk=item.pk).version,
    }


def warning_scale_form(scene: Scene) -> dict:
    """Bureau A's scale (inherited, so the first save copies it) with 三级 renamed and a 4th level."""
    levels = [(g.pk, "一般" if g.rank == 3 else g.label, g.rank, g.band) for g in scale_of(scene.w.a)]
    levels.append((None, "轻微", 4, "low"))
    data = {"levels-TOTAL_FORMS": str(len(levels)), "levels-INITIAL_FORMS": str(len(levels) - 1)}
    for n, (pk, label, rank, band) in enumerate(levels):
        data.update({f"levels-{n}-pk": pk or "", f"levels-{n}-label": label, f"levels-{n}-rank": rank})
        data[f"levels-{n}-band"] = band
    return data


def _scale_saved(scene: Scene) -> None:
    assert [g.label for g in scale_of(scene.w.a)] == ["一级", "二级", "一般", "轻微"]
    assert {g.institution_id for g in scale_of(scene.w.a)} == {scene.w.a.pk}


def _notice_state(name: str, state: str):
    def then(scene: Scene) -> None:
        assert Disposition.objects.get(pk=getattr(scene, name).pk).state == state

    return then


LEDGER = [
    Case(
        "warning_ledger",
        "warning ledger",
        "get",
        lambda s: "/warnings/",
        expect(LEDGER_READERS, forbidden=set(PERSONAS) - LEDGER_READERS),
        setup=lambda s: (s.secret, s.normal),
    ),
    Case(
        "warning_statistics",
        "ledger statistics",
        "get",
        lambda s: "/warnings/statistics/",
        expect(LEDGER_READERS, forbidden=set(PERSONAS) - LEDGER_READERS),
        setup=lambda s: (s.secret, s.normal),
    ),
    Case(
        "warning_ledger_xlsx",
        "ledger as Excel",
        "post",
        lambda s: "/warnings/export.xlsx",
        expect(LEDGER_READERS, forbidden=set(PERSONAS) - LEDGER_READERS),
        data=lambda s: {"band": "medium"},
        effect=writes(AUDIT),
    ),
    Case(
        "warning_ledger_pdf",
        "ledger as PDF",
        "post",
        lambda s: "/warnings/export.pdf",
        expect(LEDGER_READERS, forbidden=set(PERSONAS) - LEDGER_READERS),
        data=lambda s: {"band": "medium"},
        effect=writes(AUDIT),
    ),
    Case(
        "warning_new",
        "new warning form",
        "get",
        lambda s: "/warnings/new/",
        expect({"discipline", "outsider"}, forbidden=set(PERSONAS) - {"discipline", "outsider"}),
    ),
    Case(
        "warning_new",
        "enter a warning",
        "post",
        lambda s: "/warnings/new/",
        expect({"discipline"}, status=302, refused={"outsider"}, forbidden=set(PERSONAS) - {"discipline", "outsider"}),
        data=warning_item_form,
        effect=writes("integrity_warnings.WarningItem", AUDIT),
    ),
    Case("my_notices", "my notices", "get", lambda s: "/warnings/mine/", everyone()),
    Case(
        "warning_grades",
        "warning grade scale",
        "get",
        lambda s: "/warnings/grades/bureau-a/",
        expect({"discipline"}, forbidden=SEES_A - {"discipline"}),
    ),
    Case(
        "warning_grades",
        "save the warning grade scale",
        "post",
        lambda s: "/warnings/grades/bureau-a/",
        expect({"discipline"}, status=302, forbidden=SEES_A - {"discipline"}),
        data=warning_scale_form,
        effect=writes("integrity_warnings.WarningGrade", AUDIT, then=_scale_saved),
    ),
    Case(
        "warning_detail",
        "confidential warning",
        "get",
        lambda s: f"/warnings/{s.secret.pk}/",
        expect(SUBTREE_A),
        effect=writes(AUDIT),  # the handler's read of the confidential fields is audited
        effect_for=frozenset({"discipline"}),
    ),
    Case("warning_detail", "warning", "get", lambda s: f"/warnings/{s.normal.pk}/", expect(OVERSIGHT_A)),
    Case(
        "warning_verify",
        "verify a warning",
        "post",
        lambda s: f"/warnings/{s.normal.pk}/verify/",
        expect({"discipline"}, status=302, forbidden=OVERSIGHT_A - {"discipline"}),
        data=lambda s: {"verification": "true", "version": WarningItem.objects.get(pk=s.normal.pk).version},
        effect=writes(AUDIT, updated=["integrity_warnings.WarningItem"]),
    ),
    Case(
        "warning_grant",
        "grant a handler",
        "post",
        lambda s: f"/warnings/{s.secret.pk}/handlers/",
        expect({"discipline"}, status=302, forbidden={"superior"}),
        data=lambda s: {"user": s.colleague.pk},
        effect=writes(AUDIT),
    ),
    Case(
        "disposition_issue",
        "notice form, confidential",
        "get",
        lambda s: f"/warnings/{s.secret.pk}/issue/",
        expect({"discipline"}, forbidden={"superior"}),
    ),
    Case(
        "disposition_issue",
        "issue a notice",
        "post",
        lambda s: f"/warnings/{s.normal.pk}/issue/",
        expect({"discipline"}, status=302, forbidden=OVERSIGHT_A - {"discipline"}),
        data=issue_form,
        effect=writes("integrity_warnings.Disposition", AUDIT),
    ),
    Case(
        "disposition_detail",
        "notice, confidential",
        "get",
        lambda s: f"/warnings/notices/{s.secret_notice.pk}/",
        expect(SUBTREE_A | {"holder"}),
    ),
    Case(
        "disposition_detail",
        "notice",
        "get",
        lambda s: f"/warnings/notices/{s.normal_notice.pk}/",
        expect(OVERSIGHT_A | {"holder"}),
    ),
    Case(
        "disposition_pdf",
        "notice as PDF",
        "post",
        lambda s: f"/warnings/notices/{s.normal_notice.pk}/pdf/",
        expect(OVERSIGHT_A | {"holder"}),
        data=lambda s: {},
        effect=writes(AUDIT),
    ),
    Case(
        "disposition_step",
        "answer a notice",
        "post",
        lambda s: f"/warnings/notices/{s.normal_notice.pk}/respond/",
        expect({"holder"}, status=302, forbidden=OVERSIGHT_A),
        data=lambda s: {"version": s.normal_notice.version, "cause_analysis": "原因", "measures_taken": "措施"},
        effect=writes(
            AUDIT, updated=["integrity_warnings.Disposition"], then=_notice_state("normal_notice", "answered")
        ),
    ),
    Case(
        "disposition_step",
        "accept the answer",
        "post",
        lambda s: f"/warnings/notices/{s.answered_notice.pk}/accept/",
        expect({"discipline"}, status=302, forbidden=(OVERSIGHT_A - {"discipline"}) | {"holder"}),
        data=lambda s: {"version": Disposition.objects.get(pk=s.answered_notice.pk).version},
        effect=writes(AUDIT, updated=["integrity_warnings.Disposition"]),
    ),
    Case(
        "warning_point_new",
        "draft a risk point from a warning (form)",
        "get",
        lambda s: f"/warnings/{s.normal.pk}/risk-point/",
        expect({"holder", "head"}),
    ),
    Case(
        "warning_point_new",
        "draft a risk point from a warning",
        "post",
        lambda s: f"/warnings/{s.normal.pk}/risk-point/",
        expect({"holder", "head"}, status=302),
        data=lambda s: point_form(s, "审批超时未说明理由的风险"),
        effect=writes("risk_registry.RiskPoint", "integrity_warnings.WarningItem_risk_points", AUDIT),
    ),
    Case(
        "disposition_attachment_add",
        "attach a file to the report",
        "post",
        lambda s: f"/warnings/notices/{s.normal_notice.pk}/files/",
        expect({"holder"}, status=302, forbidden=OVERSIGHT_A),
        data=lambda s: {"file": SimpleUploadedFile("整改报告.pdf", REPORT_PDF, content_type="application/pdf")},
        effect=writes("integrity_warnings.ReportAttachment", AUDIT),
    ),
    Case(
        "disposition_attachment",
        "download a report's file",
        "post",
        lambda s: f"/warnings/files/{s.attachment.pk}/",
        expect({"holder", "discipline"}, forbidden=OVERSIGHT_A - {"discipline"}),
        data=lambda s: {},
        effect=writes(AUDIT),
    ),
]

SURVEY_READERS = frozenset({"discipline", "superior"})  # the offices whose subtree holds bureau A


def survey_round_form(scene: Scene) -> dict:
    return {
        "institution": scene.w.a.pk,
        "year": 2026,
        "name": "环境调查",
        "external": "收受红包礼金\n接受宴请",
        "internal": "小金库",
        "time_bucket": "week",
        "min_group": 5,
    }


SURVEYS = [
    Case("survey_list", "survey rounds", "get", lambda s: "/surveys/", everyone()),
    Case(
        "survey_open",
        "open form",
        "get",
        lambda s: "/surveys/new/",
        expect(CYCLE_LAUNCHERS, forbidden=set(PERSONAS) - CYCLE_LAUNCHERS),
    ),
    Case(
        "survey_open",
        "open bureau A's round",
        "post",
        lambda s: "/surveys/new/",
        expect({"discipline"}, status=302, refused={"superior", "outsider"}, forbidden=set(PERSONAS) - CYCLE_LAUNCHERS),
        data=survey_round_form,
        effect=writes("assessments.SurveyRound", AUDIT),
    ),
    Case(
        "survey_detail", "round and results", "get", lambda s: f"/surveys/{s.survey_round.pk}/", expect(SURVEY_READERS)
    ),
    Case(
        "survey_codes_issue",
        "issue codes",
        "post",
        lambda s: f"/surveys/{s.survey_round.pk}/codes/",
        expect({"discipline"}, status=302, forbidden={"superior"}),
        data=lambda s: {"questionnaire": "internal", "group": "non_business", "count": 3},
        effect=writes(
            "assessments.SurveyCode",
            AUDIT,
            updated=["assessments.SurveyRound"],
            then=lambda s: SurveyRound.objects.get(pk=s.survey_round.pk, codes_issued=5),
        ),
    ),
    Case(
        "survey_codes_print",
        "print the codes",
        "post",
        lambda s: f"/surveys/{s.survey_round.pk}/print/",
        expect({"discipline"}, forbidden={"superior"}),
        data=lambda s: {},
        effect=writes(
            AUDIT,
            updated=["assessments.SurveyCode"],
            then=lambda s: not SurveyCode.objects.filter(round=s.survey_round, printed=False).exists(),
        ),
    ),
    Case(
        "survey_export",
        "survey results as Excel",
        "post",
        lambda s: f"/surveys/{s.survey_round.pk}/export.xlsx",
        expect(SURVEY_READERS),
        effect=writes(AUDIT),
    ),
    Case(
        "survey_close",
        "close the round",
        "post",
        lambda s: f"/surveys/{s.survey_round.pk}/close/",
        expect({"discipline"}, status=302, forbidden={"superior"}),
        data=lambda s: {},
        effect=writes(
            AUDIT,
            updated=["assessments.SurveyRound"],
            deleted=["assessments.SurveyCode"],
            then=lambda s: not SurveyCode.objects.filter(round=s.survey_round).exists(),
        ),
    ),
]


def rating_round_form(scene: Scene) -> dict:
    return {
        "institution": scene.w.a.pk,
        "year": 2026,
        "name": "班子测评",
        "positions": [scene.w.position.pk],
        "indicators": "政治素质：理想信念\n道德素质：廉洁自律\n法治素质：依法用权",
        "tier_1": "0.5",
        "tier_2": "0.3",
        "tier_3": "0.2",
    }


def all_graded(scene: Scene) -> dict:
    return {f"{factor}|{sub}": "good" for factor, subs in DEFAULT_INDICATORS.items() for sub in subs}


RATINGS = [
    Case("rating_list", "rating rounds and my invitations", "get", lambda s: "/ratings/", everyone()),
    Case(
        "rating_open",
        "open form",
        "get",
        lambda s: "/ratings/new/",
        expect(CYCLE_LAUNCHERS, forbidden=set(PERSONAS) - CYCLE_LAUNCHERS),
    ),
    Case(
        "rating_open",
        "open bureau A's rating",
        "post",
        lambda s: "/ratings/new/",
        expect({"discipline"}, status=302, refused={"superior", "outsider"}, forbidden=set(PERSONAS) - CYCLE_LAUNCHERS),
        data=rating_round_form,
        effect=writes("assessments.RatingRound", AUDIT),
    ),
    Case("rating_detail", "scores", "get", lambda s: f"/ratings/{s.rating_round.pk}/", expect(SURVEY_READERS)),
    Case(
        "rating_export",
        "rating results as PDF",
        "post",
        lambda s: f"/ratings/{s.rating_round.pk}/export.pdf",
        expect(SURVEY_READERS),
        effect=writes(AUDIT),
    ),
    Case(
        "rating_invite",
        "invite a rater",
        "post",
        lambda s: f"/ratings/{s.rating_round.pk}/invite/",
        expect({"discipline"}, status=302, forbidden={"superior"}),
        data=lambda s: {"position": s.w.position.pk, "rater": s.w.head.pk, "tier": 2},
        effect=writes(
            "assessments.RatingInvitation",
            AUDIT,
            then=lambda s: RatingInvitation.objects.get(round=s.rating_round, rater=s.w.head, tier=2),
        ),
    ),
    Case(
        "rating_close",
        "close the rating",
        "post",
        lambda s: f"/ratings/{s.rating_round.pk}/close/",
        expect({"discipline"}, status=302, forbidden={"superior"}),
        data=lambda s: {},
        effect=writes(
            AUDIT,
            updated=["assessments.RatingRound"],
            then=lambda s: RatingRound.objects.get(pk=s.rating_round.pk, state="closed", response_count=0),
        ),
    ),
    Case(
        "rating_rate", "rating form", "get", lambda s: f"/ratings/invitations/{s.invitation.pk}/", expect({"holder2"})
    ),
    Case(
        "rating_rate",
        "rate the post",
        "post",
        lambda s: f"/ratings/invitations/{s.invitation.pk}/",
        expect({"holder2"}, status=302),
        data=all_graded,
        effect=writes(
            "assessments.Rating",
            updated=["assessments.RatingInvitation"],
            then=lambda s: Rating.objects.get(round=s.rating_round, tier=1),
        ),
    ),
    Case(
        "post_profiles",
        "posts' measures and profile",
        "get",
        lambda s: "/measures/bureau-a/?year=2026",
        expect(SURVEY_READERS),
    ),
]

CASES: list[Case] = (
    POINTS + POST_GRADES + POWERS + RULES + WORKFLOW + CYCLE + UNITS + SURVEYS + RATINGS + DOCUMENTS + LEDGER + ACCOUNTS
)
