"""The unit assessment reads the warnings feature by model name only (assessments never imports
integrity_warnings): the share of notices answered in time, and the ledger item an accountability
outcome names by its number."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from assessments import unit
from assessments.models import Checklist, ChecklistItem, UnitOutcome
from assessments.tests.conftest import launch
from assessments.unit_presets import install_checklist_presets
from integrity_warnings.models import Disposition
from tests.warnings_helpers import inspection_item, issue, petition_item

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 12, 10)


def _aware(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def test_notices_answered_in_time(world):
    answered, late, unanswered, secret = (
        issue(world, inspection_item(world)),
        issue(world, inspection_item(world, facts="第二次专项检查")),
        issue(world, inspection_item(world, facts="第三次专项检查")),
        issue(world, petition_item(world)),  # a confidential channel (信访举报)
    )
    for notice in (answered, late, unanswered, secret):
        assert notice.due_on is not None and notice.due_on.year == 2026
    Disposition.objects.filter(pk=answered.pk).update(responded_at=_aware(answered.due_on, 23))  # the last evening
    Disposition.objects.filter(pk=late.pk).update(responded_at=_aware(late.due_on + datetime.timedelta(days=1)))
    Disposition.objects.filter(pk=secret.pk).update(responded_at=_aware(secret.due_on))
    figures = unit.unit_figures(world.a, 2026, TODAY, ["warnings_in_time"])
    assert figures["warnings_in_time"] == unit.Figure(1, 3)  # the confidential item is not counted
    # Not yet due on the day of the figure: not counted either way.
    assert unit.unit_figures(world.a, 2026, answered.due_on - datetime.timedelta(days=1), ["warnings_in_time"])[
        "warnings_in_time"
    ] == unit.Figure(0, 0)
    assert unit.unit_figures(world.b, 2026, TODAY, ["warnings_in_time"])["warnings_in_time"] == unit.Figure(0, 0)


def test_accountability_names_a_ledger_item_by_its_number(world, client, django_capture_on_commit_callbacks):
    install_checklist_presets(Checklist, ChecklistItem)
    with django_capture_on_commit_callbacks(execute=False):
        cycle = launch(world)
    item = inspection_item(world)
    preset = Checklist.objects.get(institution=None, key="jiuquan-six")
    assessment = unit.unit_open(by=world.principal, cycle=cycle, institution=world.a, checklist=preset)
    items = list(assessment.items.order_by("order"))
    unit.unit_self_score(
        by=world.principal,
        assessment=assessment,
        scores=[unit.SelfScore(i.pk, 80) for i in items],
        submit=True,
        today=TODAY,
    )
    assessment = unit.unit_assess(
        by=world.superior,
        assessment=assessment,
        scores=[unit.AssessedScore(i.pk, 50) for i in items],
        conclusion="",
        finish=True,
    )
    outcome = unit.outcome_record(
        by=world.superior,
        assessment=assessment,
        kind=UnitOutcome.Kind.ACCOUNTABILITY,
        text="对责任追究不具体的问题问责",
        warning_number=item.number,
        today=TODAY,
    )
    assert (outcome.warning_item_id, outcome.warning_number) == (item.pk, item.number)
    client.force_login(world.superior)
    page = client.get(f"/cycles/{cycle.pk}/units/bureau-a/").content.decode()
    assert f'href="/warnings/{item.pk}/"' in page and "不合格" in page
