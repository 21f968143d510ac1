"""The leak crawler: every persona of the demo county × every page route × the demo's ids.

Every object with free text carries a unique marker (``mk<kind><id>k``) and a draft's earlier
wording carries its own (``mkD<id>k``, written through the services, so the audit trail saw it).
An oracle built from the data model alone (memberships, open holdings, the institution tree, the
points' states: not the access module) says who may read which marker; a marker found on a page
the oracle denies is a leak. The goal, and the assertion, is zero.

Ids are sampled per route kind (every institution and department, points and controls spread
over every institution and state), so that the crawl stays within a minute; every route of the
URL map is crawled (a route neither crawled nor listed as POST-only fails the test).
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, TextField, Value
from django.db.models.functions import Cast, Concat
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from assessments.models import Cycle, Notification
from assessments.survey_models import RatingRound, SurveyRound
from conftest import SESSION_WORLD
from controls.models import Control, ControlRevision, ControlRun, Rule
from integrity_warnings.models import Disposition, WarningItem
from positions.models import Holding, Position, PowerItem
from risk_registry.demo.build import demo_seed
from risk_registry.models import LevelProposal, NoticeComment, PostGrade, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Department, Institution, Membership, Role
from risk_registry.services import post_grades_refresh, risk_point_update
from risk_registry.workflow.transitions import Change, transition_apply

YEAR = 2026
MARKER = re.compile(r"mk([PDCRNL])(\d+)k")
PUBLISHED = (RiskPointState.IN_NOTICE, RiskPointState.ISSUED)
OVERSIGHT = (Role.DISCIPLINE, Role.SUPERIOR)
INSTITUTION_WIDE = (Role.LEADERSHIP, Role.PRINCIPAL)
# Routes crawled once, by one persona: they answer only POST (a GET is a 405 before anything is
# read) or show nothing of the register (sign-in pages, a job token nobody owns, the health check).
ONCE = {
    "survey_codes_issue",
    "survey_codes_print",
    "survey_close",
    "survey_export",  # POST only, files (no HTML to read markers in), and an audited read each
    "rating_export",
    "rating_invite",
    "rating_close",
    "logout",
    "set_language",
    "notifications_mark_read",
    "cycle_close",
    "risk_point_step",
    "risk_point_propose",
    "proposal_decide",
    "register_decide",
    "register_rules",
    "register_publish",
    "register_comment",
    "register_issue",
    "register_file",
    "comment_answer",
    "documents_export",
    "documents_version_export",
    "documents_archive",
    "documents_import_confirm",
    "documents_wizard_upload",
    "documents_wizard_step",
    "documents_wizard_confirm",
    "documents_wizard_restart",
    "documents_import_template",
    "power_retire",
    "rule_revise",
    "rule_repeal",
    "catalogue_export",
    "disclosure_scope",
    "warning_verify",
    "warning_grant",
    "disposition_step",
    "warning_ledger_xlsx",  # files (no HTML to read markers in), and an audited read each
    "warning_ledger_pdf",
    "disposition_pdf",
    "disposition_attachment_add",  # a POST of a file; the download is a file and an audited read
    "disposition_attachment",
    "documents_job",
    "documents_job_download",
    "unit_export",  # POST only, like the other exports; the unit assessment's writes are POSTs too
    "unit_open",
    "unit_self_score",
    "unit_evidence_upload",
    "unit_evidence_file",  # a file (no HTML), and the demo has none
    "unit_assess",
    "unit_outcome",
    "unit_rectified",
    "checklist_adopt",
    "login",
    "password_change",
    "password_change_done",
    "health",
}
# How many of a route's URLs each persona visits; the personas take turns, so that together they
# visit every URL of the route (pages without ids: every persona visits every one).
PER_PERSONA = {"risk_point_detail": 2, "audit_log": 2}


@dataclass
class Demo:
    users: list = field(default_factory=list)
    urls: dict[str, list[str]] = field(default_factory=dict)  # route name -> crawled URLs
    point_state: dict[int, str] = field(default_factory=dict)
    point_home: dict[int, tuple[str, int, int | None]] = field(default_factory=dict)  # path, department, position
    control_point: dict[int, int] = field(default_factory=dict)
    run_point: dict[int, int] = field(default_factory=dict)
    proposal_point: dict[int, int] = field(default_factory=dict)
    comment_institution: dict[int, str] = field(default_factory=dict)  # comment -> institution path
    issued_once: set[int] = field(default_factory=set)  # points issued at some time (audit trail)


def _marked(kind: str, column: str) -> Concat:
    """``mk<kind><id>k `` in front of a text column, in one UPDATE."""
    return Concat(Value(f"mk{kind}"), Cast("id", TextField()), Value("k "), F(column), output_field=TextField())


def _mark_objects(demo: Demo) -> None:
    """Markers in every object's text; a draft's first wording through the services (audited)."""
    drafts = list(RiskPoint.objects.filter(state=RiskPointState.DRAFT).select_related("position", "department"))
    authors = _authors(drafts)
    for point in drafts:
        author = authors.get(point.pk)
        if author is None:
            continue
        controls = list(point.controls.all())
        for wording, measure in ((f"mkD{point.pk}k ", f"mkD{point.pk}k "), ("", "")):  # then back again
            risk_point_update(
                by=author,
                risk_point=point,
                fields={"description": wording + point.description},
                controls=[{"id": c.pk, "measure": measure + c.measure} for c in controls],
            )
    RiskPoint.objects.update(
        description=_marked("P", "description"),
        manifestation=_marked("P", "manifestation"),
    )
    # half of the drafts are submitted now: their earlier wording must stay with their author's side
    for number, point in enumerate(drafts):
        author = authors.get(point.pk)
        if author is not None and number % 2 == 0:
            transition_apply(by=author, name="submit", changes=[Change(point_id=point.pk)])
    _reopen_one_issued_point()
    Control.objects.update(measure=_marked("C", "measure"))
    ControlRun.objects.update(description=_marked("R", "description"))
    NoticeComment.objects.update(text=_marked("N", "text"))
    LevelProposal.objects.update(reason=_marked("L", "reason"))
    for pk, state, path, department, position in RiskPoint.objects.values_list(
        "pk", "state", "institution__path", "department_id", "position_id"
    ):
        demo.point_state[pk] = state
        demo.point_home[pk] = (path, department, position)
    # Issued once (by the audit trail, not by the column the access module reads): a draft among
    # them is reopened for revision (修订中) and is read as the issued point was.
    demo.issued_once = set(
        AuditEntry.objects.filter(
            target_type="risk_registry.riskpoint", action__in=("risk_point.issue", "risk_point.revise")
        ).values_list("target_id", flat=True)
    )
    assert any(demo.point_state[pk] == RiskPointState.DRAFT for pk in demo.issued_once), "no reopened point"
    demo.control_point = dict(Control.objects.values_list("pk", "risk_point_id"))
    demo.run_point = dict(ControlRun.objects.values_list("pk", "control__risk_point_id"))
    demo.proposal_point = dict(LevelProposal.objects.values_list("pk", "risk_point_id"))
    demo.comment_institution = dict(NoticeComment.objects.values_list("pk", "register__institution__path"))


def _reopen_one_issued_point() -> None:
    """The discipline office of an issued point's institution reopens it for revision (修订中)."""
    offices = {m.institution_id: m.user for m in Membership.objects.filter(role=Role.DISCIPLINE).order_by("-id")}
    point = (
        RiskPoint.objects.filter(state=RiskPointState.ISSUED, institution_id__in=offices, position__isnull=False)
        .order_by("id")
        .first()
    )
    assert point is not None, "the demo has no issued point to reopen"
    transition_apply(
        by=offices[point.institution_id], name="revise", changes=[Change(point_id=point.pk)], reason="修订"
    )


def _authors(points) -> dict[int, object]:
    """An author-side user of each draft: an open holder of its post, or the department's head."""
    holders = {}
    for holding in Holding.objects.filter(ended_on__isnull=True).select_related("user").order_by("id"):
        holders.setdefault(holding.position_id, holding.user)
    heads = {}
    for membership in Membership.objects.filter(role=Role.DEPT_HEAD).select_related("user").order_by("id"):
        heads.setdefault(membership.department_id, membership.user)
    return {
        p.pk: holders.get(p.position_id) if p.position_id else heads.get(p.department_id)
        for p in points
        if (holders.get(p.position_id) if p.position_id else heads.get(p.department_id)) is not None
    }


# --- the oracle: from the data model, not from risk_registry.access ---------------------------


@dataclass(frozen=True)
class Reader:
    held: frozenset[int]
    headed: frozenset[int]
    oversight: tuple[str, ...]  # institution paths of discipline/superior memberships
    institution_wide: frozenset[str]  # paths of leadership/principal memberships
    staff_of: frozenset[str]  # paths of every institution with a role or an open holding


def _readers(users) -> dict[int, Reader]:
    memberships = defaultdict(list)
    for m in Membership.objects.select_related("institution"):
        memberships[m.user_id].append(m)
    holdings = defaultdict(list)
    for h in Holding.objects.filter(ended_on__isnull=True).select_related("position__institution"):
        holdings[h.user_id].append(h)
    readers = {}
    for user in users:
        ms, hs = memberships[user.pk], holdings[user.pk]
        readers[user.pk] = Reader(
            held=frozenset(h.position_id for h in hs),
            headed=frozenset(m.department_id for m in ms if m.role == Role.DEPT_HEAD),
            oversight=tuple(m.institution.path for m in ms if m.role in OVERSIGHT),
            institution_wide=frozenset(m.institution.path for m in ms if m.role in INSTITUTION_WIDE),
            staff_of=frozenset({m.institution.path for m in ms} | {h.position.institution.path for h in hs}),
        )
    return readers


def _may_read_point(reader: Reader, demo: Demo, pk: int) -> bool:
    path, department, position = demo.point_home[pk]
    authors_side = (position is not None and position in reader.held) or department in reader.headed
    issued_once = pk in demo.issued_once  # a draft issued before is reopened for revision (修订中)
    if demo.point_state[pk] == RiskPointState.DRAFT and not issued_once:
        return authors_side
    return (
        authors_side
        or any(path.startswith(p) for p in reader.oversight)
        or path in reader.institution_wide
        or ((demo.point_state[pk] in PUBLISHED or issued_once) and path in reader.staff_of)
    )


def _may_read(reader: Reader, demo: Demo, kind: str, pk: int) -> bool:
    if kind == "P":
        return _may_read_point(reader, demo, pk)
    if kind == "D":  # a draft's earlier wording: its author's side only, whatever its state now
        _path, department, position = demo.point_home[pk]
        return (position is not None and position in reader.held) or department in reader.headed
    if kind == "C":
        return _may_read_point(reader, demo, demo.control_point[pk])
    if kind == "R":
        return _may_read_point(reader, demo, demo.run_point[pk])
    if kind == "L":
        return _may_read_point(reader, demo, demo.proposal_point[pk])
    if kind == "N":  # comments are the institution's: its staff and those who oversee it
        path = demo.comment_institution[pk]
        return path in reader.staff_of or any(path.startswith(p) for p in reader.oversight)
    raise AssertionError(kind)


# --- the routes and their ids -----------------------------------------------------------------


def _routes(resolver=None, prefix: str = ""):
    """(name, pattern text) of every named route of the URL map, admin aside."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if text.startswith("admin/"):
                continue
            yield from _routes(entry, text)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, text


def _urls(demo: Demo) -> dict[str, list[str]]:
    point_ids = list(RiskPoint.objects.order_by("institution__path", "state", "id").values_list("pk", flat=True))
    controls = list(Control.objects.order_by("risk_point__institution__path", "id").values_list("pk", flat=True))
    codes = list(Institution.objects.order_by("path").values_list("code", flat=True))
    years = sorted(set(RiskPoint.objects.values_list("year", flat=True)))
    versions = list(RegisterVersion.objects.order_by("id").values_list("pk", "register_id"))
    cycles = list(Cycle.objects.order_by("id").values_list("pk", flat=True))
    departments = list(Department.objects.order_by("id").values_list("pk", flat=True))
    positions = list(Position.objects.order_by("id").values_list("pk", flat=True))
    proposals = list(LevelProposal.objects.values_list("pk", flat=True))
    revisions = list(ControlRevision.objects.order_by("id").values_list("pk", flat=True)) or [1]
    post_grades = list(PostGrade.objects.order_by("id").values_list("pk", flat=True))
    powers = list(PowerItem.objects.order_by("id").values_list("pk", flat=True))
    rules = list(Rule.objects.order_by("id").values_list("pk", flat=True)) or [1]
    warnings_ = list(WarningItem.objects.order_by("id").values_list("pk", flat=True)) or [1]
    surveys_ = list(SurveyRound.objects.order_by("id").values_list("pk", flat=True)) or [1]
    ratings_ = list(RatingRound.objects.order_by("id").values_list("pk", flat=True)) or [1]
    notices = list(Disposition.objects.order_by("id").values_list("pk", flat=True)) or [1]
    comments = list(NoticeComment.objects.values_list("pk", flat=True))
    # the demo's scan: its digests and notices (a few: each is its recipient's alone, 404 to others)
    notifications = list(Notification.objects.order_by("id").values_list("pk", flat=True)[:12]) or [1]
    registers = [(code, year) for code in codes for year in years]
    against = {}
    for pk, register in versions:
        against.setdefault(register, []).append(pk)
    return {
        "home": ["/"],
        "health": ["/health/"],
        "institution_tree": ["/org/", "/org/?q=局"],
        "institution_detail": [f"/org/{c}/" for c in codes],
        "department_detail": [f"/departments/{d}/" for d in departments],
        "department_risk_point_create": [f"/departments/{d}/risks/new/" for d in departments],
        "position_detail": [f"/positions/{p}/" for p in positions],
        "power_list": [f"/org/{c}/powers/" for c in codes],
        "power_create": [f"/org/{c}/powers/new/" for c in codes],
        "rotation": [f"/org/{c}/rotation/" for c in codes],
        "grading_scheme_edit": [f"/org/{c}/grading/" for c in codes],
        "grading_scheme_switch": [f"/org/{c}/grading/switch/?preset=abc" for c in codes],
        "post_grade_list": [f"/org/{c}/post-grades/{YEAR}/" for c in codes],
        "post_grade_decide": [f"/post-grades/{pk}/decide/" for pk in post_grades[:1]] or ["/post-grades/1/decide/"],
        "watch": [f"/watch/?year={YEAR}"],
        "oversight_dashboard": ["/dashboards/oversight/", f"/dashboards/oversight/?year={YEAR}"],
        "leadership_dashboard": ["/dashboards/leadership/", f"/dashboards/leadership/?year={YEAR}"],
        "my_dashboard": ["/dashboards/mine/", f"/dashboards/mine/?year={YEAR}"],
        "power_detail": [f"/powers/{pk}/" for pk in powers],
        "power_edit": [f"/powers/{pk}/edit/" for pk in powers],
        "power_steps": [f"/powers/{pk}/steps/" for pk in powers],
        "power_retire": [f"/powers/{pk}/retire/" for pk in powers[:1]],
        "rule_list": [f"/org/{c}/rules/" for c in codes],
        "rule_create": [f"/org/{c}/rules/new/" for c in codes],
        "rule_detail": [f"/rules/{pk}/" for pk in rules],
        "rule_edit": [f"/rules/{pk}/edit/" for pk in rules],
        "rule_revise": [f"/rules/{rules[0]}/revise/"],
        "rule_repeal": [f"/rules/{rules[0]}/repeal/"],
        "rule_attachment": [f"/rules/{pk}/attachment/" for pk in rules],
        "public_rule_attachment": [f"/public/{c}/rules/{rules[0]}/attachment/" for c in codes],
        "power_import": [f"/org/{c}/powers/import/" for c in codes],
        "power_import_confirm": [f"/org/{codes[0]}/powers/import/confirm/"],
        "power_import_template": [f"/org/{c}/powers/import/template/" for c in codes],
        "catalogue_export": [f"/org/{codes[0]}/catalogues/"],
        "public_page": [f"/public/{c}/" for c in codes],
        "disclosure_scope": [f"/public/{codes[0]}/scope/"],
        # The warning ledger's own confidentiality has its own tests (warnings/tests); here its pages
        # are crawled for the register's markers, which they must not show beyond the oracle either.
        "warning_ledger": ["/warnings/"],
        "warning_ledger_xlsx": ["/warnings/export.xlsx"],
        "warning_ledger_pdf": ["/warnings/export.pdf"],
        "warning_new": ["/warnings/new/"],
        "my_notices": ["/warnings/mine/"],
        "warning_grades": [f"/warnings/grades/{c}/" for c in codes],
        # the point form's coaching suggests controls of earlier years' published points
        "risk_point_coach": [
            f"/risks/coach/?institution={c}&risk_type={t}"
            for c in codes
            for t in sorted(set(RiskPoint.objects.values_list("risk_type_id", flat=True)))
        ],
        "warning_detail": [f"/warnings/{pk}/" for pk in warnings_],
        "warning_verify": [f"/warnings/{warnings_[0]}/verify/"],
        "warning_grant": [f"/warnings/{warnings_[0]}/handlers/"],
        "disposition_issue": [f"/warnings/{pk}/issue/" for pk in warnings_],
        "disposition_detail": [f"/warnings/notices/{pk}/" for pk in notices],
        "disposition_pdf": [f"/warnings/notices/{notices[0]}/pdf/"],
        "disposition_step": [f"/warnings/notices/{notices[0]}/accept/"],
        "disposition_attachment_add": [f"/warnings/notices/{notices[0]}/files/"],
        "disposition_attachment": ["/warnings/files/1/"],
        "warning_statistics": ["/warnings/statistics/"],
        "warning_point_new": [f"/warnings/{pk}/risk-point/" for pk in warnings_],
        "position_risk_point_create": [f"/positions/{p}/risks/new/" for p in positions],
        "risk_point_list": ["/risks/", "/risks/?q=mk", *(f"/risks/?institution={c}&year={YEAR}" for c in codes)],
        "risk_point_detail": [f"/risks/{pk}/" for pk in point_ids],
        "risk_point_edit": [f"/risks/{pk}/edit/" for pk in point_ids],
        "risk_point_step": [f"/risks/{pk}/step/submit/" for pk in point_ids[:3]],
        "risk_point_propose": [f"/risks/{point_ids[0]}/propose/"],
        "proposal_decide": [f"/proposals/{pk}/decide/" for pk in proposals[:1]] or ["/proposals/1/decide/"],
        "control_revision_create": [f"/risks/{pk}/controls/revise/" for pk in point_ids],
        "control_revision_detail": [f"/control-revisions/{pk}/" for pk in revisions],
        "control_revision_review": [f"/control-revisions/{pk}/review/" for pk in revisions[:1]],
        "register_detail": [f"/registers/{c}/{y}/" for c, y in registers],
        "register_batch": [f"/registers/{c}/{YEAR}/batch/{step}/" for c in codes for step in ("review", "define")],
        "register_bulk": [f"/registers/{codes[0]}/{YEAR}/bulk/"],
        "register_superior": [f"/registers/{codes[0]}/{YEAR}/superior/"],
        "decision_attachment": ["/attachments/1/"],  # the demo's decisions carry no file
        "register_decide": [f"/registers/{codes[0]}/{YEAR}/decide/"],
        "register_rules": [f"/registers/{codes[0]}/{YEAR}/rules/"],
        "register_publish": [f"/registers/{codes[0]}/{YEAR}/publish/"],
        "register_comment": [f"/registers/{codes[0]}/{YEAR}/comment/"],
        "register_issue": [f"/registers/{codes[0]}/{YEAR}/issue/"],
        "register_file": [f"/registers/{codes[0]}/{YEAR}/file/"],
        "comment_answer": [f"/comments/{pk}/answer/" for pk in comments[:1]] or ["/comments/1/answer/"],
        "filings": ["/filings/"],
        "version_detail": [
            f"/versions/{pk}/" + (f"?against={other}" if (other := next(iter(set(against[r]) - {pk}), None)) else "")
            for pk, r in versions
        ],
        "inbox": ["/inbox/"],
        "audit_log": ["/audit/", "/audit/?action=risk_point", "/audit/?action=control", "/audit/?action=notice"],
        "my_tasks": ["/tasks/"],
        "notifications_mark_read": ["/tasks/read/"],
        "notification_detail": [f"/notifications/{pk}/" for pk in notifications],
        "cycle_list": ["/cycles/"],
        # The study's measures (docs/surveys.md): the demo has a closed survey and a closed rating
        # round of the market bureau (risk_registry/demo/measures.py); the lists, the rounds, the
        # profiles and the public answer page are crawled for markers.
        "survey_list": ["/surveys/"],
        "survey_open": ["/surveys/new/"],
        "survey_detail": [f"/surveys/{pk}/" for pk in surveys_],
        "survey_codes_issue": [f"/surveys/{surveys_[0]}/codes/"],
        "survey_codes_print": [f"/surveys/{surveys_[0]}/print/"],
        "survey_close": [f"/surveys/{surveys_[0]}/close/"],
        "survey_export": [f"/surveys/{surveys_[0]}/export.xlsx"],
        "survey_answer": ["/s/"],
        "rating_list": ["/ratings/"],
        "rating_open": ["/ratings/new/"],
        "rating_detail": [f"/ratings/{pk}/" for pk in ratings_],
        "rating_invite": [f"/ratings/{ratings_[0]}/invite/"],
        "rating_close": [f"/ratings/{ratings_[0]}/close/"],
        "rating_export": [f"/ratings/{ratings_[0]}/export.pdf"],
        "rating_rate": ["/ratings/invitations/1/"],
        "post_profiles": [f"/measures/{c}/?year={YEAR}" for c in codes],
        "cycle_launch": ["/cycles/new/"],
        "cycle_board": [f"/cycles/{pk}/" for pk in cycles],
        "cycle_edit": [f"/cycles/{pk}/edit/" for pk in cycles],
        "cycle_close": [f"/cycles/{pk}/close/" for pk in cycles[:1]],
        "self_assessment": [f"/cycles/{pk}/self-assessment/{c}/" for pk in cycles for c in codes],
        "year_changes": [f"/cycles/{pk}/changes/{c}/" for pk in cycles for c in codes],
        "unit_compare": [f"/cycles/{pk}/units/" for pk in cycles],
        "unit_export": [f"/cycles/{cycles[0]}/units/export.xlsx"],
        "unit_assessment": [f"/cycles/{pk}/units/{c}/" for pk in cycles for c in codes],
        "unit_open": [f"/cycles/{cycles[0]}/units/{codes[0]}/open/"],
        "unit_self_score": [f"/cycles/{cycles[0]}/units/{codes[0]}/self/"],
        "unit_evidence_upload": [f"/cycles/{cycles[0]}/units/{codes[0]}/items/1/files/"],
        "unit_evidence_file": [f"/cycles/{cycles[0]}/units/{codes[0]}/files/1/"],
        "unit_assess": [f"/cycles/{cycles[0]}/units/{codes[0]}/assess/"],
        "unit_outcome": [f"/cycles/{cycles[0]}/units/{codes[0]}/outcomes/"],
        "unit_rectified": [f"/cycles/{cycles[0]}/units/{codes[0]}/outcomes/1/done/"],
        "checklist_list": ["/assessment-checklists/"],
        "checklist_adopt": ["/assessment-checklists/adopt/"],
        "checklist_edit": ["/assessment-checklists/1/"],
        "control_run_create": [f"/controls/{pk}/runs/new/" for pk in controls],
        "documents_home": ["/documents/", *(f"/documents/?institution={c}&year={YEAR}" for c in codes)],
        "documents_export": ["/documents/export/"],
        "documents_version_export": [f"/documents/versions/{pk}/export/" for pk, _r in versions[:1]],
        "documents_archive": ["/documents/archive/"],
        "documents_job": ["/documents/jobs/00000000-0000-0000-0000-000000000000/"],
        "documents_job_download": ["/documents/jobs/00000000-0000-0000-0000-000000000000/download/"],
        "documents_import": [f"/documents/import/{c}/" for c in codes],
        "documents_import_confirm": [f"/documents/import/{codes[0]}/confirm/"],
        "documents_import_job": [f"/documents/import/{codes[0]}/jobs/00000000-0000-0000-0000-000000000000/"],
        "documents_import_template": [f"/documents/import/{codes[0]}/template.xlsx"],
        "documents_wizard": [f"/documents/import/{c}/wizard/" for c in codes],
        "documents_wizard_upload": [f"/documents/import/{codes[0]}/wizard/upload/"],
        "documents_wizard_step": [f"/documents/import/{codes[0]}/wizard/step/"],
        "documents_wizard_confirm": [f"/documents/import/{codes[0]}/wizard/confirm/"],
        "documents_wizard_restart": [f"/documents/import/{codes[0]}/wizard/restart/"],
        "login": ["/accounts/login/"],
        "logout": ["/accounts/logout/"],
        "password_change": ["/accounts/password/"],
        "password_change_done": ["/accounts/password/done/"],
        "set_language": ["/i18n/setlang/"],
    }


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo county with markers, built once for the module and rolled back after it."""
    with django_db_blocker.unblock(), transaction.atomic():
        SESSION_WORLD.hide()  # the demo is built on the database as the migrations leave it
        demo_seed(year=YEAR, password="crawler-password-1")
        for institution in Institution.objects.all():  # post grades proposed, as an office would
            post_grades_refresh(by=None, institution=institution, year=YEAR)
        built = Demo()
        _mark_objects(built)
        built.users = list(get_user_model().objects.filter(is_active=True).order_by("username"))
        built.urls = _urls(built)
        yield built
        transaction.set_rollback(True)


def _visits(demo: Demo):
    """(user, route, url): every persona on every route, the URLs of a route shared out among them."""
    for number, user in enumerate(demo.users):
        for name, urls in demo.urls.items():
            if name in ONCE:
                if number == 0:
                    yield from ((user, name, url) for url in urls)
                continue
            take = min(len(urls), max(PER_PERSONA.get(name, 1), math.ceil(len(urls) / len(demo.users))))
            for k in range(take):
                yield user, name, urls[(number * take + k) % len(urls)]


@pytest.mark.django_db
def test_no_persona_reads_a_marker_the_data_model_denies(demo):
    """One test (the demo is built once per xdist worker that runs it): routes, then the crawl."""
    names = {name for name, _pattern in _routes()}
    assert names - set(demo.urls) == set(), "a route the crawler does not visit"
    assert set(demo.urls) - names == set()
    readers = _readers(demo.users)
    leaks, errors, visited, requests = [], [], set(), 0
    seen_markers: set[str] = set()
    clients = {}
    quiet = logging.getLogger("django.request")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # 403 and 404 are expected here by the thousand
    try:
        for user, name, url in _visits(demo):
            if user.pk not in clients:
                clients[user.pk] = Client()
                clients[user.pk].force_login(user)
            response = clients[user.pk].get(url)
            requests += 1
            visited.add(url)
            if response.status_code >= 500:
                errors.append((user.username, url, response.status_code))
            if getattr(response, "streaming", False) or "html" not in response.get("Content-Type", ""):
                continue
            for kind, pk in set(MARKER.findall(response.content.decode())):
                seen_markers.add(kind)
                if not _may_read(readers[user.pk], demo, kind, int(pk)):
                    leaks.append((user.username, name, url, f"mk{kind}{pk}k"))
    finally:
        quiet.setLevel(level)
    every_url = {url for urls in demo.urls.values() for url in urls}
    print(
        f"leak crawler: {requests} requests by {len(demo.users)} users over {len(demo.urls)} routes "
        f"({len(every_url)} URLs): {len(leaks)} leaks"
    )
    assert errors == []
    by_kind = sorted({(route, marker[2]) for _user, route, _url, marker in leaks})
    assert leaks == [], f"{len(leaks)} leaks (route, marker kind): {by_kind}; e.g. {leaks[:10]}"
    assert visited == every_url  # every id of every route was visited by some persona
    assert {"P", "D", "C"} <= seen_markers  # markers were read where they are allowed
