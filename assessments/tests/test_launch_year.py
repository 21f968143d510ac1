"""Issue 9, defect 4: a cycle launched for 2027 kept 2026's dates (28 of 29 tasks overdue at
once, escalations fired). Phase dates follow the chosen year and are checked against it; a launch
whose deadlines are past is refused unless confirmed, and then a grace period holds the scan back.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from assessments.models import Cycle, Phase, Task, TaskNotice
from assessments.scan import deadline_scan
from assessments.services import (
    PhaseSpec,
    cycle_generate_tasks,
    cycle_launch,
    cycle_update,
    default_phases,
    phases_first_deadline,
)
from assessments.tests.conftest import at
from assessments.web.forms import CycleForm
from risk_registry.organisation.models import AuditEntry, Institution

pytestmark = pytest.mark.django_db

D = datetime.date


def test_a_2027_cycle_with_2026_dates_is_refused_and_nothing_is_written(world):
    with pytest.raises(ValidationError) as refused:
        cycle_launch(
            by=world.discipline, institution=world.a, year=2027, phases=default_phases(2026), today=D(2026, 12, 6)
        )
    assert refused.value.code == "wrong_year"
    assert not Cycle.objects.exists() and not Phase.objects.exists()
    assert not AuditEntry.objects.filter(action="cycle.launch").exists()


def test_default_phases_follow_the_chosen_year(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        cycle = cycle_launch(by=world.discipline, institution=world.a, year=2027, today=D(2026, 12, 6))
    assert [p.starts_on.year for p in cycle.phases.all()] == [2027] * 5
    assert cycle.grace_until is None  # nothing is past: no grace needed


def test_phases_may_prepare_late_in_the_year_before_and_finish_in_the_spring_after(world):
    phases = default_phases(2027)
    phases[0] = PhaseSpec(phases[0].kind, phases[0].name, D(2026, 10, 1), D(2027, 3, 31))
    phases[4] = PhaseSpec(phases[4].kind, phases[4].name, D(2027, 12, 1), D(2028, 1, 31))
    cycle = cycle_launch(
        by=world.discipline, institution=world.a, year=2027, phases=phases, today=D(2026, 9, 1), enqueue=False
    )
    assert cycle.phases.get(order=5).due_on == D(2028, 1, 31)
    phases[4] = PhaseSpec(phases[4].kind, phases[4].name, D(2027, 12, 1), D(2028, 5, 1))
    with pytest.raises(ValidationError):
        cycle_update(
            by=world.discipline,
            cycle=cycle,
            name=cycle.name,
            phases=phases,
            reminder_days=[7, 1],
            supervisor_after_days=1,
            discipline_after_days=7,
        )
    assert cycle.phases.get(order=5).due_on == D(2028, 1, 31)  # unchanged


def test_the_launch_form_says_in_chinese_which_phase_is_of_another_year(world):
    data = {"institution": world.a.pk, "year": 2027, "name": "", "reminder_days": "7, 1"}
    data |= {"supervisor_after_days": 1, "discipline_after_days": 7}
    for n, spec in enumerate(default_phases(2026), start=1):
        data |= {f"phase_{n}_name": spec.name, f"phase_{n}_starts_on": spec.starts_on, f"phase_{n}_due_on": spec.due_on}
    with translation.override("zh-hans"):
        form = CycleForm(data, institutions=Institution.objects.filter(pk=world.a.pk), year=2026)
        assert not form.is_valid()
        errors = " ".join(form.errors["phase_1_starts_on"])
    assert "宣传发动" in errors and "2027" in errors and "不属于" in errors


def test_the_launch_form_offers_the_chosen_years_dates(world):
    form = CycleForm(institutions=Institution.objects.filter(pk=world.a.pk), year=2028)
    assert form["phase_2_starts_on"].initial == D(2028, 4, 1)
    assert form["year"].initial == 2028


def test_first_deadline_is_the_earliest_task_due_date(world, cycle):
    specs = [PhaseSpec(p.kind, p.name, p.starts_on, p.due_on) for p in cycle.phases.all()]
    assert phases_first_deadline(specs) == min(Task.objects.filter(cycle=cycle).values_list("due_on", flat=True))


def test_a_launch_with_past_deadlines_is_refused_unless_confirmed(world):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        cycle_launch(by=world.discipline, institution=world.a, year=2026, today=D(2026, 12, 6))
    assert refused.value.code == "late"
    assert "已过" in refused.value.messages[0]
    assert not Cycle.objects.exists()


@override_settings(RISK_REGISTRY_CYCLE_LATE_GRACE_DAYS=14)
def test_a_confirmed_late_launch_escalates_nothing_on_day_one_then_the_grace_ends(world):
    cycle = cycle_launch(
        by=world.discipline, institution=world.a, year=2026, confirm_late=True, today=D(2026, 12, 6), enqueue=False
    )
    assert cycle.grace_until == D(2026, 12, 20)
    entry = AuditEntry.objects.get(action="cycle.launch", target_id=cycle.pk)
    assert entry.changes["late"]["grace_until"] == "2026-12-20"
    cycle_generate_tasks(cycle_id=cycle.pk)
    overdue = Task.objects.filter(cycle=cycle, due_on__lt=D(2026, 12, 6)).count()
    assert overdue >= 9  # every task but the self-assessment was due before the launch

    first = deadline_scan(now=at("2026-12-06"))  # the real scan, the day of the launch
    assert first.considered > 0 and first.created == []
    deadline_scan(now=at("2026-12-12"))
    assert not TaskNotice.objects.filter(task__cycle=cycle).exclude(stage__startswith="remind").exists()

    deadline_scan(now=at("2026-12-13"))  # seven days before the grace ends: a reminder, not an escalation
    assert set(TaskNotice.objects.filter(task__cycle=cycle).values_list("stage", flat=True)) == {"remind-7"}
    deadline_scan(now=at("2026-12-21"))  # the day after: the open tasks are overdue now
    assert TaskNotice.objects.filter(task__cycle=cycle, stage="supervise").exists()
    assert not TaskNotice.objects.filter(task__cycle=cycle, stage="report").exists()


def test_without_grace_the_same_late_cycle_would_escalate_at_once(world):
    """The burst the grace prevents (the cycle's row edited to what today's code would launch)."""
    cycle = cycle_launch(
        by=world.discipline, institution=world.a, year=2026, confirm_late=True, today=D(2026, 12, 6), enqueue=False
    )
    Cycle.objects.filter(pk=cycle.pk).update(grace_until=None)
    cycle_generate_tasks(cycle_id=cycle.pk)
    deadline_scan(now=at("2026-12-06"))
    assert TaskNotice.objects.filter(task__cycle=cycle, stage="report").count() > 5
