"""Issue 9, "the register page as the workspace" (台账): the register's points as a table with
filters, sorting and quality flags; bulk actions on the selected rows (all or nothing, each point
version-checked and audited); and the confirmation step before approve, publish, issue and file."""

from __future__ import annotations

import datetime

import pytest

from controls.models import Control
from risk_registry.models import LevelProposal, Register, RegisterVersion, RiskPoint
from risk_registry.models import RiskPointState as S
from risk_registry.organisation.models import AuditEntry, Department, GradeLevel

REGISTER = "/registers/bureau-a/2026"


def _rows(response) -> list[int]:
    return [row.point.pk for row in response.context["table"]["rows"]]


def _bulk(world, action: str, *points, **extra) -> dict:
    data = {"action": action, "point": [p.pk for p in points], **extra}
    for p in points:
        data[f"version_{p.pk}"] = RiskPoint.objects.get(pk=p.pk).version
    return data


def _raise_finance_point(world) -> None:
    """The finance point at the top level (一级), the submitted one stays at 二级."""
    top = GradeLevel.objects.get(scheme=world.a.grading_scheme, rank=1)
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(likelihood=3, severity=3, level=top)


def _snapshot(*points) -> list[tuple]:
    return list(
        RiskPoint.objects.filter(pk__in=[p.pk for p in points])
        .order_by("pk")
        .values_list("pk", "state", "version", "level_id")
    )


# --- the table ---------------------------------------------------------------------------------


def test_the_register_page_lists_its_points_with_their_controls_and_flags(world, client):
    Control.objects.filter(risk_point=world.finance_point).delete()
    client.force_login(world.discipline)
    response = client.get(f"{REGISTER}/")
    assert response.status_code == 200
    assert set(_rows(response)) == {world.submitted.pk, world.finance_point.pk}  # drafts stay with their authors
    rows = {row.point.pk: row for row in response.context["table"]["rows"]}
    assert [code for code, _label in rows[world.finance_point.pk].flags] == ["no_controls"]
    assert rows[world.submitted.pk].actions == {"review", "return_to_author", "propose"}
    html = response.content.decode()
    assert "双人审核" in html  # the controls, on expand
    assert 'data-testid="bulk-form"' in html


def test_the_table_filters_by_department_state_level_and_flag(world, client):
    _raise_finance_point(world)
    Control.objects.filter(risk_point=world.finance_point).delete()
    client.force_login(world.discipline)
    assert _rows(client.get(f"{REGISTER}/?department={world.finance.pk}")) == [world.finance_point.pk]
    assert _rows(client.get(f"{REGISTER}/?position={world.position.pk}")) == [world.submitted.pk]
    assert _rows(client.get(f"{REGISTER}/?flag=no_controls")) == [world.finance_point.pk]
    assert _rows(client.get(f"{REGISTER}/?level={world.submitted.level_id}")) == [world.submitted.pk]
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)
    assert _rows(client.get(f"{REGISTER}/?state=reviewed")) == [world.submitted.pk]


def test_the_table_sorts_by_seriousness_and_by_state(world, client):
    _raise_finance_point(world)
    client.force_login(world.discipline)
    ranks = {p.pk: RiskPoint.objects.get(pk=p.pk).level.rank for p in (world.submitted, world.finance_point)}
    most_serious_first = sorted(ranks, key=lambda pk: (ranks[pk], pk))
    assert ranks[world.submitted.pk] != ranks[world.finance_point.pk]
    assert _rows(client.get(f"{REGISTER}/?sort=level")) == most_serious_first
    assert _rows(client.get(f"{REGISTER}/?sort=-level")) == most_serious_first[::-1]
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(state=S.REVIEWED)
    assert _rows(client.get(f"{REGISTER}/?sort=state")) == [world.submitted.pk, world.finance_point.pk]
    assert _rows(client.get(f"{REGISTER}/?sort=-state")) == [world.finance_point.pk, world.submitted.pk]


@pytest.mark.parametrize("query", ["state=nonsense", "sort=id", "flag=x", "department=abc", "level=²"])
def test_an_unknown_filter_is_a_clear_400(world, client, query):
    client.force_login(world.discipline)
    response = client.get(f"{REGISTER}/?{query}")
    assert response.status_code == 400


# --- bulk actions ------------------------------------------------------------------------------


def test_bulk_review_moves_every_selected_point_and_audits_each(world, client):
    client.force_login(world.discipline)
    before = _snapshot(world.submitted, world.finance_point)
    response = client.post(f"{REGISTER}/bulk/", _bulk(world, "review", world.submitted, world.finance_point))
    assert response.status_code == 302
    after = _snapshot(world.submitted, world.finance_point)
    assert [row[1] for row in after] == [S.REVIEWED, S.REVIEWED]
    assert [row[2] for row in after] == [row[2] + 1 for row in before]
    assert (
        AuditEntry.objects.filter(
            action="risk_point.review", target_id__in=[world.submitted.pk, world.finance_point.pk]
        ).count()
        == 2
    )


def test_bulk_review_is_all_or_nothing_when_one_point_changed_meanwhile(world, client):
    client.force_login(world.discipline)
    data = _bulk(world, "review", world.submitted, world.finance_point)
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(version=99)  # someone else saved it
    before = _snapshot(world.submitted, world.finance_point)
    response = client.post(f"{REGISTER}/bulk/", data, follow=True)
    assert _snapshot(world.submitted, world.finance_point) == before
    assert f"#{world.finance_point.pk}" in response.content.decode()


def test_bulk_return_needs_a_reason(world, client):
    client.force_login(world.head)
    before = _snapshot(world.submitted)
    client.post(f"{REGISTER}/bulk/", _bulk(world, "return_to_author", world.submitted))
    assert _snapshot(world.submitted) == before
    client.post(f"{REGISTER}/bulk/", _bulk(world, "return_to_author", world.submitted, reason="描述不具体"))
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == S.DRAFT
    entry = AuditEntry.objects.get(action="risk_point.return_to_author", target_id=world.submitted.pk)
    assert entry.changes["reason"] == "描述不具体"


def test_bulk_define_with_an_override_needs_its_reason(world, client):
    RiskPoint.objects.filter(pk__in=[world.submitted.pk, world.finance_point.pk]).update(state=S.REVIEWED)
    client.force_login(world.discipline)
    before = _snapshot(world.submitted, world.finance_point)
    client.post(
        f"{REGISTER}/bulk/", _bulk(world, "define", world.submitted, world.finance_point, likelihood=3, severity=3)
    )
    assert _snapshot(world.submitted, world.finance_point) == before  # no reason: nothing moved
    client.post(
        f"{REGISTER}/bulk/",
        _bulk(world, "define", world.submitted, world.finance_point, likelihood=3, severity=3, reason="涉及大额资金"),
    )
    points = RiskPoint.objects.filter(pk__in=[world.submitted.pk, world.finance_point.pk])
    assert {(p.state, p.likelihood, p.severity) for p in points} == {(S.DEFINED, 3, 3)}
    overrides = AuditEntry.objects.filter(action="risk_point.define", target_id__in=[p.pk for p in points])
    assert {e.changes["override"]["reason"] for e in overrides} == {"涉及大额资金"}


def test_bulk_define_at_the_proposed_level_needs_no_reason(world, client):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.REVIEWED)
    client.force_login(world.discipline)
    client.post(f"{REGISTER}/bulk/", _bulk(world, "define", world.submitted))
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    assert (point.state, point.likelihood, point.severity) == (S.DEFINED, 2, 2)


def test_bulk_proposal_writes_one_proposal_per_point(world, client):
    client.force_login(world.discipline)
    client.post(
        f"{REGISTER}/bulk/", _bulk(world, "propose", world.submitted, likelihood=3, severity=3, reason="多次被举报")
    )
    proposal = LevelProposal.objects.get(risk_point=world.submitted)
    assert (proposal.likelihood, proposal.severity, proposal.reason) == (3, 3, "多次被举报")


def test_a_point_of_another_register_or_out_of_scope_is_404(world, client):
    client.force_login(world.discipline)
    assert client.post(f"{REGISTER}/bulk/", _bulk(world, "review", world.point_b)).status_code == 404
    RiskPoint.objects.filter(pk=world.finance_point.pk).update(year=2025)
    assert client.post(f"{REGISTER}/bulk/", _bulk(world, "review", world.finance_point)).status_code == 404


def test_a_step_the_user_may_not_take_on_one_row_is_403_and_moves_nothing(world, client):
    client.force_login(world.leader)
    before = _snapshot(world.submitted)
    assert client.post(f"{REGISTER}/bulk/", _bulk(world, "review", world.submitted)).status_code == 403
    assert _snapshot(world.submitted) == before


# --- confirmation before approve, publish, issue, file -------------------------------------------


def _notice_ended(world) -> Register:
    RiskPoint.objects.filter(pk__in=[world.submitted.pk, world.finance_point.pk]).update(state=S.IN_NOTICE)
    today = datetime.date.today()
    return Register.objects.create(
        institution=world.a,
        year=2026,
        notice_starts_on=today - datetime.timedelta(days=6),
        notice_ends_on=today - datetime.timedelta(days=1),
    )


def test_issue_asks_to_confirm_how_many_points_it_changes(world, client):
    _notice_ended(world)
    client.force_login(world.discipline)
    response = client.post(f"{REGISTER}/issue/")
    assert response.status_code == 200
    assert "这 2 个风险点将被印发" in response.content.decode()
    assert set(RiskPoint.objects.filter(institution=world.a, state=S.IN_NOTICE).values_list("pk", flat=True)) == {
        world.submitted.pk,
        world.finance_point.pk,
    }
    assert client.post(f"{REGISTER}/issue/", {"confirmed": "1"}).status_code == 302
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == S.ISSUED


def test_approval_confirmation_carries_the_whole_record(world, client):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.DEFINED)
    client.force_login(world.leader)
    record = {
        "kind": "approval",
        "meeting": "党组会",
        "meeting_kind": "party_group",
        "held_on": datetime.date.today().isoformat(),
        "participants": "周局长、孙副局长",
        "present": 2,
        "votes_for": 2,
        "votes_against": 0,
        "votes_abstaining": 0,
        "decision": "同意",
        "points": [world.submitted.pk],
    }
    response = client.post(f"{REGISTER}/decide/", record)
    html = response.content.decode()
    assert "这 1 个风险点将被审定" in html
    assert 'name="participants" value="周局长、孙副局长"' in html  # the record is posted again as it was
    assert not Register.objects.filter(institution=world.a, year=2026).exists()  # nothing written
    client.post(f"{REGISTER}/decide/", {**record, "confirmed": "1"})
    assert RiskPoint.objects.get(pk=world.submitted.pk).state == S.APPROVED


def test_filing_asks_to_confirm_before_it_freezes_a_version(world, client):
    RiskPoint.objects.filter(institution=world.a, year=2026).update(state=S.ISSUED)
    Register.objects.create(institution=world.a, year=2026)
    client.force_login(world.principal)
    response = client.post(f"{REGISTER}/file/")
    assert "签署并报上级备案" in response.content.decode() or "备案" in response.content.decode()
    assert not RegisterVersion.objects.exists()
    client.post(f"{REGISTER}/file/", {"confirmed": "1"})
    assert RegisterVersion.objects.count() == 1


@pytest.mark.django_db
def test_a_batch_row_without_the_version_its_reader_saw_is_refused(client, world):
    """The batch form posts version_<id> per row; a row without it cannot be checked against the
    version the reader saw, so nothing is written (never last-write-wins)."""
    point = world.submitted
    before = (point.state, point.version)
    client.force_login(world.head)
    url = f"/registers/{world.a.code}/{point.year}/batch/review/"
    client.post(url, {"point": [point.pk]})
    point.refresh_from_db()
    assert (point.state, point.version) == before
    client.post(url, {"point": [point.pk], f"version_{point.pk}": point.version})
    point.refresh_from_db()
    assert point.state == "reviewed" and point.version == before[1] + 1


def test_the_table_follows_the_institutions_order_of_departments(world, client):
    """Rows come department by department in the order the institution gives its departments (not
    their ids), then by id; reordering the departments reorders the table."""
    client.force_login(world.discipline)
    first, second = world.submitted, world.finance_point
    Department.objects.filter(pk=first.department_id).update(order=2)
    Department.objects.filter(pk=second.department_id).update(order=1)
    assert first.department_id != second.department_id
    assert _rows(client.get(f"{REGISTER}/")) == [second.pk, first.pk]
    Department.objects.filter(pk=second.department_id).update(order=3)
    assert _rows(client.get(f"{REGISTER}/")) == [first.pk, second.pk]
    assert _rows(client.get(f"{REGISTER}/?sort=state")) == [first.pk, second.pk]  # same state: departments


def test_the_sign_and_file_step_is_offered_to_the_principal_alone(world, client):
    """The register page offers 签署并报上级备案 when every point is issued and the register changed
    since its last filing, to the institution's principal; the discipline office is not asked (and
    the page does not look for it)."""
    RiskPoint.objects.filter(institution=world.a, year=2026).update(state=S.ISSUED)
    Register.objects.create(institution=world.a, year=2026)
    client.force_login(world.principal)
    assert client.get(f"{REGISTER}/").context["can"]["file"] is True
    client.post(f"{REGISTER}/file/", {"confirmed": "1"})
    assert client.get(f"{REGISTER}/").context["can"]["file"] is False  # filed, unchanged since
    client.force_login(world.discipline)
    assert client.get(f"{REGISTER}/").context["can"]["file"] is False
