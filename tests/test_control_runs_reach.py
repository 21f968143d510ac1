"""Control runs are reached from the point and the position (记录执行, for who records them), and the
run form says which period of the annual cycle a run counts for: a run in the period completes the
task, one dated before it is kept and says why the task stays open, a future date is refused with a
reason. Effects are read from the database (runs created or not, the task done or not)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from assessments.completion import with_done
from assessments.models import Task
from assessments.services import cycle_generate_tasks
from assessments.tests.conftest import launch
from controls.models import Control, ControlRun
from risk_registry.models import RiskPoint, RiskPointState

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 10, 20)  # in the monitoring phase (Sep 1 – Nov 30)


@pytest.fixture
def control(world, monkeypatch, django_capture_on_commit_callbacks):
    """A monthly control of an approved point of the holder, with its run tasks of a running cycle."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.APPROVED)
    Control.objects.filter(risk_point=world.submitted).update(frequency="monthly")
    with django_capture_on_commit_callbacks(execute=False):
        cycle = launch(world)
    cycle_generate_tasks(cycle_id=cycle.pk)
    return Control.objects.get(risk_point=world.submitted)


def _open_periods(control) -> list[datetime.date]:
    tasks = with_done(Task.objects.filter(kind=Task.Kind.CONTROL_RUN, control=control)).filter(is_done=False)
    return sorted(tasks.values_list("period_start", flat=True))


def test_the_point_page_and_the_position_page_offer_record_a_run_to_the_holder(world, client, control):
    client.force_login(world.holder)
    url = f"/controls/{control.pk}/runs/new/"
    point = client.get(f"/risks/{world.submitted.pk}/").content.decode()
    assert 'data-testid="record-run"' in point and url in point
    position = client.get(f"/positions/{world.submitted.position_id}/").content.decode()
    assert 'data-testid="position-run-controls"' in position and url in position
    client.force_login(world.discipline)  # sees the point, records nothing: a link to the runs only
    page = client.get(f"/risks/{world.submitted.pk}/").content.decode()
    assert 'data-testid="record-run"' not in page and url in page


def test_the_form_says_which_period_a_run_counts_for(world, client, control):
    client.force_login(world.holder)
    page = client.get(f"/controls/{control.pk}/runs/new/").content.decode()
    assert 'data-testid="run-period"' in page and "2026-09-01" in page and "2026-09-30" in page


def test_a_run_in_the_period_completes_its_task(world, client, control):
    client.force_login(world.holder)
    response = client.post(
        f"/controls/{control.pk}/runs/new/", {"ran_on": "2026-09-15", "description": "抽查合同"}, follow=True
    )
    assert ControlRun.objects.filter(control=control, ran_on=datetime.date(2026, 9, 15)).count() == 1
    assert datetime.date(2026, 9, 1) not in _open_periods(control)
    assert "计入 2026-09-01 至 2026-09-30" in response.content.decode()


def test_a_run_before_the_period_is_kept_and_says_why_the_task_stays_open(world, client, control):
    client.force_login(world.holder)
    before = _open_periods(control)
    response = client.post(
        f"/controls/{control.pk}/runs/new/", {"ran_on": "2026-08-20", "description": "提前检查"}, follow=True
    )
    assert ControlRun.objects.filter(control=control, ran_on=datetime.date(2026, 8, 20)).count() == 1
    assert _open_periods(control) == before  # no task completed
    html = response.content.decode()
    assert "早于任务期间（2026-09-01 至 2026-09-30）" in html and "任务仍未完成" in html


def test_a_future_date_is_refused_with_a_reason_and_saves_nothing(world, client, control):
    client.force_login(world.holder)
    response = client.post(f"/controls/{control.pk}/runs/new/", {"ran_on": "2026-10-21", "description": "预先登记"})
    assert response.status_code == 200
    assert not ControlRun.objects.filter(control=control).exists()
    html = response.content.decode()
    assert 'data-testid="error-ran_on"' in html and "2026-10-21 是未来的日期" in html and "2026-10-20" in html
