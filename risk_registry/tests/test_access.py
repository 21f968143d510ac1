"""risk_registry.access: what each persona of the world may see and do, written out in full."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404

from conftest import PERSONAS
from positions.models import Position
from risk_registry import access
from risk_registry.models import RiskPoint

POINTS = ["draft", "submitted", "draft2", "finance_point", "dept_draft", "point_b"]

A_SUBMITTED = {"submitted", "finance_point"}
VISIBLE_POINTS = {
    "holder": {"draft", "submitted"},  # own position, drafts included
    "holder2": {"draft2"},
    "holder3": {"finance_point"},
    "head": {"draft", "submitted", "draft2", "dept_draft"},  # the whole department, not 财务股
    "discipline": A_SUBMITTED,  # submitted points of bureau A only
    "leader": A_SUBMITTED,
    "principal": A_SUBMITTED,
    "superior": A_SUBMITTED | {"point_b"},  # the county's subtree, no drafts
    "outsider": {"point_b"},
    "outsider_holder": {"point_b"},
    "nobody": set(),
}

A = {"a"}
VISIBLE_INSTITUTIONS = {
    "holder": A,
    "holder2": A,
    "holder3": A,
    "head": A,
    "discipline": A,
    "leader": A,
    "principal": A,
    "superior": {"county", "a", "b"},
    "outsider": {"b"},
    "outsider_holder": {"b"},
    "nobody": set(),
}
DEPARTMENTS_OF = {"county": set(), "a": {"dept", "finance"}, "b": {"dept_b"}}
POSITIONS_OF = {"county": set(), "a": {"position", "position2", "position3"}, "b": {"position_b"}}
POWER_ITEMS_OF = {"county": set(), "a": {"power"}, "b": set()}

EDITABLE = {"holder": {"draft"}, "holder2": {"draft2"}, "head": {"dept_draft"}}
ADDABLE_POSITIONS = {
    "holder": {"position"},
    "holder2": {"position2"},
    "holder3": {"position3"},
    "outsider_holder": {"position_b"},
}
ADDABLE_DEPARTMENTS = {"head": {"dept"}}


def _names(world, objects, names):
    """The world attribute names of ``objects`` among ``names``."""
    by_pk = {(type(getattr(world, n)), getattr(world, n).pk): n for n in names}
    return {by_pk[(type(obj), obj.pk)] for obj in objects}


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


# --- what each persona sees -----------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_risk_points_visible_to(world, persona):
    visible = access.risk_points_visible_to(_fresh(getattr(world, persona)))

    assert _names(world, visible, POINTS) == VISIBLE_POINTS[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_institutions_visible_to(world, persona):
    visible = access.institutions_visible_to(_fresh(getattr(world, persona)))

    assert _names(world, visible, ["county", "a", "b"]) == VISIBLE_INSTITUTIONS[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_departments_positions_and_power_items_follow_the_institutions(world, persona):
    user = _fresh(getattr(world, persona))
    institutions = VISIBLE_INSTITUTIONS[persona]

    def expected(table):
        return set().union(*(table[i] for i in institutions))

    assert _names(world, access.departments_visible_to(user), ["dept", "finance", "dept_b"]) == expected(DEPARTMENTS_OF)
    positions = ["position", "position2", "position3", "position_b"]
    assert _names(world, access.positions_visible_to(user), positions) == expected(POSITIONS_OF)
    assert _names(world, access.power_items_visible_to(user), ["power"]) == expected(POWER_ITEMS_OF)


def test_drafts_stay_with_their_authors_side(world):
    readers = {
        persona
        for persona in PERSONAS
        if access.risk_points_visible_to(_fresh(getattr(world, persona))).filter(pk=world.draft.pk).exists()
    }

    assert readers == {"holder", "head"}


def test_anonymous_user_sees_nothing(world):
    anonymous = AnonymousUser()

    assert not access.risk_points_visible_to(anonymous).exists()
    assert not access.institutions_visible_to(anonymous).exists()
    assert not access.positions_visible_to(anonymous).exists()
    assert access.scope_of(anonymous).is_empty


@pytest.mark.parametrize("persona", ["holder", "discipline", "superior"])
def test_inactive_user_sees_nothing(world, persona):
    user = _fresh(getattr(world, persona))
    user.is_active = False

    assert not access.risk_points_visible_to(user).exists()
    assert not access.institutions_visible_to(user).exists()


def test_superuser_without_membership_sees_nothing(world):
    root = get_user_model().objects.create_superuser("root", password="x-root-password")

    assert not access.risk_points_visible_to(root).exists()
    assert not access.institutions_visible_to(root).exists()


# --- what each persona may do ---------------------------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_can_edit_risk_point(world, persona):
    user = _fresh(getattr(world, persona))

    editable = {name for name in POINTS if access.can_edit_risk_point(user, getattr(world, name))}

    assert editable == EDITABLE.get(persona, set())


@pytest.mark.parametrize("persona", PERSONAS)
def test_can_add_risk_point_to_position(world, persona):
    user = _fresh(getattr(world, persona))

    addable = {
        name
        for name in ["position", "position2", "position3", "position_b"]
        if access.can_add_risk_point_to_position(user, getattr(world, name))
    }

    assert addable == ADDABLE_POSITIONS.get(persona, set())


@pytest.mark.parametrize("persona", PERSONAS)
def test_can_add_risk_point_to_department(world, persona):
    user = _fresh(getattr(world, persona))

    addable = {
        name
        for name in ["dept", "finance", "dept_b"]
        if access.can_add_risk_point_to_department(user, getattr(world, name))
    }

    assert addable == ADDABLE_DEPARTMENTS.get(persona, set())


def test_holder_cannot_edit_submitted_point(world):
    assert not access.can_edit_risk_point(_fresh(world.holder), world.submitted)


def test_head_cannot_edit_a_holders_draft(world):
    assert not access.can_edit_risk_point(_fresh(world.head), world.draft)


# --- helpers for views ----------------------------------------------------------------------


def test_outsider_gets_404(world):
    with pytest.raises(Http404):
        access.object_or_404(access.risk_points_visible_to(_fresh(world.outsider)), pk=world.submitted.pk)


def test_discipline_office_gets_404_for_a_draft(world):
    with pytest.raises(Http404):
        access.object_or_404(access.risk_points_visible_to(_fresh(world.discipline)), pk=world.draft.pk)


def test_object_or_404_for_a_missing_object(world):
    with pytest.raises(Http404):
        access.object_or_404(access.risk_points_visible_to(_fresh(world.superior)), pk=10**9)


def test_object_or_404_returns_the_object_in_scope(world):
    found = access.object_or_404(access.risk_points_visible_to(_fresh(world.discipline)), pk=world.submitted.pk)

    assert found == world.submitted


def test_object_or_404_on_institutions(world):
    institutions = access.institutions_visible_to(_fresh(world.outsider))

    assert access.object_or_404(institutions, code="bureau-b") == world.b
    with pytest.raises(Http404):
        access.object_or_404(institutions, code="bureau-a")


def test_require_false_raises_permission_denied():
    with pytest.raises(PermissionDenied):
        access.require(False)


def test_require_true_lets_the_action_through():
    assert access.require(True) is None


# --- the scope: two queries, once per request -----------------------------------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_scope_is_computed_with_at_most_two_queries(world, persona, django_assert_max_num_queries):
    user = _fresh(getattr(world, persona))
    ContentType.objects.get_for_model(Position)  # the per-process content-type cache, warm in a server

    with django_assert_max_num_queries(2):
        access.scope_of(user)


def test_scope_is_cached_for_the_request(world, django_assert_num_queries):
    user = _fresh(world.head)
    scope = access.scope_of(user)

    with django_assert_num_queries(0):
        assert access.scope_of(user) is scope
        access.can_edit_risk_point(user, world.dept_draft)
        access.can_add_risk_point_to_department(user, world.dept)
    with django_assert_num_queries(1):
        assert len(access.risk_points_visible_to(user)) == 4


def test_forget_scope_recomputes_on_the_next_call(world):
    user = _fresh(world.holder)
    first = access.scope_of(user)

    access.forget_scope(user)

    again = access.scope_of(user)
    assert again is not first
    assert again == first


def test_scope_of_the_holder(world):
    scope = access.scope_of(_fresh(world.holder))

    assert scope.held_position_ids == {world.position.pk}
    assert scope.member_institution_ids == {world.a.pk}
    assert scope.is_holder and not scope.roles and not scope.subtree_paths


def test_scope_of_the_superior_is_the_county_subtree(world):
    scope = access.scope_of(_fresh(world.superior))

    assert scope.subtree_paths == (world.county.path,)
    assert not scope.is_holder


def test_risk_points_visible_to_is_a_queryset_of_risk_points(world):
    visible = access.risk_points_visible_to(_fresh(world.nobody))

    assert visible.model is RiskPoint
    assert list(visible.filter(pk=world.point_b.pk)) == []


def test_scope_reads_the_holders_permissions_from_the_direct_table_for_that_user_only(
    world, django_assert_max_num_queries
):
    """One query whatever the province's size: memberships, and the user's own rows of guardian's
    direct permission table (no OR with group permissions, which defeated the index), together."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = type(world.holder).objects.get(pk=world.holder.pk)
    with CaptureQueriesContext(connection) as queries:
        scope = access.scope_of(user)
    assert scope.held_position_ids == {world.position.pk}
    assert len(queries) == 1
    permission_query = queries[0]["sql"]
    assert "organisation_membership" in permission_query and "UNION ALL" in permission_query
    assert "positions_positionuserobjectpermission" in permission_query
    assert "guardian_groupobjectpermission" not in permission_query and "auth_user_groups" not in permission_query


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["superior", "discipline", "leader", "head", "holder", "outsider"])
def test_positions_of_visible_institutions_are_the_positions_visible(world, persona):
    """The semi-join the dashboards count posts with gives the same rows as ``positions_visible_to``,
    for the whole scope and within a subtree."""
    user = getattr(world, persona)
    visible = set(access.positions_visible_to(user).values_list("pk", flat=True))
    assert set(access.positions_of_visible_institutions(user).values_list("pk", flat=True)) == visible
    within = set(
        access.positions_visible_to(user)
        .filter(institution__path__startswith=world.a.path)
        .values_list("pk", flat=True)
    )
    assert set(access.positions_of_visible_institutions(user, path=world.a.path).values_list("pk", flat=True)) == within


def test_people_of_an_institution_are_its_members_and_holders_once_each(world):
    """Whom a form may name there: its members and the holders of its posts, each once, by name;
    former holders only when asked (the rotation page records their past)."""
    import datetime

    from positions.models import Holding
    from risk_registry.organisation.models import Institution

    one = Institution.objects.filter(pk=world.a.pk)
    Holding.objects.create(  # 李复核 held 乙局's post once, and a post of 甲局 now
        user=world.holder2,
        position=world.position_b,
        started_on=datetime.date(2020, 1, 1),
        ended_on=datetime.date(2021, 1, 1),
    )
    former = get_user_model().objects.create_user(username="former", last_name="曾")
    Holding.objects.create(
        user=former, position=world.position3, started_on=datetime.date(2020, 1, 1), ended_on=datetime.date(2021, 1, 1)
    )
    now = list(access.people_of(one))
    assert len(now) == len(set(now))
    assert {world.holder, world.holder2, world.holder3, world.head, world.discipline, world.leader} <= set(now)
    assert former not in now and world.outsider not in now and world.holder2 in now
    assert former in access.people_of(one, former_holders=True)
    assert world.holder2 not in access.people_of(Institution.objects.filter(pk=world.b.pk))
    assert world.holder2 in access.people_of(Institution.objects.filter(pk=world.b.pk), former_holders=True)
    names = [(u.last_name, u.first_name, u.username) for u in now]
    assert names == sorted(names)
