"""risk_registry.services: the organisation tree, memberships, grading and risk-point writes."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controls.models import Control
from positions.models import PowerCategory, ProcessStep
from positions.services import power_item_create
from risk_registry import access
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import (
    AuditEntry,
    Department,
    GradeLevel,
    GradingScheme,
    Institution,
    Membership,
    RiskType,
    Role,
)
from risk_registry.organisation.presets import GRADING_PRESETS
from risk_registry.organisation.services import (
    department_create,
    grade_level_for,
    grading_scheme_adopt_preset,
    institution_create,
    institution_move,
    membership_grant,
)
from risk_registry.services import risk_point_create, risk_point_update

BUREAU = Institution.Kind.BUREAU


def _fields(world, **overrides):
    fields = {
        "risk_type": world.risk_type,
        "found_by": "self",
        "description": "超时限办理审批事项",
        "manifestation": "故意拖延,索取好处",
        "likelihood": 2,
        "severity": 2,
    }
    fields.update(overrides)
    return fields


def _counts():
    return RiskPoint.objects.count(), AuditEntry.objects.count(), Control.objects.count()


def _audit_for(obj, action):
    return AuditEntry.objects.filter(target_type=obj._meta.label_lower, target_id=obj.pk, action=action)


# --- institution_create ---------------------------------------------------------------------


@pytest.mark.django_db
def test_institution_create_gives_a_root_its_own_path_at_depth_zero():
    root = institution_create(code="root", name="某市纪委监委", kind=Institution.Kind.DISCIPLINE_COMMITTEE)

    root.refresh_from_db()
    assert root.path == f"/{root.pk}/"
    assert root.depth == 0
    assert root.parent is None


@pytest.mark.django_db
def test_institution_create_appends_the_new_id_to_the_parent_path():
    root = institution_create(code="root", name="某市", kind=Institution.Kind.PARTY_GOVERNMENT)
    bureau = institution_create(code="bureau", name="某局", kind=BUREAU, parent=root)
    sub = institution_create(code="sub", name="某分局", kind=Institution.Kind.SUB_BUREAU, parent=bureau)

    sub.refresh_from_db()
    assert bureau.path == f"/{root.pk}/{bureau.pk}/"
    assert sub.path == f"/{root.pk}/{bureau.pk}/{sub.pk}/"
    assert (bureau.depth, sub.depth) == (1, 2)
    assert sub.is_within(root) and sub.is_within(bureau) and not root.is_within(sub)


@pytest.mark.django_db
def test_institution_create_is_audited():
    user = get_user_model().objects.create_user("admin-user")

    institution = institution_create(code="root", name="某市", kind=BUREAU, by=user)

    entry = _audit_for(institution, "institution.create").get()
    assert entry.actor == user
    assert entry.institution == institution
    assert entry.summary == "某市"


# --- institution_move -----------------------------------------------------------------------


@pytest.fixture
def tree(db):
    """north/{mid/{leaf/{twig}}, sibling} and south: a subtree three levels deep to move."""
    north = institution_create(code="north", name="北", kind=BUREAU)
    south = institution_create(code="south", name="南", kind=BUREAU)
    mid = institution_create(code="mid", name="中", kind=BUREAU, parent=north)
    leaf = institution_create(code="leaf", name="叶", kind=BUREAU, parent=mid)
    twig = institution_create(code="twig", name="枝", kind=BUREAU, parent=leaf)
    sibling = institution_create(code="sibling", name="邻", kind=BUREAU, parent=north)
    return north, south, mid, leaf, twig, sibling


def test_institution_move_rewrites_the_paths_and_depths_of_the_whole_subtree(tree):
    north, south, mid, leaf, twig, sibling = tree

    moved = institution_move(institution=mid, new_parent=south)

    for institution in (mid, leaf, twig, sibling):
        institution.refresh_from_db()
    assert moved.parent_id == south.pk and mid.parent_id == south.pk
    assert mid.path == f"/{south.pk}/{mid.pk}/"
    assert leaf.path == f"/{south.pk}/{mid.pk}/{leaf.pk}/"
    assert twig.path == f"/{south.pk}/{mid.pk}/{leaf.pk}/{twig.pk}/"
    assert (mid.depth, leaf.depth, twig.depth) == (1, 2, 3)
    assert leaf.parent_id == mid.pk and twig.parent_id == leaf.pk
    assert sibling.path == f"/{north.pk}/{sibling.pk}/"  # the old parent's other children stay put
    assert set(Institution.objects.filter(path__startswith=south.path)) == {south, mid, leaf, twig}


def test_institution_move_to_the_top_makes_the_subtree_a_root(tree):
    _, _, mid, leaf, twig, _ = tree

    institution_move(institution=mid, new_parent=None)

    for institution in (mid, leaf, twig):
        institution.refresh_from_db()
    assert mid.parent is None
    assert (mid.path, mid.depth) == (f"/{mid.pk}/", 0)
    assert (twig.path, twig.depth) == (f"/{mid.pk}/{leaf.pk}/{twig.pk}/", 2)


def test_institution_move_rewrites_paths_in_one_statement_whatever_the_depth(tree):
    _, south, mid, *_ = tree

    with CaptureQueriesContext(connection) as queries:
        institution_move(institution=mid, new_parent=south)

    path_updates = [
        q["sql"] for q in queries if q["sql"].startswith("UPDATE") and '"path"' in q["sql"].split("WHERE")[0]
    ]
    assert len(path_updates) == 1
    assert "LIKE" in path_updates[0]


@pytest.mark.parametrize("target", ["itself", "child", "grandchild"])
def test_institution_move_below_itself_is_refused_and_changes_nothing(tree, target):
    north, _, mid, leaf, twig, _ = tree
    new_parent = {"itself": mid, "child": leaf, "grandchild": twig}[target]
    before = dict(Institution.objects.values_list("pk", "path"))

    with pytest.raises(ValidationError):
        institution_move(institution=mid, new_parent=new_parent)

    assert dict(Institution.objects.values_list("pk", "path")) == before
    mid.refresh_from_db()
    assert mid.parent_id == north.pk
    assert not _audit_for(mid, "institution.move").exists()


def test_institution_move_is_audited_with_old_and_new_path(tree):
    _, south, mid, *_ = tree
    old_path = mid.path

    institution_move(institution=mid, new_parent=south)

    entry = _audit_for(mid, "institution.move").get()
    assert entry.changes == {"path": [old_path, f"/{south.pk}/{mid.pk}/"]}


# --- department_create ----------------------------------------------------------------------


@pytest.mark.django_db
def test_department_create_belongs_to_the_institution_and_is_audited():
    institution = institution_create(code="bureau", name="某局", kind=BUREAU)

    department = department_create(institution=institution, name="法规股", kind=Department.Kind.SECTION, order=3)

    department.refresh_from_db()
    assert (department.institution, department.name, department.kind, department.order) == (
        institution,
        "法规股",
        Department.Kind.SECTION,
        3,
    )
    entry = _audit_for(department, "department.create").get()
    assert entry.institution == institution


# --- membership_grant -----------------------------------------------------------------------


def test_membership_grant_is_idempotent(world):
    first = membership_grant(user=world.nobody, institution=world.a, role=Role.LEADERSHIP)
    second = membership_grant(user=world.nobody, institution=world.a, role=Role.LEADERSHIP)

    assert first.pk == second.pk
    assert Membership.objects.filter(user=world.nobody).count() == 1
    assert _audit_for(first, "membership.grant").count() == 1


def test_membership_grant_of_a_department_head_is_idempotent(world):
    first = membership_grant(user=world.head, institution=world.a, role=Role.DEPT_HEAD, department=world.dept)

    assert Membership.objects.filter(user=world.head).get() == first


def test_membership_grant_refuses_a_department_head_without_department(world):
    with pytest.raises(ValidationError):
        membership_grant(user=world.nobody, institution=world.a, role=Role.DEPT_HEAD)

    assert not Membership.objects.filter(user=world.nobody).exists()


def test_membership_grant_refuses_a_department_for_another_role(world):
    with pytest.raises(ValidationError):
        membership_grant(user=world.nobody, institution=world.a, role=Role.DISCIPLINE, department=world.dept)

    assert not Membership.objects.filter(user=world.nobody).exists()


def test_membership_grant_refuses_a_department_of_another_institution(world):
    with pytest.raises(ValidationError):
        membership_grant(user=world.nobody, institution=world.a, role=Role.DEPT_HEAD, department=world.dept_b)

    assert not Membership.objects.filter(user=world.nobody).exists()


def test_membership_grant_drops_the_scope_cached_on_the_user(world):
    assert access.scope_of(world.nobody).is_empty

    membership_grant(user=world.nobody, institution=world.b, role=Role.DISCIPLINE)

    assert set(access.risk_points_visible_to(world.nobody)) == {world.point_b}


# --- grading --------------------------------------------------------------------------------


@pytest.fixture
def bare_institution(db):
    return institution_create(code="bare", name="未分级单位", kind=BUREAU)


def test_grading_scheme_adopt_preset_copies_the_levels_into_the_institution(bare_institution):
    preset = next(p for p in GRADING_PRESETS if p["code"] == "abc")

    scheme = grading_scheme_adopt_preset(institution=bare_institution, preset_code="abc")

    bare_institution.refresh_from_db()
    assert bare_institution.grading_scheme == scheme
    assert scheme.institution == bare_institution
    assert scheme.pk != GradingScheme.objects.get(institution=None, code="abc").pk
    assert scheme.matrix == preset["matrix"]
    assert (scheme.likelihood_labels, scheme.severity_labels) == (preset["likelihood"], preset["severity"])
    assert list(scheme.levels.values_list("code", "name", "rank", "supervisor_role")) == [
        ("A", "A级", 1, Role.DISCIPLINE),
        ("B", "B级", 2, Role.PRINCIPAL),
        ("C", "C级", 3, Role.LEADERSHIP),
    ]
    assert GradeLevel.objects.filter(scheme__institution=None, scheme__code="abc").count() == 3  # preset untouched


def test_grading_scheme_adopt_preset_is_idempotent(bare_institution):
    first = grading_scheme_adopt_preset(institution=bare_institution, preset_code="four-levels")
    second = grading_scheme_adopt_preset(institution=bare_institution, preset_code="four-levels")

    assert first.pk == second.pk
    assert GradingScheme.objects.filter(institution=bare_institution).count() == 1
    assert second.levels.count() == 4
    assert _audit_for(bare_institution, "institution.grading_scheme").count() == 1


def test_grading_scheme_adopt_preset_switching_scheme_is_audited(bare_institution):
    old = grading_scheme_adopt_preset(institution=bare_institution, preset_code="level-1-highest")
    new = grading_scheme_adopt_preset(institution=bare_institution, preset_code="level-3-highest")

    bare_institution.refresh_from_db()
    assert bare_institution.grading_scheme == new
    changes = [e.changes for e in _audit_for(bare_institution, "institution.grading_scheme").order_by("id")]
    assert changes == [{"grading_scheme": [None, old.pk]}, {"grading_scheme": [old.pk, new.pk]}]


def test_grading_scheme_adopt_preset_refuses_an_unknown_preset(bare_institution):
    with pytest.raises(ValidationError):
        grading_scheme_adopt_preset(institution=bare_institution, preset_code="five-levels")

    bare_institution.refresh_from_db()
    assert bare_institution.grading_scheme is None
    assert not GradingScheme.objects.filter(institution=bare_institution).exists()


def test_grade_level_for_an_institution_without_scheme_is_refused(bare_institution):
    with pytest.raises(ValidationError):
        grade_level_for(institution=bare_institution, likelihood=1, severity=1)


def test_grade_level_for_uses_the_institutions_own_copy(world):
    level = grade_level_for(institution=world.a, likelihood=3, severity=3)

    assert level.name == "一级"
    assert level.scheme_id == world.a.grading_scheme_id
    assert level.scheme.institution == world.a


# --- risk_point_create ----------------------------------------------------------------------


def test_risk_point_create_derives_the_level_from_the_matrix(world):
    point = risk_point_create(
        by=world.holder,
        department=world.dept,
        position=world.position,
        year=2026,
        fields=_fields(world, likelihood=3, severity=2),
    )

    point.refresh_from_db()
    assert point.level.name == "二级"
    assert point.level.scheme_id == world.a.grading_scheme_id
    assert point.institution == world.a
    assert point.state == RiskPointState.DRAFT
    assert point.created_by == world.holder


def test_risk_point_create_ignores_a_level_in_the_fields(world):
    top = grade_level_for(institution=world.a, likelihood=3, severity=3)

    point = risk_point_create(
        by=world.holder,
        department=world.dept,
        position=world.position,
        year=2026,
        fields={**_fields(world, likelihood=1, severity=1), "level": top, "state": RiskPointState.ISSUED},
    )

    point.refresh_from_db()
    assert point.level.name == "三级"
    assert point.state == RiskPointState.DRAFT


def test_risk_point_create_writes_an_audit_entry_with_the_changes(world):
    point = risk_point_create(
        by=world.holder, department=world.dept, position=world.position, year=2026, fields=_fields(world)
    )

    entry = _audit_for(point, "risk_point.create").get()
    assert entry.actor == world.holder
    assert entry.institution == world.a
    assert entry.target_type == "risk_registry.riskpoint"
    assert entry.summary == ""  # a draft's text is never copied into the audit trail
    assert entry.private
    assert entry.changes == {"level": [None, "二级"], "state": [None, "draft"]}


def test_risk_point_create_writes_its_controls(world):
    point = risk_point_create(
        by=world.holder,
        department=world.dept,
        position=world.position,
        year=2026,
        fields=_fields(world),
        controls=[
            {"line": "prevention", "measure": "办理时限公开", "owner": "科长", "frequency": "monthly"},
            {"line": "monitoring", "measure": ""},  # a blank row of the form
        ],
    )

    assert list(point.controls.values_list("line", "measure", "owner", "frequency")) == [
        ("prevention", "办理时限公开", "科长", "monthly")
    ]


@pytest.mark.parametrize("persona", ["holder2", "head", "discipline", "leader", "outsider_holder", "nobody"])
def test_non_holder_cannot_create_a_point_on_a_position(world, persona):
    before = _counts()

    with pytest.raises(PermissionDenied):
        risk_point_create(
            by=getattr(world, persona), department=world.dept, position=world.position, year=2026, fields=_fields(world)
        )

    assert _counts() == before


def test_department_head_creates_a_department_level_point(world):
    point = risk_point_create(by=world.head, department=world.dept, position=None, year=2026, fields=_fields(world))

    point.refresh_from_db()
    assert point.position is None
    assert (point.department, point.institution, point.created_by) == (world.dept, world.a, world.head)
    assert _audit_for(point, "risk_point.create").get().actor == world.head


@pytest.mark.parametrize("persona", ["holder", "discipline", "principal"])
def test_only_the_head_creates_a_department_level_point(world, persona):
    before = _counts()

    with pytest.raises(PermissionDenied):
        risk_point_create(
            by=getattr(world, persona), department=world.dept, position=None, year=2026, fields=_fields(world)
        )

    assert _counts() == before


def test_head_cannot_create_a_department_level_point_in_another_department(world):
    with pytest.raises(PermissionDenied):
        risk_point_create(by=world.head, department=world.finance, position=None, year=2026, fields=_fields(world))


@pytest.fixture
def foreign_power(world):
    """A power item of bureau B, and a second power item of bureau A with its own steps."""
    category = PowerCategory.objects.get(institution=None, code="enforcement")
    power_b = power_item_create(institution=world.b, name="行政处罚", category=category, steps=["立案", "调查"])
    other_a = power_item_create(
        institution=world.a, name="年度检验", category=category, positions=[world.position], steps=["受理", "检验"]
    )
    return power_b, other_a


def test_risk_point_create_refuses_a_power_item_of_another_institution(world, foreign_power):
    power_b, _ = foreign_power
    before = _counts()

    with pytest.raises(ValidationError):
        risk_point_create(
            by=world.holder,
            department=world.dept,
            position=world.position,
            year=2026,
            fields=_fields(world, power_item=power_b),
            controls=[{"line": "prevention", "measure": "双人审核"}],
        )

    assert _counts() == before


def test_risk_point_create_refuses_a_step_of_another_power_item(world, foreign_power):
    _, other_a = foreign_power
    before = _counts()

    with pytest.raises(ValidationError):
        risk_point_create(
            by=world.holder,
            department=world.dept,
            position=world.position,
            year=2026,
            fields=_fields(world, power_item=world.power, process_step=other_a.steps.get(order=1)),
            controls=[{"line": "prevention", "measure": "双人审核"}],
        )

    assert _counts() == before


def test_risk_point_create_refuses_a_step_without_its_power_item(world):
    before = _counts()

    with pytest.raises(ValidationError):
        risk_point_create(
            by=world.holder,
            department=world.dept,
            position=world.position,
            year=2026,
            fields=_fields(world, process_step=world.step),
        )

    assert _counts() == before


def test_risk_point_create_refuses_a_position_of_another_department(world):
    before = _counts()

    with pytest.raises(ValidationError):
        risk_point_create(
            by=world.holder, department=world.finance, position=world.position, year=2026, fields=_fields(world)
        )

    assert _counts() == before


def test_risk_point_create_places_a_point_on_a_power_item_and_step(world):
    point = risk_point_create(
        by=world.holder,
        department=world.dept,
        position=world.position,
        year=2026,
        fields=_fields(world, power_item=world.power, process_step=world.step),
    )

    point.refresh_from_db()
    assert (point.power_item, point.process_step) == (world.power, world.step)


@pytest.mark.parametrize(("likelihood", "severity"), [(0, 1), (4, 1), (1, 0), (1, 4)])
def test_risk_point_create_refuses_a_grade_outside_the_scales(world, likelihood, severity):
    before = _counts()

    with pytest.raises(ValidationError):
        risk_point_create(
            by=world.holder,
            department=world.dept,
            position=world.position,
            year=2026,
            fields=_fields(world, likelihood=likelihood, severity=severity),
        )

    assert _counts() == before


def test_risk_point_create_refuses_a_risk_type_of_another_institution(world):
    foreign_type = RiskType.objects.create(institution=world.b, code="b-only", name="乙局自定义风险")
    before = _counts()

    with pytest.raises(ValidationError):
        risk_point_create(
            by=world.holder,
            department=world.dept,
            position=world.position,
            year=2026,
            fields=_fields(world, risk_type=foreign_type),
        )

    assert _counts() == before


# --- risk_point_update ----------------------------------------------------------------------


def test_risk_point_update_audits_changes_with_before_and_after(world):
    moral = RiskType.objects.get(institution=None, code="moral")

    risk_point_update(
        by=world.holder,
        risk_point=world.draft,
        fields={"description": "审批中索要好处", "risk_type": moral, "likelihood": 3, "severity": 3},
    )

    entry = _audit_for(world.draft, "risk_point.update").get()
    assert entry.actor == world.holder
    assert entry.institution == world.a
    assert entry.changes == {
        "description": ["审批中吃拿卡要", "审批中索要好处"],
        "risk_type": ["岗位职责风险", "思想道德风险"],  # related objects by name: the history reads alone
    }
    world.draft.refresh_from_db()
    assert (world.draft.description, world.draft.risk_type) == ("审批中索要好处", moral)


def test_risk_point_update_re_derives_the_level_when_likelihood_or_severity_change(world):
    assert world.draft.level.name == "一级"

    risk_point_update(by=world.holder, risk_point=world.draft, fields={"likelihood": 1})

    world.draft.refresh_from_db()
    assert world.draft.level.name == "二级"  # (1, 3): severe but unlikely
    entry = _audit_for(world.draft, "risk_point.update").get()
    assert entry.changes == {"likelihood": [3, 1], "level": ["一级", "二级"]}

    risk_point_update(by=world.holder, risk_point=world.draft, fields={"severity": 1})

    world.draft.refresh_from_db()
    assert world.draft.level.name == "三级"


def test_risk_point_update_without_changes_writes_no_audit_entry(world):
    before = world.draft.updated_at
    audit_before = AuditEntry.objects.count()

    risk_point_update(
        by=world.holder,
        risk_point=world.draft,
        fields={"description": world.draft.description, "likelihood": 3, "severity": 3, "risk_type": world.risk_type},
    )

    assert AuditEntry.objects.count() == audit_before
    world.draft.refresh_from_db()
    assert world.draft.updated_at == before


@pytest.mark.parametrize("state", [s for s in RiskPointState.values if s != RiskPointState.DRAFT])
def test_holder_cannot_edit_a_point_once_it_is_not_a_draft(world, state):
    RiskPoint.objects.filter(pk=world.draft.pk).update(state=state)
    audit_before = AuditEntry.objects.count()

    with pytest.raises(PermissionDenied):
        risk_point_update(by=world.holder, risk_point=world.draft, fields={"description": "改动"})

    world.draft.refresh_from_db()
    assert world.draft.description == "审批中吃拿卡要"
    assert AuditEntry.objects.count() == audit_before


def test_holder_cannot_edit_submitted_point(world):
    with pytest.raises(PermissionDenied):
        risk_point_update(by=world.holder, risk_point=world.submitted, fields={"likelihood": 3})

    world.submitted.refresh_from_db()
    assert world.submitted.likelihood == 2


@pytest.mark.parametrize("persona", ["holder2", "holder3", "head", "discipline", "superior", "outsider_holder"])
def test_only_a_holder_of_the_position_edits_its_draft(world, persona):
    with pytest.raises(PermissionDenied):
        risk_point_update(by=getattr(world, persona), risk_point=world.draft, fields={"description": "改动"})

    world.draft.refresh_from_db()
    assert world.draft.description == "审批中吃拿卡要"


def test_head_edits_the_department_level_draft(world):
    risk_point_update(by=world.head, risk_point=world.dept_draft, fields={"manifestation": "会议记录缺失"})

    world.dept_draft.refresh_from_db()
    assert world.dept_draft.manifestation == "会议记录缺失"
    assert _audit_for(world.dept_draft, "risk_point.update").get().changes == {"manifestation": ["", "会议记录缺失"]}


def test_risk_point_update_refuses_a_power_item_of_another_institution(world, foreign_power):
    power_b, _ = foreign_power
    audit_before = AuditEntry.objects.count()

    with pytest.raises(ValidationError):
        risk_point_update(by=world.holder, risk_point=world.draft, fields={"power_item": power_b, "description": "改"})

    world.draft.refresh_from_db()
    assert (world.draft.power_item, world.draft.description) == (None, "审批中吃拿卡要")
    assert AuditEntry.objects.count() == audit_before


def test_risk_point_update_refuses_a_step_of_another_power_item(world, foreign_power):
    _, other_a = foreign_power

    with pytest.raises(ValidationError):
        risk_point_update(
            by=world.holder,
            risk_point=world.draft,
            fields={"power_item": world.power, "process_step": ProcessStep.objects.filter(power_item=other_a).first()},
        )

    world.draft.refresh_from_db()
    assert world.draft.power_item is None and world.draft.process_step is None


def test_risk_point_update_records_related_objects_by_name(world):
    risk_point_update(
        by=world.holder, risk_point=world.draft, fields={"power_item": world.power, "process_step": world.step}
    )

    entry = _audit_for(world.draft, "risk_point.update").get()
    assert entry.changes == {"power_item": [None, "企业登记审批"], "process_step": [None, "2. 审查"]}


# --- the audit trail is append-only ---------------------------------------------------------


def test_audit_entries_are_appended_never_rewritten(world):
    created = _audit_for(world.draft, "risk_point.create").get()
    snapshot = AuditEntry.objects.filter(pk=created.pk).values().get()

    risk_point_update(by=world.holder, risk_point=world.draft, fields={"likelihood": 1})
    risk_point_update(by=world.holder, risk_point=world.draft, fields={"severity": 1})

    assert AuditEntry.objects.filter(pk=created.pk).values().get() == snapshot
    assert _audit_for(world.draft, "risk_point.update").count() == 2


def test_audit_admin_allows_no_change_add_or_delete(rf, db):
    request = rf.get("/admin/risk_registry/auditentry/")
    request.user = get_user_model().objects.create_superuser("root", password="x-root-password")
    model_admin = admin.site._registry[AuditEntry]

    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)
