"""Recording a control run (落实情况): who may, what it refuses, and that it is audited."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from controls.models import Control, ControlRun
from controls.services import control_run_record
from risk_registry.organisation.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_holder_records_a_run_with_its_evidence(world):
    control = Control.objects.get(risk_point=world.submitted)
    run = control_run_record(
        by=world.holder,
        control=control,
        ran_on=datetime.date(2026, 3, 2),
        description=" 双人复核 ",
        evidence="台账第3号",
    )
    assert (run.description, run.evidence, run.recorded_by) == ("双人复核", "台账第3号", world.holder)
    assert AuditEntry.objects.filter(action="control_run.create", target_id=run.pk, institution=world.a).exists()


def test_head_records_runs_of_department_level_points(world):
    control = Control.objects.get(risk_point=world.dept_draft)
    control_run_record(by=world.head, control=control, ran_on=datetime.date(2026, 3, 2), description="集体决策记录")
    with pytest.raises(PermissionDenied):
        control_run_record(by=world.holder, control=control, ran_on=datetime.date(2026, 3, 2), description="x")


@pytest.mark.parametrize("persona", ["holder2", "head", "discipline", "outsider_holder"])
def test_only_the_holder_records_runs_of_a_position_point(world, persona):
    control = Control.objects.get(risk_point=world.submitted)
    with pytest.raises(PermissionDenied):
        control_run_record(
            by=getattr(world, persona), control=control, ran_on=datetime.date(2026, 3, 2), description="x"
        )


def test_a_run_needs_a_description_and_a_past_date(world):
    control = Control.objects.get(risk_point=world.submitted)
    with pytest.raises(ValidationError):
        control_run_record(by=world.holder, control=control, ran_on=datetime.date(2026, 3, 2), description="  ")
    with pytest.raises(ValidationError):
        control_run_record(by=world.holder, control=control, ran_on=datetime.date(2999, 1, 1), description="x")
    assert not ControlRun.objects.exists()


def test_the_page_records_a_run(world, client):
    control = Control.objects.get(risk_point=world.submitted)
    client.force_login(world.holder)
    response = client.post(
        f"/controls/{control.pk}/runs/new/", {"ran_on": "2026-03-02", "description": "抽查", "evidence": "记录表"}
    )
    assert response.status_code == 302
    assert "抽查" in client.get(response.url).content.decode()
