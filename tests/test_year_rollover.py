"""End to end through the pages: the discipline office closes the year (refused while a register
is unfiled, then forced with a reason), and next year's points show where they came from on the
risk list, the point and the position page; the launch form follows the chosen year."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from assessments.models import Cycle
from assessments.services import cycle_launch
from risk_registry.models import Register, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry
from risk_registry.selectors import current_year

pytestmark = pytest.mark.django_db

LAUNCHED_ON = datetime.date(2026, 1, 15)


@pytest.fixture
def zh():
    with translation.override("zh-hans"):
        yield


def file_b(world) -> None:
    register = Register.objects.create(institution=world.b, year=2026)
    RiskPoint.objects.filter(pk=world.point_b.pk).update(state=RiskPointState.ISSUED)
    RegisterVersion.objects.create(
        register=register,
        number=1,
        snapshot={"points": [{"id": world.point_b.pk}]},
        content_hash="0" * 64,
        signed_by=world.outsider,
        signed_at=datetime.datetime(2026, 8, 30, tzinfo=datetime.UTC),
    )


def test_close_refused_then_forced_then_next_year_shows_where_points_came_from(world, client, zh):
    cycle = cycle_launch(by=world.superior, institution=world.county, year=2026, today=LAUNCHED_ON, enqueue=False)
    file_b(world)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.APPROVED)
    client.force_login(world.superior)

    page = client.get(f"/cycles/{cycle.pk}/close/").content.decode()
    assert 'data-testid="unfiled"' in page and "甲局" in page
    assert "已备案台账的1个风险点" in page  # 乙局's filed point; 甲局's approved one only if forced

    refused = client.post(f"/cycles/{cycle.pk}/close/", {"reason": ""})
    assert refused.status_code == 200 and "未备案" in refused.content.decode()
    assert Cycle.objects.get(pk=cycle.pk).is_running and not RiskPoint.objects.filter(year=2027).exists()

    asked = client.post(f"/cycles/{cycle.pk}/close/", {"reason": "机构改革,经研究同意先行结转"})
    text = asked.content.decode()
    assert asked.status_code == 200 and 'data-testid="close-confirmation"' in text
    assert "将结转2个单位的2个风险点" in text  # 乙局's filed point and 甲局's approved one
    assert "其中1个单位未备案" in text and "4个未审定的风险点不结转" in text
    assert 'name="confirmed" value="1"' in text and "机构改革,经研究同意先行结转" in text  # the reason goes along
    assert Cycle.objects.get(pk=cycle.pk).is_running and not RiskPoint.objects.filter(year=2027).exists()
    assert not AuditEntry.objects.filter(action__in=["cycle.close", "register.carry_over"]).exists()

    closed = client.post(f"/cycles/{cycle.pk}/close/", {"reason": "机构改革,经研究同意先行结转", "confirmed": "1"})
    assert closed.status_code == 302
    cycle.refresh_from_db()
    assert cycle.state == Cycle.State.CLOSED and cycle.close_reason == "机构改革,经研究同意先行结转"
    assert AuditEntry.objects.get(action="cycle.close", target_id=cycle.pk).changes["forced"]["reason"]
    copy = RiskPoint.objects.get(year=2027, carried_from=world.submitted)
    assert copy.carried_unfiled and copy.state == RiskPointState.DRAFT
    assert not RiskPoint.objects.get(year=2027, carried_from=world.point_b).carried_unfiled

    board = client.get(f"/cycles/{cycle.pk}/").content.decode()
    assert 'data-testid="close-reason"' in board and "机构改革" in board

    client.force_login(world.holder)  # the holder re-checks next year's copy of his point
    listing = client.get("/risks/?year=2027").content.decode()
    assert "结转自 2026" in listing and f'href="/risks/{world.submitted.pk}/"' in listing
    assert "未备案台账" in listing
    detail = client.get(f"/risks/{copy.pk}/").content.decode()
    assert "结转自 2026" in detail
    position = client.get(f"/positions/{world.position.pk}/?year=2027").content.decode()
    assert "2027年度风险点" in position and "结转自 2026" in position
    assert client.get(f"/risks/{world.submitted.pk}/").status_code == 200  # the link leads somewhere


def test_risk_list_and_position_page_open_on_the_current_year(world, client, zh):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(year=current_year() - 1)
    client.force_login(world.holder)
    listing = client.get("/risks/").content.decode()
    assert world.draft.description in listing and world.submitted.description not in listing
    everything = client.get("/risks/?year=").content.decode()
    assert world.submitted.description in everything
    position = client.get(f"/positions/{world.position.pk}/").content.decode()
    assert f"{current_year()}年度风险点" in position
    assert world.draft.description in position and world.submitted.description not in position
    assert f'href="?year={current_year() - 1}"' in position


def launch_data(world, year: int, phase_year: int, **extra) -> dict:
    data = {"institution": world.a.pk, "year": year, "name": "", "reminder_days": "7, 1"}
    data |= {"supervisor_after_days": 1, "discipline_after_days": 7, **extra}
    phases = (("宣传发动", (3, 1), (3, 31)), ("清权查险", (4, 1), (5, 31)), ("措施防控", (6, 1), (8, 31)))
    phases += (("建章立制·运行监控", (9, 1), (11, 30)), ("检查考核·修正完善", (12, 1), (12, 31)))
    for n, (name, start, due) in enumerate(phases, start=1):
        data[f"phase_{n}_name"] = name
        data[f"phase_{n}_starts_on"] = datetime.date(phase_year, *start).isoformat()
        data[f"phase_{n}_due_on"] = datetime.date(phase_year, *due).isoformat()
    return data


def test_launch_page_refuses_another_years_dates_and_offers_the_chosen_years(world, client, zh):
    client.force_login(world.discipline)
    page = client.get("/cycles/new/?year=2031").content.decode()
    assert 'value="2031-04-01"' in page and 'value="2031"' in page
    response = client.post("/cycles/new/", launch_data(world, 2031, 2030))
    assert response.status_code == 200 and "不属于2031年度" in response.content.decode()
    assert not Cycle.objects.exists()
    assert client.post("/cycles/new/", launch_data(world, 2031, 2031)).status_code == 302
    assert Cycle.objects.get().phases.get(order=1).starts_on == datetime.date(2031, 3, 1)


def test_launch_page_asks_to_confirm_a_late_launch(world, client, zh):
    year = current_year() - 1  # every deadline is past
    client.force_login(world.discipline)
    response = client.post("/cycles/new/", launch_data(world, year, year))
    assert response.status_code == 200 and "期限已过" in response.content.decode()
    assert 'data-testid="late-errors"' in response.content.decode()
    assert not Cycle.objects.exists()
    assert client.post("/cycles/new/", launch_data(world, year, year, confirm_late="on")).status_code == 302
    assert Cycle.objects.get().grace_until is not None
