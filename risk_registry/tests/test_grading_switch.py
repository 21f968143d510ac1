"""Switching an institution's grading preset from the grading page (issue 12): a preview of the new
levels and of the filed points that will be flagged, a confirmation, and a switch that flags those
points for re-grading and never rewrites their levels."""

from __future__ import annotations

import re

import pytest

from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Institution

pytestmark = pytest.mark.django_db

URL = "/org/bureau-a/grading/switch/"


def _filed(world):
    return RiskPoint.objects.filter(institution=world.a, year=2026).exclude(state=RiskPointState.DRAFT)


def test_the_preview_names_the_new_levels_and_counts_the_points_to_flag(world, login):
    body = login(world.discipline).get(URL, {"preset": "abc"}).content.decode()
    expected = _filed(world).filter(needs_regrading=False).count()
    assert expected > 0
    assert f"这{expected}个风险点将被标记为需要重新定级" in body
    preview = body[body.index('data-testid="switch-preview"') :]
    assert "A" in preview and "高" in preview and "低" in preview
    assert Institution.objects.get(pk=world.a.pk).grading_scheme_id == world.a.grading_scheme_id  # a GET writes nothing


def test_without_the_confirmation_nothing_changes(world, login):
    response = login(world.discipline).post(URL, {"preset": "abc"})
    assert response.status_code == 200 and "请确认" in response.content.decode()
    assert Institution.objects.get(pk=world.a.pk).grading_scheme_id == world.a.grading_scheme_id
    assert not RiskPoint.objects.filter(institution=world.a, needs_regrading=True).exists()


def test_the_switch_flags_the_filed_points_and_keeps_their_levels(world, login):
    client = login(world.discipline)
    levels = dict(RiskPoint.objects.filter(institution=world.a).values_list("pk", "level_id"))
    preview = client.get(URL, {"preset": "abc"}).content.decode()
    promised = int(re.search(r"这(\d+)个风险点将被标记为需要重新定级", preview).group(1))
    response = client.post(URL, {"preset": "abc", "confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/org/bureau-a/grading/"
    institution = Institution.objects.select_related("grading_scheme").get(pk=world.a.pk)
    assert institution.grading_scheme.code == "abc" and institution.grading_scheme.institution_id == world.a.pk
    flagged = RiskPoint.objects.filter(institution=world.a, needs_regrading=True)
    assert flagged.count() == promised == _filed(world).count()
    assert not flagged.filter(state=RiskPointState.DRAFT).exists()  # drafts are their authors'
    assert dict(RiskPoint.objects.filter(institution=world.a).values_list("pk", "level_id")) == levels  # no rewrite
    assert AuditEntry.objects.filter(action="institution.grading_scheme", institution_id=world.a.pk).exists()
    assert AuditEntry.objects.filter(action="risk_point.flag_regrading").count() == promised
    # the same preset again: nothing changes, nothing more is flagged
    again = client.get(URL, {"preset": "abc"}).content.decode()
    assert 'data-testid="switch-same"' in again


def test_an_unknown_preset_is_answered_in_chinese(world, login):
    body = login(world.discipline).get(URL, {"preset": "nope"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "选择一个有效的选项" in body


@pytest.mark.parametrize(("persona", "status"), [("leader", 403), ("superior", 403), ("outsider", 404)])
def test_only_the_discipline_office_switches(world, login, persona, status):
    client = login(getattr(world, persona))
    assert client.get(URL, {"preset": "abc"}).status_code == status
    assert client.post(URL, {"preset": "abc", "confirm": "on"}).status_code == status
    assert Institution.objects.get(pk=world.a.pk).grading_scheme_id == world.a.grading_scheme_id
