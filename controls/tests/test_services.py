"""controls.services.control_apply_changes: create, update, delete a point's controls, audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from controls.models import Control, Rule
from controls.services import control_apply_changes
from risk_registry.organisation.models import AuditEntry


def _audit(action, **filters):
    return AuditEntry.objects.filter(action=action, target_type="controls.control", **filters)


def _state():
    """Everything a refused call must leave as it was."""
    return (
        sorted(Control.objects.values_list("id", "risk_point_id", "line", "measure", "owner", "frequency", "rule_id")),
        AuditEntry.objects.count(),
    )


@pytest.fixture
def existing(world):
    """The control the world gave the holder's draft: 双人审核 · 科长 · each time."""
    return world.draft.controls.get()


@pytest.fixture
def rules(world):
    own = Rule.objects.create(institution=world.a, title="行政审批集体会审制度", document_number="甲局发〔2026〕3号")
    foreign = Rule.objects.create(institution=world.b, title="乙局行政执法公示制度")
    return own, foreign


def test_control_apply_changes_creates_a_control_and_audits_it(world, rules):
    own, _ = rules

    result = control_apply_changes(
        risk_point=world.draft,
        by=world.holder,
        controls=[
            {
                "line": "monitoring",
                "measure": "每月抽查审批档案",
                "owner": "纪检员",
                "frequency": "monthly",
                "evidence": "抽查记录",
                "rule": own,
            }
        ],
    )

    created = Control.objects.get(risk_point=world.draft, line="monitoring")
    assert result == [created]
    assert (created.measure, created.owner, created.frequency, created.evidence, created.rule) == (
        "每月抽查审批档案",
        "纪检员",
        "monthly",
        "抽查记录",
        own,
    )
    entry = _audit("control.create", target_id=created.pk).get()
    # the point is a draft: its controls' text is not copied into the audit trail
    assert (entry.actor, entry.institution, entry.summary, entry.private) == (world.holder, world.a, "", True)


def test_control_apply_changes_updates_and_audits_before_and_after(world, existing, rules):
    own, _ = rules

    control_apply_changes(
        risk_point=world.draft,
        by=world.holder,
        controls=[{"id": existing.pk, "line": "prevention", "measure": "双人审核", "owner": "副科长", "rule": own}],
    )

    existing.refresh_from_db()
    assert (existing.owner, existing.rule, existing.frequency) == ("副科长", own, "each_time")
    entry = _audit("control.update", target_id=existing.pk).get()
    assert entry.actor == world.holder
    assert entry.changes == {"owner": ["科长", "副科长"], "rule": [None, "行政审批集体会审制度"]}


def test_control_apply_changes_without_changes_writes_no_audit(world, existing):
    before = _state()

    result = control_apply_changes(
        risk_point=world.draft,
        by=world.holder,
        controls=[
            {"id": existing.pk, "line": "prevention", "measure": "双人审核", "owner": "科长", "frequency": "each_time"}
        ],
    )

    assert result == [existing]
    assert _state() == before


def test_control_apply_changes_deletes_and_audits(world, existing):
    result = control_apply_changes(
        risk_point=world.draft, by=world.holder, controls=[{"id": existing.pk, "delete": True}]
    )

    assert result == []
    assert not Control.objects.filter(pk=existing.pk).exists()
    entry = _audit("control.delete", target_id=existing.pk).get()
    assert (entry.actor, entry.institution, entry.summary, entry.private) == (world.holder, world.a, "", True)


@pytest.mark.parametrize(
    "row",
    [
        {"line": "prevention", "measure": ""},
        {"line": "prevention", "measure": "   "},
        {"line": "prevention"},
        {"line": "prevention", "measure": "已勾选删除的新行", "delete": True},
        {"id": None, "line": "disposition", "measure": "", "owner": "", "frequency": "", "rule": None},
    ],
)
def test_control_apply_changes_ignores_blank_and_removed_new_rows(world, row):
    before = _state()

    assert control_apply_changes(risk_point=world.draft, by=world.holder, controls=[row]) == []

    assert _state() == before


def test_control_apply_changes_mixes_creates_updates_and_deletes(world, existing):
    second = Control.objects.create(risk_point=world.draft, line="disposition", measure="发现问题及时约谈")

    control_apply_changes(
        risk_point=world.draft,
        by=world.holder,
        controls=[
            {"id": existing.pk, "line": "prevention", "measure": "双人审核、交叉复核"},
            {"id": second.pk, "delete": True},
            {"line": "monitoring", "measure": "季度廉政谈话", "frequency": "quarterly"},
            {"line": "monitoring", "measure": ""},
        ],
    )

    assert sorted(world.draft.controls.values_list("line", "measure")) == [
        ("monitoring", "季度廉政谈话"),
        ("prevention", "双人审核、交叉复核"),
    ]
    assert _audit("control.update", target_id=existing.pk).count() == 1
    assert _audit("control.delete", target_id=second.pk).count() == 1
    added = Control.objects.get(risk_point=world.draft, measure="季度廉政谈话")
    assert _audit("control.create", target_id=added.pk).filter(private=True, summary="").count() == 1


def test_control_of_another_point_is_refused_and_nothing_is_written(world):
    foreign = world.submitted.controls.get()
    before = _state()

    with pytest.raises(ValidationError):
        control_apply_changes(
            risk_point=world.draft,
            by=world.holder,
            controls=[
                {"line": "monitoring", "measure": "新增的措施"},
                {"id": foreign.pk, "line": "prevention", "measure": "改掉别人的措施"},
            ],
        )

    assert _state() == before
    foreign.refresh_from_db()
    assert foreign.measure == "双人审核"


def test_deleting_a_control_of_another_point_is_refused(world):
    foreign = world.point_b.controls.get()
    before = _state()

    with pytest.raises(ValidationError):
        control_apply_changes(risk_point=world.draft, by=world.holder, controls=[{"id": foreign.pk, "delete": True}])

    assert _state() == before
    assert Control.objects.filter(pk=foreign.pk).exists()


def test_an_unknown_control_id_is_refused(world):
    with pytest.raises(ValidationError):
        control_apply_changes(
            risk_point=world.draft, by=world.holder, controls=[{"id": 10**9, "line": "prevention", "measure": "x"}]
        )


def test_a_rule_of_another_institution_is_refused_and_earlier_rows_are_rolled_back(world, existing, rules):
    _, foreign_rule = rules
    before = _state()

    with pytest.raises(ValidationError):
        control_apply_changes(
            risk_point=world.draft,
            by=world.holder,
            controls=[
                {"line": "monitoring", "measure": "先写入的一行"},  # written, then rolled back
                {"id": existing.pk, "line": "prevention", "measure": "双人审核", "owner": "副科长"},
                {"line": "prevention", "measure": "依据外单位制度", "rule": foreign_rule},
            ],
        )

    assert _state() == before
    existing.refresh_from_db()
    assert existing.owner == "科长"


def test_a_rule_of_another_institution_is_refused_on_an_update(world, existing, rules):
    _, foreign_rule = rules
    before = _state()

    with pytest.raises(ValidationError):
        control_apply_changes(
            risk_point=world.draft,
            by=world.holder,
            controls=[{"id": existing.pk, "line": "prevention", "measure": "双人审核", "rule": foreign_rule}],
        )

    assert _state() == before


def test_an_existing_control_cannot_be_emptied_without_delete(world, existing):
    before = _state()

    with pytest.raises(ValidationError):
        control_apply_changes(
            risk_point=world.draft,
            by=world.holder,
            controls=[{"id": existing.pk, "line": "prevention", "measure": " "}],
        )

    assert _state() == before
