"""Post grades A/B/C (篇5): proposed from the post's verified points and its kind, decided by the
discipline office with a reason when it departs from the proposal, audited; the split supervision."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from positions.models import Position
from positions.services import position_create
from risk_registry import access
from risk_registry.models import PostGrade, RiskPoint, RiskPointState, Supervision
from risk_registry.models.post_grade import SUPERVISION_ROLES, propose_grade, supervision_for
from risk_registry.organisation.models import AuditEntry, Band, GradeLevel, Role
from risk_registry.services import post_grade_decide, post_grades_propose

pytestmark = pytest.mark.django_db


def _verify(point: RiskPoint, level_name: str) -> None:
    """The point as the discipline office defined it, at ``level_name`` of bureau A's scheme."""
    level = GradeLevel.objects.get(scheme_id=point.institution.grading_scheme_id, name=level_name)
    RiskPoint.objects.filter(pk=point.pk).update(state=RiskPointState.DEFINED, level=level)


def _grades(world) -> dict[int, PostGrade]:
    return {g.position_id: g for g in PostGrade.objects.filter(institution=world.a, year=2026)}


@pytest.mark.parametrize(
    ("band", "kind", "key", "grade"),
    [
        (Band.HIGH, "principal", False, "A"),
        (Band.HIGH, "deputy", False, "A"),
        (Band.HIGH, "general", True, "A"),
        (Band.HIGH, "general", False, "B"),
        (Band.MEDIUM, "general", True, "B"),
        (Band.LOW, "deputy", False, "B"),
        (None, "principal", False, "B"),
        (Band.LOW, "general", True, "C"),
        (None, "general", False, "C"),
    ],
)
def test_the_proposal_rule(band, kind, key, grade):
    assert propose_grade(band, kind, key) == grade


def test_split_supervision_follows_grade_and_kind():
    # 篇5: A 班子正职/副职 → 纪检监察机关 directly; other A and B → 派驻纪检组 with the principal; C jointly.
    assert supervision_for("A", "principal") == supervision_for("A", "deputy") == Supervision.DIRECT
    assert supervision_for("A", "middle") == supervision_for("A", "general") == Supervision.STATIONED
    assert supervision_for("B", "principal") == supervision_for("B", "general") == Supervision.STATIONED
    assert supervision_for("C", "general") == Supervision.JOINT
    assert SUPERVISION_ROLES[Supervision.DIRECT] == (Role.SUPERIOR,)
    assert set(SUPERVISION_ROLES[Supervision.STATIONED]) == {Role.DISCIPLINE, Role.PRINCIPAL}
    assert set(SUPERVISION_ROLES[Supervision.JOINT]) == {Role.LEADERSHIP, Role.DISCIPLINE}


def test_proposed_from_verified_points_only(world):
    chief = position_create(department=world.dept, title="局长岗", kind=Position.Kind.PRINCIPAL)
    _verify(world.submitted, "一级")  # 审批岗, a key post: high band → A
    _verify(world.finance_point, "二级")  # 会计岗: medium → B
    # 复核岗 has only a draft (not verified): nothing → C, even though the draft would be 三级
    changed = post_grades_propose(by=world.discipline, institution=world.a, year=2026)
    grades = _grades(world)
    assert changed == 4 == len(grades)
    assert (grades[world.position.pk].proposed, grades[world.position.pk].proposed_band) == ("A", Band.HIGH)
    assert grades[world.position.pk].supervision == Supervision.STATIONED  # a key post, not leadership
    assert grades[world.position.pk].proposed_points == 1
    assert (grades[world.position3.pk].proposed, grades[world.position3.pk].supervision) == ("B", "stationed")
    assert (grades[world.position2.pk].proposed, grades[world.position2.pk].proposed_band) == ("C", "")
    assert grades[world.position2.pk].supervision == Supervision.JOINT
    assert grades[chief.pk].proposed == "B"  # a leadership post is at least B
    assert not any(g.is_decided for g in grades.values())  # the product proposes, people decide
    entry = AuditEntry.objects.get(action="post_grade.propose")
    assert entry.actor == world.discipline and entry.institution == world.a
    # nothing changed: no new write, no new audit entry
    assert post_grades_propose(by=world.discipline, institution=world.a, year=2026) == 0
    assert AuditEntry.objects.filter(action="post_grade.propose").count() == 1


def test_a_leadership_post_graded_a_is_supervised_directly(world):
    chief = position_create(department=world.dept, title="局长岗", kind=Position.Kind.PRINCIPAL)
    point = RiskPoint.objects.get(pk=world.submitted.pk)
    RiskPoint.objects.filter(pk=point.pk).update(position=chief)
    _verify(point, "一级")
    post_grades_propose(by=world.discipline, institution=world.a, year=2026)
    grade = PostGrade.objects.get(position=chief, year=2026)
    assert (grade.proposed, grade.supervision) == ("A", Supervision.DIRECT)


def test_only_the_discipline_office_proposes_and_decides(world):
    for user in (world.leader, world.principal, world.head, world.holder, world.superior, world.outsider):
        with pytest.raises(PermissionDenied):
            post_grades_propose(by=user, institution=world.a, year=2026)
    assert not PostGrade.objects.exists()
    post_grades_propose(by=world.discipline, institution=world.a, year=2026)
    grade = PostGrade.objects.get(position=world.position2, year=2026)
    with pytest.raises(PermissionDenied):
        post_grade_decide(by=world.leader, grade=grade, decided="C")
    grade.refresh_from_db()
    assert not grade.is_decided
    assert not AuditEntry.objects.filter(action="post_grade.decide").exists()


def test_confirm_and_change_with_reason_audited(world):
    post_grades_propose(by=world.discipline, institution=world.a, year=2026)
    grade = PostGrade.objects.get(position=world.position2, year=2026)
    assert grade.proposed == "C"
    post_grade_decide(by=world.discipline, grade=grade, decided="C")
    assert (grade.grade, grade.decided_by, grade.differs) == ("C", world.discipline, False)
    assert grade.decided_at is not None
    with pytest.raises(ValidationError):
        post_grade_decide(by=world.discipline, grade=grade, decided="A", reason="  ")
    grade.refresh_from_db()
    assert grade.grade == "C"
    post_grade_decide(by=world.discipline, grade=grade, decided="B", reason="负责大额复核")
    assert (grade.grade, grade.reason, grade.supervision, grade.differs) == ("B", "负责大额复核", "stationed", True)
    entries = list(AuditEntry.objects.filter(action="post_grade.decide").order_by("pk"))
    assert len(entries) == 2
    assert entries[1].changes["before"]["grade"] == "C" and entries[1].changes["after"]["grade"] == "B"
    # a new proposal keeps the decision
    _verify(world.submitted, "一级")
    post_grades_propose(by=world.discipline, institution=world.a, year=2026)
    grade.refresh_from_db()
    assert grade.grade == "B"


def test_post_grades_visible_to(world):
    post_grades_propose(by=world.discipline, institution=world.a, year=2026)
    total = PostGrade.objects.count()
    for user in (world.discipline, world.superior, world.leader, world.principal):
        assert access.post_grades_visible_to(user).count() == total
    for user in (world.holder, world.head, world.outsider, world.nobody):
        assert not access.post_grades_visible_to(user).exists()


def test_page_lists_proposed_and_decided_and_refuses_an_empty_confirm(world, client, login):
    post_grades_propose(by=world.discipline, institution=world.a, year=2026)
    login(world.discipline)
    page = client.get("/org/bureau-a/post-grades/2026/")
    assert page.status_code == 200
    assert [g.position.title for g, _form in page.context["rows"]] == ["审批岗", "复核岗", "会计岗"]
    assert page.context["pending"] == 3
    answer = client.post("/org/bureau-a/post-grades/2026/", {"action": "confirm"})
    assert answer.status_code == 200 and answer.context["confirm"].errors
    assert not PostGrade.objects.exclude(grade="").exists()
    grade = PostGrade.objects.get(position=world.position2, year=2026)
    answer = client.post(f"/post-grades/{grade.pk}/decide/", {f"g{grade.pk}-grade": "A", f"g{grade.pk}-reason": ""})
    assert answer.status_code == 302
    grade.refresh_from_db()
    assert not grade.is_decided  # a change without a reason is refused
    answer = client.post(f"/post-grades/{grade.pk}/decide/", {f"g{grade.pk}-grade": "Z"})
    grade.refresh_from_db()
    assert answer.status_code == 302 and not grade.is_decided


@pytest.mark.django_db
def test_proposing_costs_the_same_queries_for_few_posts_or_many(world):
    """New and changed proposals are written in one insert and one update, not one per post."""

    def queries() -> int:
        PostGrade.objects.filter(institution=world.a).delete()
        with CaptureQueriesContext(connection) as captured:
            post_grades_propose(by=world.discipline, institution=world.a, year=2026)
        return len(captured)

    queries()  # the reader's scope is cached by the first call
    few = queries()
    for n in range(12):
        position_create(department=world.dept, title=f"新增岗位{n}")
    assert queries() == few
    assert PostGrade.objects.filter(institution=world.a).count() == Position.objects.filter(institution=world.a).count()
