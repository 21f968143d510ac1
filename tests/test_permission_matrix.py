"""Every view against every persona: allowed cases work, others are 404 (outside scope) or 403.

The expected status of each (view, persona) pair is written out below; the number of cases is
printed at the end of the run (see ``pytest_terminal_summary`` in the root conftest).
"""

from __future__ import annotations

import pytest

from conftest import PERSONAS

BUREAU_A = {"holder", "holder2", "holder3", "head", "discipline", "leader", "principal", "superior"}
BUREAU_B = {"outsider", "outsider_holder", "superior"}
OVERSIGHT_A = {"discipline", "leader", "principal", "superior"}


def expect(ok: set[str], *, ok_status: int = 200, forbidden: set[str] = frozenset()) -> dict[str, int]:
    """``ok`` get ``ok_status``, ``forbidden`` (may see, may not act) 403, everyone else 404."""
    return {p: ok_status if p in ok else 403 if p in forbidden else 404 for p in PERSONAS}


def everyone(status: int = 200) -> dict[str, int]:
    return dict.fromkeys(PERSONAS, status)


def _point_form(world, description: str) -> dict:
    return {
        "risk_type": world.risk_type.pk,
        "found_by": "self",
        "description": description,
        "manifestation": "",
        "likelihood": "2",
        "severity": "2",
        "controls-TOTAL_FORMS": "0",
        "controls-INITIAL_FORMS": "0",
        "controls-MIN_NUM_FORMS": "0",
        "controls-MAX_NUM_FORMS": "30",
    }


# (name, method, url builder, data builder or None, expected statuses)
VIEWS = [
    ("home", "get", lambda w: "/", None, everyone()),
    ("institution tree", "get", lambda w: "/org/", None, everyone()),
    ("institution A", "get", lambda w: "/org/bureau-a/", None, expect(BUREAU_A)),
    ("institution B", "get", lambda w: "/org/bureau-b/", None, expect(BUREAU_B)),
    ("county", "get", lambda w: "/org/county-jw/", None, expect({"superior"})),
    ("department", "get", lambda w: f"/departments/{w.dept.pk}/", None, expect(BUREAU_A)),
    ("position", "get", lambda w: f"/positions/{w.position.pk}/", None, expect(BUREAU_A)),
    ("risk list", "get", lambda w: "/risks/", None, everyone()),
    ("draft detail", "get", lambda w: f"/risks/{w.draft.pk}/", None, expect({"holder", "head"})),
    ("department draft detail", "get", lambda w: f"/risks/{w.dept_draft.pk}/", None, expect({"head"})),
    ("submitted detail", "get", lambda w: f"/risks/{w.submitted.pk}/", None, expect({"holder", "head"} | OVERSIGHT_A)),
    ("B point detail", "get", lambda w: f"/risks/{w.point_b.pk}/", None, expect(BUREAU_B)),
    ("edit draft form", "get", lambda w: f"/risks/{w.draft.pk}/edit/", None, expect({"holder"}, forbidden={"head"})),
    (
        "edit draft",
        "post",
        lambda w: f"/risks/{w.draft.pk}/edit/",
        lambda w: _point_form(w, "已修改的描述"),
        expect({"holder"}, ok_status=302, forbidden={"head"}),
    ),
    (
        "edit department draft",
        "post",
        lambda w: f"/risks/{w.dept_draft.pk}/edit/",
        lambda w: _point_form(w, "已修改的科室风险点"),
        expect({"head"}, ok_status=302),
    ),
    (
        "edit submitted",
        "get",
        lambda w: f"/risks/{w.submitted.pk}/edit/",
        None,
        expect(set(), forbidden={"holder", "head"} | OVERSIGHT_A),
    ),
    (
        "new point form on position",
        "get",
        lambda w: f"/positions/{w.position.pk}/risks/new/",
        None,
        expect({"holder"}, forbidden=BUREAU_A - {"holder"}),
    ),
    (
        "new point on position",
        "post",
        lambda w: f"/positions/{w.position.pk}/risks/new/",
        lambda w: _point_form(w, "新风险点"),
        expect({"holder"}, ok_status=302, forbidden=BUREAU_A - {"holder"}),
    ),
    (
        "new department point form",
        "get",
        lambda w: f"/departments/{w.dept.pk}/risks/new/",
        None,
        expect({"head"}, forbidden=BUREAU_A - {"head"}),
    ),
    (
        "new department point",
        "post",
        lambda w: f"/departments/{w.dept.pk}/risks/new/",
        lambda w: _point_form(w, "科室新风险点"),
        expect({"head"}, ok_status=302, forbidden=BUREAU_A - {"head"}),
    ),
]

VIEWS += [
    ("register A", "get", lambda w: "/registers/bureau-a/2026/", None, expect(BUREAU_A)),
    ("register B", "get", lambda w: "/registers/bureau-b/2026/", None, expect(BUREAU_B)),
    ("batch review A", "get", lambda w: "/registers/bureau-a/2026/batch/review/", None, expect(BUREAU_A)),
    ("batch define A", "get", lambda w: "/registers/bureau-a/2026/batch/define/", None, expect(BUREAU_A)),
    ("inbox", "get", lambda w: "/inbox/", None, everyone()),
    ("filings", "get", lambda w: "/filings/", None, everyone()),
    (
        "audit log",
        "get",
        lambda w: "/audit/",
        None,
        {p: 200 if p in {"discipline", "superior", "outsider"} else 403 for p in PERSONAS},
    ),
    (
        "submit own draft",
        "post",
        lambda w: f"/risks/{w.draft.pk}/step/submit/",
        lambda w: {"version": w.draft.version},
        expect({"holder"}, ok_status=302, forbidden={"head"}),
    ),
    (
        "review submitted",
        "post",
        lambda w: f"/risks/{w.submitted.pk}/step/review/",
        lambda w: {},
        expect({"head", "discipline"}, ok_status=302, forbidden={"holder", "leader", "principal", "superior"}),
    ),
    (
        "propose raising",
        "post",
        lambda w: f"/risks/{w.submitted.pk}/propose/",
        lambda w: {"likelihood": 3, "severity": 3, "reason": "多次被举报"},
        expect({"discipline"}, ok_status=302, forbidden={"holder", "head", "leader", "principal", "superior"}),
    ),
    (
        "approve register",
        "post",
        lambda w: "/registers/bureau-a/2026/decide/",
        lambda w: _decision_form(w, waiting=True),
        expect({"leader", "principal"}, ok_status=302, forbidden=BUREAU_A - {"leader", "principal"}),
    ),
    (
        # Nothing waits for approval: a form error on the page, never a 302 without effect.
        "approve register, nothing waiting",
        "post",
        lambda w: "/registers/bureau-a/2026/decide/",
        lambda w: _decision_form(w, waiting=False),
        expect({"leader", "principal"}, forbidden=BUREAU_A - {"leader", "principal"}),
    ),
    (
        "withdraw submitted",
        "post",
        lambda w: f"/risks/{w.submitted.pk}/step/withdraw/",
        lambda w: {"version": w.submitted.version},
        expect({"holder"}, ok_status=302, forbidden={"head"} | OVERSIGHT_A),
    ),
    (
        "publish register",
        "post",
        lambda w: "/registers/bureau-a/2026/publish/",
        lambda w: _approved(w, {"days": 5}),
        expect({"discipline"}, ok_status=302, forbidden=BUREAU_A - {"discipline"}),
    ),
    ("rule catalogue A", "get", lambda w: "/org/bureau-a/rules/", None, expect(BUREAU_A)),
    (
        "record a rule form",
        "get",
        lambda w: "/org/bureau-a/rules/new/",
        None,
        expect({"discipline", "head"}, forbidden=BUREAU_A - {"discipline", "head"}),
    ),
    (
        "catalogue export",
        "post",
        lambda w: "/org/bureau-a/catalogues/",
        lambda w: {"kind": "powers", "fmt": "xlsx"},
        expect(BUREAU_A),
    ),
    ("public disclosure A (staff only)", "get", lambda w: "/public/bureau-a/", None, expect(BUREAU_A)),
    (
        "public disclosure scope",
        "post",
        lambda w: "/public/bureau-a/scope/",
        lambda w: {"scope": "staff"},
        expect({"discipline"}, ok_status=302, forbidden=BUREAU_A - {"discipline"}),
    ),
    (
        "decision rules",
        "post",
        lambda w: "/registers/bureau-a/2026/rules/",
        lambda w: {"team_size": 7, "quorum": "more_than_half", "majority": "majority_of_present"},
        expect({"discipline"}, ok_status=302, forbidden=BUREAU_A - {"discipline"}),
    ),
]


def _decision_form(world, *, waiting: bool) -> dict:
    """A complete meeting record that passes; with ``waiting``, two of bureau A's points are
    first put where approval finds them (level defined)."""
    from risk_registry.models import RiskPoint, RiskPointState

    points = [world.submitted.pk, world.finance_point.pk] if waiting else []
    RiskPoint.objects.filter(pk__in=points).update(state=RiskPointState.DEFINED)
    return {
        "kind": "approval",
        "meeting": "党组会",
        "meeting_kind": "party_group",
        "held_on": "2026-01-05",
        "participants": "周局长、孙副局长",
        "present": 2,
        "votes_for": 2,
        "votes_against": 0,
        "votes_abstaining": 0,
        "decision": "同意",
        "points": points,
    }


def _approved(world, data: dict) -> dict:
    from risk_registry.models import RiskPoint, RiskPointState

    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=RiskPointState.APPROVED)
    return data


CASES = [
    pytest.param(name, method, url, data, persona, statuses[persona], id=f"{name}-{persona}")
    for name, method, url, data, statuses in VIEWS
    for persona in PERSONAS
]


@pytest.mark.parametrize(("view", "method", "url", "data", "persona", "expected"), CASES)
def test_permission_matrix(world, client, view, method, url, data, persona, expected):
    client.force_login(getattr(world, persona))
    kwargs = {"data": data(world)} if data else {}
    response = getattr(client, method)(url(world), **kwargs)
    assert response.status_code == expected, f"{view} as {persona}"


@pytest.mark.parametrize(("view", "method", "url", "data"), [(v[0], v[1], v[2], v[3]) for v in VIEWS])
def test_anonymous_is_sent_to_login(world, client, view, method, url, data):
    response = getattr(client, method)(url(world), data=data(world) if data else None)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_denied_post_writes_nothing(world, client):
    from risk_registry.models import RiskPoint
    from risk_registry.organisation.models import AuditEntry

    before = (RiskPoint.objects.count(), AuditEntry.objects.count())
    client.force_login(world.holder2)
    response = client.post(f"/positions/{world.position.pk}/risks/new/", _point_form(world, "越权新增"))
    assert response.status_code == 403
    assert (RiskPoint.objects.count(), AuditEntry.objects.count()) == before


def test_allowed_post_really_writes(world, client):
    client.force_login(world.holder)
    response = client.post(f"/risks/{world.draft.pk}/edit/", _point_form(world, "已修改的描述"))
    assert response.status_code == 302
    world.draft.refresh_from_db()
    assert world.draft.description == "已修改的描述"
    assert world.draft.level.name == "二级"  # likelihood 2 × severity 2 under level-1-highest


def test_csrf_is_enforced(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.holder)
    response = client.post(f"/risks/{world.draft.pk}/edit/", _point_form(world, "无令牌"))
    assert response.status_code == 403
    world.draft.refresh_from_db()
    assert world.draft.description != "无令牌"
