"""A city office's lists read its newest points from its part of the tree (``access.q_one_part``,
index ``riskpoint_part``): the same rows as the access module allows, for every persona, newest
first and page after page; only a user whose whole scope is one such part gets the filter.

In the shared world the county is the root ("/c/") and the bureaus A and B are the parts one level
below it, as a province's cities are.
"""

from __future__ import annotations

import pytest
from django.db import connection

from risk_registry import access
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import Role
from risk_registry.organisation.services import membership_grant
from risk_registry.workflow import inbox

pytestmark = pytest.mark.django_db
PERSONAS = ("discipline", "outsider", "superior", "head", "leader", "principal", "holder", "holder3", "nobody")


@pytest.fixture
def points(world):
    """Points of both parts and of the county itself, in every state, interleaved by id."""
    template = RiskPoint.objects.get(pk=world.submitted.pk)
    rows = []
    for n in range(24):
        state = list(RiskPointState)[n % len(RiskPointState)]
        institution, department, position = (
            (world.a, world.dept, world.position),
            (world.b, world.dept_b, world.position_b),
            (world.a, world.finance, None),
        )[n % 3]
        rows.append(
            RiskPoint(
                institution=institution,
                department=department,
                position=position,
                year=2026 if n % 4 else 2025,
                risk_type=template.risk_type,
                description=f"点{n}",
                likelihood=2,
                severity=2,
                level=template.level,
                state=state,
            )
        )
    return RiskPoint.objects.bulk_create(rows)


def _visible_newest(user) -> list[int]:
    return list(access.risk_points_visible_to(user).order_by("-id").values_list("pk", flat=True))


def test_only_an_office_whose_scope_is_one_part_gets_the_part(world):
    assert access.q_one_part(world.discipline) is not None  # bureau A's office, nothing else
    assert access.q_one_part(world.outsider) is not None  # bureau B's
    for persona in ("superior", "head", "leader", "principal", "holder", "nobody"):
        assert access.q_one_part(getattr(world, persona)) is None, persona  # the root, or no subtree
    # Another role beside the part: an OR that no single index range serves.
    membership_grant(user=world.discipline, institution=world.b, role=Role.LEADERSHIP)
    access.forget_scope(world.discipline)
    assert access.q_one_part(world.discipline) is None


@pytest.mark.parametrize("persona", ("discipline", "outsider"))
def test_the_part_adds_no_row_and_leaves_none_out(world, points, persona):
    user = getattr(world, persona)
    part = access.q_one_part(user)
    assert part is not None
    visible = access.risk_points_visible_to(user)
    assert set(visible.filter(part).values_list("pk", flat=True)) == set(visible.values_list("pk", flat=True))
    assert visible.exists()


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_list_pages_through_exactly_what_access_allows_newest_first(world, points, client, settings, persona):
    settings.RISK_REGISTRY_PAGE_SIZE = 4
    user = getattr(world, persona)
    client.force_login(user)
    shown, after = [], ""
    for _ in range(20):
        response = client.get("/risks/", {"year": "", "after": after} if after else {"year": ""})
        assert response.status_code == 200
        page = response.context["page"]
        shown += [row.pk for row in page.rows]
        if page.next_after is None:
            break
        after = page.next_after
    assert shown == _visible_newest(user)
    # The default (this year) too: its first page.
    first = client.get("/risks/").context["page"]
    this_year = access.risk_points_visible_to(user).filter(year=2026).order_by("-id").values_list("pk", flat=True)
    assert [row.pk for row in first.rows] == list(this_year[:4])


def test_the_city_offices_inbox_lists_its_points_to_define_newest_first(world, points, client):
    RiskPoint.objects.filter(institution__in=[world.a, world.b]).update(state=RiskPointState.REVIEWED)
    client.force_login(world.discipline)
    rows = client.get("/inbox/").context["sections"]["to_define"]
    expected = list(inbox.to_define(world.discipline).order_by("-id").values_list("pk", flat=True))
    assert [row.pk for row in rows] == expected
    assert {row.institution_id for row in rows} == {world.a.pk}  # bureau B's waits for B's office


def test_a_part_is_read_from_its_own_index_in_id_order(world, points):
    """The filter says the expression of the index ``riskpoint_part`` word for word (PostgreSQL uses
    an expression index only for the same expression), so the newest rows are read backwards."""
    queryset = access.risk_points_visible_to(world.discipline).filter(access.q_one_part(world.discipline))
    sql, params = queryset.order_by("-id").values("pk")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan Backward using riskpoint_part" in plan
    assert "Sort" not in plan
