"""What I must watch: each supervising role sees exactly the points of the levels and the posts of
the grades it supervises, within its scope, with their control runs; a fixed number of queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext

from assessments.completion import with_done
from assessments.models import Task
from assessments.services import cycle_generate_tasks, cycle_launch
from controls.models import Control, ControlRun
from positions.models import Position
from positions.services import position_create
from risk_registry import access, selectors
from risk_registry.models import PostGrade, RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel, Role
from risk_registry.services import post_grade_decide, post_grades_refresh

pytestmark = pytest.mark.django_db


def _level(point: RiskPoint, name: str) -> None:
    level = GradeLevel.objects.get(scheme_id=point.institution.grading_scheme_id, name=name)
    RiskPoint.objects.filter(pk=point.pk).update(level=level, state=RiskPointState.DEFINED)


def _page(client, user):
    client.force_login(user)
    page = client.get("/watch/?year=2026")
    assert page.status_code == 200
    points = {point.pk for point, _late in page.context["point_rows"]}
    posts = {grade.position_id for grade, _late in page.context["post_rows"]}
    return page, points, posts


@pytest.fixture
def graded(world):
    """Bureau A: 审批岗's point 一级 (leadership supervises), 会计岗's 三级 (department head — of
    财务股, which has none); a chief's post with a 一级 point (A, supervised directly); bureau B's
    point 一级. Grades proposed for A and B; 复核岗's decided B (stationed)."""
    world.chief = position_create(department=world.dept, title="局长岗", kind=Position.Kind.PRINCIPAL)
    _level(world.submitted, "一级")
    _level(world.finance_point, "三级")
    _level(world.point_b, "一级")
    chief_point = RiskPoint.objects.get(pk=world.submitted.pk)
    chief_point.pk = None
    chief_point.position = world.chief
    chief_point.description = "局长岗风险"
    chief_point.save()
    world.chief_point = chief_point
    for institution in (world.a, world.b):
        post_grades_refresh(by=world.discipline, institution=institution, year=2026)
    grade = PostGrade.objects.get(position=world.position2, year=2026)
    post_grade_decide(by=world.discipline, grade=grade, decided="B", reason="负责大额复核")
    ControlRun.objects.create(
        control=Control.objects.filter(risk_point=world.submitted).first(),
        ran_on=datetime.date(2026, 3, 1),
        description="双人审核",
        recorded_by=world.holder,
    )
    return world


def test_leadership_watches_its_levels_in_its_institution(client, graded):
    w = graded
    control = Control.objects.create(risk_point=w.finance_point, line="prevention", measure="账务双人复核")
    for ran_on in (datetime.date(2026, 4, 1), datetime.date(2026, 5, 1), datetime.date(2025, 12, 1)):
        ControlRun.objects.create(control=control, ran_on=ran_on, description="复核", recorded_by=w.holder3)
    page, points, posts = _page(client, w.leader)
    # 一级/二级 are supervised by the leadership: A's 一级 points, never bureau B's, never drafts
    assert points == {w.submitted.pk, w.chief_point.pk}
    runs = {point.pk: point.control_runs for point, _late in page.context["point_rows"]}
    assert runs[w.submitted.pk] == 1 and runs[w.chief_point.pk] == 0
    # C posts are supervised jointly by the leader in charge and the discipline office
    assert posts == {w.position3.pk}
    # a post's runs: its points' control runs of the year
    in_year = ControlRun.objects.filter(ran_on__year=2026, control__risk_point__year=2026)
    for grade, _late in page.context["post_rows"]:
        assert grade.runs == in_year.filter(control__risk_point__position=grade.position_id).count()
    assert grade.runs == 2  # 会计岗's point's two runs of 2026, not the one of 2025


def test_department_head_watches_its_department_only(client, graded):
    w = graded
    _level(w.submitted, "三级")  # now a 三级 point of 审批科: the department head supervises it
    _, points, posts = _page(client, w.head)
    assert points == {w.submitted.pk}  # not 会计岗's 三级 point: 财务股 is not the head's department
    assert posts == set()


def test_offices_watch_the_posts_of_their_grades(client, graded):
    w = graded
    # the discipline office: other A and B (stationed) and C (joint), in its subtree; no level names it
    _, points, posts = _page(client, w.discipline)
    assert points == set()
    assert posts == {w.position.pk, w.position2.pk, w.position3.pk}
    # the superior office: A leadership posts directly, across its subtree
    _, points, posts = _page(client, w.superior)
    assert posts == {w.chief.pk}
    # the principal leader: the stationed posts, with the discipline office, of its own institution
    _, points, posts = _page(client, w.principal)
    assert posts == {w.position.pk, w.position2.pk}
    assert points == set()


def test_outside_scope_sees_nothing_of_bureau_a(client, graded):
    w = graded
    _, points, posts = _page(client, w.outsider)  # bureau B's discipline office
    assert not points & {w.submitted.pk, w.chief_point.pk, w.finance_point.pk}
    assert posts == {w.position_b.pk}  # its own institution's post (C, joint)
    for persona in (w.holder, w.nobody):
        _, points, posts = _page(client, persona)
        assert points == set() and posts == set()


def _queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/watch/?year=2026").status_code == 200
    return len(captured)


@pytest.mark.parametrize("persona", ["leader", "discipline", "superior"])
def test_watch_and_post_grades_pages_have_flat_query_counts(client, graded, persona):
    w = graded
    user = getattr(w, persona)
    small = _queries(client, user)
    client.force_login(w.discipline)
    with CaptureQueriesContext(connection) as captured:
        client.get("/org/bureau-a/post-grades/2026/")
    grades_small = len(captured)
    template = RiskPoint.objects.get(pk=w.submitted.pk)
    for i in range(15):
        position = position_create(department=w.dept, title=f"新增岗位{i}", kind=Position.Kind.DEPUTY)
        template.pk, template.position, template.description = None, position, f"批量{i}"
        template.save()
        Control.objects.create(risk_point=template, line="prevention", measure="措施")
    post_grades_refresh(by=w.discipline, institution=w.a, year=2026)
    large = _queries(client, user)
    assert large <= small, (small, large)
    client.force_login(w.discipline)
    with CaptureQueriesContext(connection) as captured:
        client.get("/org/bureau-a/post-grades/2026/")
    assert len(captured) <= grades_small, (grades_small, len(captured))


def test_overdue_tasks_of_watched_points_and_posts(client, graded):
    w = graded
    RiskPoint.objects.filter(pk__in=[w.submitted.pk, w.chief_point.pk]).update(state=RiskPointState.APPROVED)
    cycle = cycle_launch(by=w.discipline, institution=w.a, year=2026, today=datetime.date(2026, 1, 15))
    cycle_generate_tasks(cycle_id=cycle.pk)
    today = timezone.localdate()
    late = with_done(Task.objects.filter(cycle=cycle, due_on__lt=today)).filter(is_done=False)
    page, _, _ = _page(client, w.leader)
    by_point = dict(page.context["point_rows"])
    expected = {
        point: late.filter(control__risk_point=point).count()
        for point in RiskPoint.objects.filter(pk__in=[w.submitted.pk, w.chief_point.pk])
    }
    assert {point.pk: n for point, n in by_point.items()} == {point.pk: n for point, n in expected.items()}
    assert any(expected.values()), "the cycle left no control run overdue: the test shows nothing"
    by_post = {grade.position_id: n for grade, n in page.context["post_rows"]}
    assert by_post == {w.position3.pk: late.filter(position=w.position3).count()}
    watched = Q(control__risk_point__in=list(expected)) | Q(position=w.position3)
    assert page.context["overdue"] == late.filter(watched).count()  # each task once


@pytest.fixture
def watched_by_superior(graded):
    """The county's superior office watches the 一级 and 二级 points of bureaus A and B (their
    schemes' levels name it), so that its page lists points of several institutions, bands and
    ranks: A's three 一级 points (one of 财务股 made 一级 here), B's 一级, and a 二级 point in each."""
    w = graded
    GradeLevel.objects.filter(scheme__institution__in=[w.a, w.b], name__in=["一级", "二级"]).update(
        supervisor_role=Role.SUPERIOR
    )
    _level(w.finance_point, "一级")
    for point, description in ((w.submitted, "二级甲"), (w.point_b, "二级乙")):
        second = RiskPoint.objects.get(pk=point.pk)
        # a copy without controls: none of the source's runs (the stored count is the triggers')
        second.pk, second.description, second.control_runs = None, description, 0
        second.save()
        _level(second, "二级")
    return w


def _expected_rows(user) -> list[int]:
    """The watched points as the page's docstring says, worked out here in Python: every submitted
    point of the year in the reader's sight whose level names the reader's role, most serious
    first (band, then the level's rank), then by the institution's place in the tree, then by id."""
    points = access.risk_points_visible_to(user).filter(year=2026, level__supervisor_role=Role.SUPERIOR)
    points = points.exclude(state=RiskPointState.DRAFT).select_related("level", "institution")
    return [p.pk for p in sorted(points, key=lambda p: (p.level.sort_key, p.institution.path, p.pk))]


def test_points_listed_most_serious_first_with_their_runs(client, watched_by_superior):
    w = watched_by_superior
    expected = _expected_rows(w.superior)
    assert len(expected) == 6 and {w.point_b.pk, w.finance_point.pk} <= set(expected)
    page, _, _ = _page(client, w.superior)
    rows = [point for point, _late in page.context["point_rows"]]
    assert [point.pk for point in rows] == expected  # same points, same order
    runs = ControlRun.objects.filter(ran_on__year=2026)
    assert [point.control_runs for point in rows] == [runs.filter(control__risk_point=p).count() for p in rows]
    assert rows[0].control_runs == 1  # 审批岗's point, the run the fixture recorded
    assert page.context["point_total"] == 6 and not page.context["points_capped"]
    assert not page.context["points_more"]


def test_a_long_watch_list_shows_its_most_serious_rows_and_a_capped_count(
    client, watched_by_superior, settings, monkeypatch
):
    """Past the shown rows the page points to the risk list; past the count's limit it says "more
    than" the limit (as every list does) instead of counting every point."""
    w = watched_by_superior
    expected = _expected_rows(w.superior)
    monkeypatch.setattr(selectors, "WATCH_ROWS", 4)
    page, _, _ = _page(client, w.superior)
    assert [point.pk for point, _late in page.context["point_rows"]] == expected[:4]
    assert page.context["point_total"] == 6 and page.context["points_more"]
    settings.RISK_REGISTRY_COUNT_LIMIT = 5
    page, _, _ = _page(client, w.superior)
    assert [point.pk for point, _late in page.context["point_rows"]] == expected[:4]
    assert page.context["point_total"] == 5 and page.context["points_capped"]
    with translation.override("zh-hans"):
        assert gettext("More than %(n)s risk points") % {"n": 5} in page.content.decode()


def test_watch_page_query_count_does_not_grow_with_levels_or_rows(client, watched_by_superior):
    """The superior office's page reads two bands' ranks (one query for the points' ids whatever
    their number); more points of every watched level add no query."""
    w = watched_by_superior
    small = _queries(client, w.superior)
    template = RiskPoint.objects.get(pk=w.point_b.pk)
    for i in range(12):
        template.pk, template.description = None, f"批量{i}"
        template.save()
    _level(template, "二级")
    assert len(_expected_rows(w.superior)) == 18
    assert _queries(client, w.superior) == small
