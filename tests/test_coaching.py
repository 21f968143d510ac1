"""Coaching while a risk point is written: the endpoint runs the register's own quality checks on the
form's control rows (vague wording, owner, frequency, evidence; the rule as a hint) and suggests the
controls of the institution's own approved points of earlier years with the same risk type."""

from __future__ import annotations

import pytest

from controls.models import Control
from risk_registry.models import RiskPoint, RiskPointState

pytestmark = pytest.mark.django_db
URL = "/risks/coach/"


def _rows(*rows: dict) -> dict:
    data = {"institution": "bureau-a", "controls-TOTAL_FORMS": str(len(rows))}
    for i, row in enumerate(rows):
        data.update({f"controls-{i}-{name}": value for name, value in row.items()})
    return data


def test_a_vague_control_is_flagged_while_typing_and_a_good_one_is_not(world, client):
    client.force_login(world.holder)
    vague = {"line": "prevention", "measure": "严格按照规章制度办事"}
    good = {
        "line": "prevention",
        "measure": "受理材料清单公示",
        "owner": "科长",
        "frequency": "monthly",
        "evidence": "存根",
    }
    answer = client.get(URL, _rows(vague, good, {"measure": ""})).json()
    assert set(answer["rows"]) == {"0", "1"}  # the empty row is not judged
    assert answer["rows"]["0"]["warnings"] == ["未明确责任人", "未明确频次", "无留痕资料", "表述笼统且无后续检查"]
    assert answer["rows"]["1"]["warnings"] == []
    assert answer["rows"]["1"]["hints"] == ["未关联所依据的制度"]


def test_a_monitoring_row_answers_the_generic_phrase_as_the_register_does(world, client):
    client.force_login(world.holder)
    rows = (
        {
            "line": "prevention",
            "measure": "严格按照规章制度办事",
            "owner": "科长",
            "frequency": "monthly",
            "evidence": "记录",
        },
        {
            "line": "monitoring",
            "measure": "纪检办每季度抽查",
            "owner": "纪检办",
            "frequency": "quarterly",
            "evidence": "抽查表",
        },
    )
    answer = client.get(URL, _rows(*rows)).json()
    assert answer["rows"]["0"]["warnings"] == []


def earlier_issued_control(world, **control) -> Control:
    """A control of an issued point of bureau A of the year before the world's (the suggestions'
    source), with the given fields."""
    earlier = RiskPoint.objects.create(
        institution=world.a,
        department=world.dept,
        position=world.position,
        year=world.submitted.year - 1,
        risk_type=world.risk_type,
        description="往年风险点",
        state=RiskPointState.ISSUED,
        likelihood=2,
        severity=2,
        level=world.submitted.level,
    )
    return Control.objects.create(risk_point=earlier, **control)


def test_suggestions_come_from_the_institutions_approved_points_of_earlier_years(world, client):
    earlier = earlier_issued_control(
        world, line="prevention", measure="窗口一次性告知", owner="科长", frequency="monthly", evidence="告知书"
    ).risk_point
    Control.objects.create(risk_point=earlier, line="prevention", measure="加强学习提高认识")  # vague: never suggested
    client.force_login(world.holder)
    answer = client.get(URL, {"institution": "bureau-a", "risk_type": world.risk_type.pk}).json()
    assert [s["measure"] for s in answer["suggestions"]] == ["窗口一次性告知"]
    assert answer["suggestions"][0]["frequency_label"] == "每月"
    other_type = client.get(URL, {"institution": "bureau-a", "risk_type": world.risk_type.pk + 999}).json()
    assert other_type["suggestions"] == []


def test_an_institution_out_of_scope_is_404_and_bad_numbers_are_400(world, client):
    client.force_login(world.holder)
    assert client.get(URL, {"institution": "bureau-b"}).status_code == 404
    assert client.get(URL, {"institution": "bureau-a", "controls-TOTAL_FORMS": "999"}).status_code == 400
    assert client.get(URL, {"institution": "bureau-a", "risk_type": "9" * 40}).status_code == 400
