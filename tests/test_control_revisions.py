"""Issue 9: measures (controls) written or revised after 审定, through a review, never in place on a
filed version.

The Jiuquan plan (酒泉市工商局实施方案) has the measures follow the approved grades: "针对已经审定的
各类风险点和风险等级，制定有针对性、具体的、可操作的防范措施" and "不断修正和优化防范措施". An
institution turns this on in its decision rules (``DecisionRules.measures_after_approval``); off, the
controls of an approved point stay as approved."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

from controls.models import Control, ControlRevision
from risk_registry import services
from risk_registry.models import DecisionRules, RegisterVersion, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry
from risk_registry.tests.documents_helpers import pdf_text
from risk_registry.workflow import inbox, registers
from risk_registry.workflow.revisions import control_revision_propose, control_revision_review
from risk_registry.workflow.snapshots import content_hash
from risk_registry.workflow.transitions import WorkflowConflict
from tests.test_filed_documents import _a_points, _advance, _cells, _render_version

NEW_MEASURE = "纪检员每月抽查审批档案"
REASON = "按审定的等级补充中期监控措施"


def _rule(world, on: bool) -> None:
    DecisionRules.objects.update_or_create(institution=world.a, defaults={"measures_after_approval": on})


def _measures(point) -> list[tuple[str, str]]:
    return list(Control.objects.filter(risk_point=point).in_line_order().values_list("line", "measure"))


def _propose(world, point, by=None, **extra):
    return control_revision_propose(
        by=by or world.holder,
        risk_point=point,
        controls=[{"line": "monitoring", "measure": NEW_MEASURE, "owner": "纪检员", "frequency": "monthly"}],
        reason=REASON,
        **extra,
    )


def revision_form(point, measure=NEW_MEASURE) -> dict:
    """The revision form as posted: the point's first control kept, a monitoring control added."""
    control = Control.objects.filter(risk_point=point).first()
    return {
        "reason": REASON,
        "controls-TOTAL_FORMS": "2",
        "controls-INITIAL_FORMS": "0",
        "controls-MIN_NUM_FORMS": "0",
        "controls-MAX_NUM_FORMS": "30",
        "controls-0-id": control.pk,
        "controls-0-line": control.line,
        "controls-0-measure": control.measure,
        "controls-0-owner": control.owner,
        "controls-0-frequency": control.frequency,
        "controls-1-line": "monitoring",
        "controls-1-measure": measure,
        "controls-1-frequency": "monthly",
    }


# --- the rule off: the controls of an approved point cannot change ------------------------------


def test_without_the_rule_the_controls_of_an_approved_point_cannot_be_edited(world, client):
    _advance(world, [world.submitted], to=S.APPROVED)
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    before, version, audits = _measures(point), point.version, AuditEntry.objects.count()

    client.force_login(world.holder)
    assert client.get(f"/risks/{point.pk}/edit/").status_code == 403  # the draft's edit form
    edit = {"description": "改过", "controls-TOTAL_FORMS": "0", "controls-INITIAL_FORMS": "0"}
    assert client.post(f"/risks/{point.pk}/edit/", edit).status_code == 403
    with pytest.raises(PermissionDenied):
        services.risk_point_update(
            by=world.holder, risk_point=point, fields={}, controls=[{"line": "monitoring", "measure": NEW_MEASURE}]
        )
    with pytest.raises(ValidationError, match="审定"):
        _propose(world, point)
    page = client.get(f"/risks/{point.pk}/controls/revise/").content.decode()
    assert 'data-testid="rule-off"' in page and 'data-testid="control-revision-form"' not in page
    assert 'data-testid="revise-controls"' not in client.get(f"/risks/{point.pk}/").content.decode()
    response = client.post(f"/risks/{point.pk}/controls/revise/", revision_form(point))
    assert response.status_code == 200  # the form again, with the refusal

    point.refresh_from_db()
    assert _measures(point) == before and point.version == version
    assert not ControlRevision.objects.exists() and AuditEntry.objects.count() == audits


def test_before_the_approval_the_controls_are_the_drafts_own(world):
    _rule(world, True)
    with pytest.raises(PermissionDenied):  # submitted, not yet approved
        _propose(world, world.submitted)
    assert not ControlRevision.objects.exists()


# --- the rule on: propose, review, the next version --------------------------------------------


def test_an_approved_revision_goes_into_the_next_version_and_the_filed_one_never_changes(world, client):
    _rule(world, True)
    register = _advance(world, _a_points(world), to=S.ISSUED)
    v1 = registers.register_file(by=world.principal, register=register)
    pdf_before, xlsx_before = _render_version(v1, "pdf"), _render_version(v1, "xlsx")
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    before, version = _measures(point), point.version

    client.force_login(world.holder)
    assert 'data-testid="revise-controls"' in client.get(f"/risks/{point.pk}/").content.decode()
    response = client.post(f"/risks/{point.pk}/controls/revise/", revision_form(point))
    assert response.status_code == 302
    revision = ControlRevision.objects.get(risk_point=point)
    assert revision.is_pending and revision.proposed_by == world.holder
    assert [c["measure"] for c in revision.after] == ["双人审核", NEW_MEASURE]
    point.refresh_from_db()
    assert _measures(point) == before and point.version == version  # a proposal changes nothing yet
    assert AuditEntry.objects.filter(action="control_revision.propose", target_id=point.pk).exists()
    assert list(inbox.revisions_to_review(world.head)) == [revision]  # the department head's inbox
    assert list(inbox.revisions_to_review(world.discipline)) == [revision]
    assert not inbox.revisions_to_review(world.holder).exists()  # never the proposer's own
    assert inbox.inbox_counts(world.head)["revisions"] == 1

    client.force_login(world.head)
    page = client.get(f"/control-revisions/{revision.pk}/").content.decode()
    assert 'data-testid="review-card"' in page and NEW_MEASURE in page
    assert client.post(f"/control-revisions/{revision.pk}/review/", {"decision": "approve"}).status_code == 302
    revision.refresh_from_db()
    point.refresh_from_db()
    assert revision.status == ControlRevision.Status.APPROVED and revision.reviewed_by == world.head
    assert _measures(point) == [("prevention", "双人审核"), ("monitoring", NEW_MEASURE)]
    assert point.version == version + 1 and point.state == S.ISSUED
    assert AuditEntry.objects.filter(action="control_revision.approve", target_id=point.pk).exists()

    # the filed v1: snapshot, hash and documents as filed
    stored = RegisterVersion.objects.select_related("register__institution", "signed_by").get(pk=v1.pk)
    assert stored.snapshot == v1.snapshot and stored.content_hash == v1.content_hash == content_hash(stored.snapshot)
    assert NEW_MEASURE not in str(stored.snapshot)
    assert pdf_text(_render_version(stored, "pdf")) == pdf_text(pdf_before)
    assert _cells(_render_version(stored, "xlsx")) == _cells(xlsx_before)

    # the register waits to be filed again; v2 carries the revision, the diff shows it
    assert register in inbox.registers_to_file(world.principal)
    v2 = registers.register_file(by=world.principal, register=register)
    assert NEW_MEASURE in str(v2.snapshot) and v2.content_hash != v1.content_hash
    diff = registers.version_diff_explained(stored, v2)
    (change,) = [c for c in diff["changed"] if c["id"] == point.pk]
    assert change["fields"]["controls"] == [1, 2]
    assert [c["measure"] for c in change["controls"]["added"]] == [NEW_MEASURE]
    assert change["controls"]["removed"] == []
    assert [r["reason"] for r in change["control_revisions"]] == [REASON]
    client.force_login(world.principal)
    page = client.get(f"/versions/{v2.pk}/?against={v1.pk}").content.decode()
    assert 'data-testid="control-changes"' in page and NEW_MEASURE in page and REASON in page


def test_a_revision_before_the_notice_is_published_with_the_point(world):
    _rule(world, True)
    register = _advance(world, [world.submitted], to=S.APPROVED)
    revision = _propose(world, world.submitted)
    control_revision_review(by=world.discipline, revision=revision, approve=True)
    registers.notice_publish(by=world.discipline, register=register, days=5)
    assert (S.IN_NOTICE, NEW_MEASURE) in [
        (p.state, c.measure) for p in RiskPoint.objects.filter(pk=world.submitted.pk) for c in p.controls.all()
    ]


def test_a_returned_revision_changes_nothing(world):
    _rule(world, True)
    _advance(world, [world.submitted], to=S.APPROVED)
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    before, version = _measures(point), point.version
    revision = _propose(world, point)
    with pytest.raises(ValidationError, match="理由"):  # a return says why
        control_revision_review(by=world.head, revision=revision, approve=False, note="")
    assert ControlRevision.objects.get(pk=revision.pk).is_pending
    control_revision_review(by=world.head, revision=revision, approve=False, note="措施不具体，请写明抽查比例")
    revision.refresh_from_db()
    point.refresh_from_db()
    assert revision.status == ControlRevision.Status.RETURNED and revision.review_note.startswith("措施不具体")
    assert _measures(point) == before and point.version == version
    entry = AuditEntry.objects.get(action="control_revision.return", target_id=point.pk)
    assert entry.changes["reason"].startswith("措施不具体")
    with pytest.raises(WorkflowConflict):  # decided: no second decision
        control_revision_review(by=world.discipline, revision=revision, approve=True)
    _propose(world, point)  # the holder may propose again


def test_who_proposes_and_who_reviews(world, client):
    _rule(world, True)
    _advance(world, [world.submitted, world.finance_point], to=S.APPROVED)
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    for outsider in (world.holder2, world.holder3, world.discipline, world.leader):
        with pytest.raises(PermissionDenied):
            _propose(world, point, by=outsider)
    revision = _propose(world, point)
    with pytest.raises(ValidationError):  # one revision at a time
        _propose(world, point, by=world.head)
    for refused in (world.holder, world.leader, world.principal, world.superior):
        with pytest.raises(PermissionDenied):
            control_revision_review(by=refused, revision=revision, approve=True)
    assert ControlRevision.objects.get(pk=revision.pk).is_pending
    # outside the scope: 404, nothing written
    for persona in (world.outsider, world.holder2):
        client.force_login(persona)
        assert client.get(f"/control-revisions/{revision.pk}/").status_code == 404
        assert client.post(f"/control-revisions/{revision.pk}/review/", {"decision": "approve"}).status_code == 404
        assert client.get(f"/risks/{point.pk}/controls/revise/").status_code == 404
    assert ControlRevision.objects.get(pk=revision.pk).is_pending
    # the head proposes for the department: the discipline office reviews, not the head
    finance = RiskPoint.objects.get(pk=world.finance_point.pk)
    with pytest.raises(PermissionDenied):
        _propose(world, finance, by=world.head)  # not the head of 财务股
    own = _propose(world, finance, by=world.holder3)
    assert list(inbox.revisions_to_review(world.head)) == [revision]  # 财务股 has no head of its own here
    assert set(inbox.revisions_to_review(world.discipline)) == {revision, own}


def test_a_revision_on_changed_controls_cannot_be_approved(world):
    _rule(world, True)
    _advance(world, [world.submitted], to=S.APPROVED)
    revision = _propose(world, world.submitted)
    Control.objects.filter(risk_point=world.submitted).update(measure="别处改过")  # e.g. an import
    with pytest.raises(WorkflowConflict):
        control_revision_review(by=world.head, revision=revision, approve=True)
    assert ControlRevision.objects.get(pk=revision.pk).is_pending
    assert NEW_MEASURE not in [m for _, m in _measures(world.submitted)]


def test_a_revision_that_changes_nothing_or_names_another_points_control_is_refused(world):
    _rule(world, True)
    _advance(world, [world.submitted, world.finance_point], to=S.APPROVED)
    mine = Control.objects.get(risk_point=world.submitted)
    other = Control.objects.get(risk_point=world.finance_point)
    unchanged = {"id": mine.pk, "line": mine.line, "measure": mine.measure, "owner": mine.owner}
    unchanged["frequency"] = mine.frequency
    with pytest.raises(ValidationError):
        control_revision_propose(by=world.holder, risk_point=world.submitted, controls=[unchanged], reason=REASON)
    with pytest.raises(ValidationError):
        control_revision_propose(
            by=world.holder,
            risk_point=world.submitted,
            controls=[{"id": other.pk, "line": "prevention", "measure": "借别人的措施"}],
            reason=REASON,
        )
    with pytest.raises(ValidationError):
        control_revision_propose(
            by=world.holder, risk_point=world.submitted, controls=[{"line": "sideways", "measure": "x"}], reason=REASON
        )
    assert not ControlRevision.objects.exists()
    assert Control.objects.get(pk=other.pk).measure == other.measure


# --- two reviewers at once ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("decisions", [(True, True), (True, False)])
def test_two_reviewers_at_once_exactly_one_wins(world, decisions):
    assert connection.vendor == "postgresql"
    _rule(world, True)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.APPROVED)
    revision = _propose(world, world.submitted)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def review(user, approve):
        try:
            barrier.wait(timeout=10)
            control_revision_review(by=user, revision=revision, approve=approve, note="" if approve else "不具体")
            outcomes.append("ok")
        except WorkflowConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=review, args=(user, approve))
        for user, approve in zip((world.head, world.discipline), decisions, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"], outcomes
    revision.refresh_from_db()
    decided = AuditEntry.objects.filter(action__in=["control_revision.approve", "control_revision.return"])
    assert decided.count() == 1
    added = Control.objects.filter(risk_point=world.submitted, measure=NEW_MEASURE).count()
    assert added == (1 if revision.status == ControlRevision.Status.APPROVED else 0)


def test_the_admin_cannot_change_a_control_in_place(rf, db):
    """Django's admin is no side door: a control's rows are read-only there (unaudited otherwise)."""
    from django.contrib import admin

    model_admin = admin.site._registry[Control]
    request = rf.get("/admin/controls/control/")
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_revision_pages_cost_a_fixed_number_of_queries(world, client):
    """The form, the revision and the reviewer's inbox: as many queries with 40 controls and 20
    revisions waiting as with one of each."""
    from django.test.utils import CaptureQueriesContext

    def queries(user, url: str) -> int:
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        return len(captured)

    _rule(world, True)
    _advance(world, [world.submitted, world.finance_point], to=S.APPROVED)
    revision = _propose(world, world.submitted)
    pages = [
        (world.holder3, f"/risks/{world.finance_point.pk}/controls/revise/"),
        (world.head, f"/control-revisions/{revision.pk}/"),
        (world.head, "/inbox/"),
        (world.holder, f"/risks/{world.submitted.pk}/"),
    ]
    small = [queries(user, url) for user, url in pages]
    for point in (world.submitted, world.finance_point):
        Control.objects.bulk_create(Control(risk_point=point, line="monitoring", measure=f"措施{i}") for i in range(40))
    template = RiskPoint.objects.get(pk=world.submitted.pk)
    more = RiskPoint.objects.bulk_create(
        RiskPoint(
            institution=template.institution,
            department=template.department,
            position=template.position,
            year=template.year,
            risk_type=template.risk_type,
            description=f"批量风险点 {i}",
            likelihood=2,
            severity=2,
            level=template.level,
            state=S.ISSUED,
        )
        for i in range(20)
    )
    ControlRevision.objects.bulk_create(
        ControlRevision(risk_point=p, reason="补充", changes=[], before=[], after=[], proposed_by=world.holder)
        for p in more
    )
    large = [queries(user, url) for user, url in pages]
    assert all(b <= a for a, b in zip(small, large, strict=True)), (small, large)
