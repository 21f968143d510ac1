"""A post's control risk (derived from its verified points), the profile combining the three
measures, and its page: a suggestion that writes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments import post_risk, rating, surveys
from assessments.survey_models import PostGroup, Questionnaire, Rating
from positions.models import PowerItem
from positions.services import position_create
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel

S = RiskPointState


def levels_of(world) -> list[GradeLevel]:
    return list(GradeLevel.objects.filter(scheme_id=world.a.grading_scheme_id).order_by("rank"))


def test_control_risk_is_the_most_serious_verified_level(world):
    levels = levels_of(world)
    # 审批岗: 吃拿卡要 (3, 3) and 违规简化审批程序 (2, 2); a draft or a submitted point is not verified.
    assert post_risk.control_risks(world.a, 2026) == {}
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.DEFINED)
    risk = post_risk.control_risks(world.a, 2026)[world.position.pk]
    assert risk.level == world.submitted.level
    assert risk.counts == [(world.submitted.level, 1)]
    RiskPoint.objects.filter(pk=world.draft.pk).update(state=S.ISSUED)
    risk = post_risk.control_risks(world.a, 2026)[world.position.pk]
    serious = min((world.draft.level, world.submitted.level), key=lambda level: level.rank)
    assert risk.level == serious
    assert risk.score == pytest.approx(100 * (len(levels) - serious.rank + 1) / len(levels))
    assert world.position2.pk not in post_risk.control_risks(world.a, 2026)  # its only point is a draft
    assert post_risk.control_risks(world.a, 2025) == {}


def test_level_scores_of_the_study_s_four_levels():
    levels = [GradeLevel(rank=rank, name=name) for rank, name in enumerate(["高危", "严重", "中等", "低危"], start=1)]
    assert [post_risk.level_score(level, levels) for level in levels] == [100, 75, 50, 25]
    assert [post_risk.suggested_level(score, levels).name for score in (0, 24.9, 25, 60, 75, 100)] == [
        "低危", "低危", "中等", "严重", "高危", "高危",
    ]  # fmt: skip


def test_combine_weights_only_the_measures_present():
    weights = {"moral": 2, "control": 1, "environment": 1}
    assert post_risk.combine({"moral": 20, "control": 75, "environment": 40}, weights) == pytest.approx(
        (2 * 20 + 75 + 40) / 4
    )
    assert post_risk.combine({"moral": None, "control": 75, "environment": 40}, weights) == pytest.approx(57.5)
    assert post_risk.combine({"moral": None, "control": None, "environment": None}, weights) is None
    assert post_risk.moral_risk(82.6667, rating.DEFAULT_GRADE_POINTS) == pytest.approx(28.8889, abs=1e-4)


def test_profiles_bring_the_three_measures_together(world):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.ISSUED)
    rating_round = rating.rating_round_open(
        by=world.discipline, institution=world.a, year=2026, name="测评", positions=[world.position]
    )
    rater = get_user_model().objects.create_user("rater", password="x")
    invitation = rating.rating_invite(
        by=world.discipline, rating_round=rating_round, position=world.position, rater=rater, tier=1
    )
    all_good = {factor: dict.fromkeys(subs, "good") for factor, subs in rating.DEFAULT_INDICATORS.items()}
    rating.rating_submit(rater=rater, invitation_id=invitation.pk, grades=all_good)  # 80: moral risk 33.3
    survey_round = surveys.survey_round_open(by=world.discipline, institution=world.a, year=2026, name="调查")
    codes = surveys.survey_codes_issue(
        by=world.discipline,
        survey_round=survey_round,
        questionnaire=Questionnaire.EXTERNAL,
        group=PostGroup.BUSINESS,
        count=5,
    )
    labels = surveys.DEFAULT_BEHAVIOURS[Questionnaire.EXTERNAL]
    for index, code in enumerate(codes):  # 1 of 5 met a behaviour: 20 %
        answers = {label: "yes" if index == 0 and n == 0 else "no" for n, label in enumerate(labels)}
        surveys.survey_answer_submit(code=code, answers=answers, overall=index == 0)

    weights = post_risk.profile_weights()
    profiles = {p.position.pk: p for p in post_risk.post_profiles(world.a, 2026, weights)}
    post = profiles[world.position.pk]
    assert post.group == PostGroup.BUSINESS  # 审批岗 exercises a power of the inventory
    assert PowerItem.objects.filter(positions=world.position).exists()
    assert post.moral_score == pytest.approx(80)
    assert post.risks["moral"] == pytest.approx(100 / 3)
    assert post.risks["environment"] == pytest.approx(20)
    assert post.risks["control"] == post.control.score
    assert post.combined == pytest.approx((100 / 3 + 20 + post.control.score) / 3)
    assert post.suggested is not None
    other = profiles[world.position2.pk]
    assert (other.moral_score, other.control.level) == (None, None)


def test_the_profile_page_is_for_the_offices_and_writes_nothing(world, client, django_assert_max_num_queries):
    for persona, status in (("discipline", 200), ("superior", 200), ("leader", 404), ("holder", 404),
                            ("outsider", 404)):  # fmt: skip
        client.force_login(getattr(world, persona))
        assert client.get("/measures/bureau-a/?year=2026").status_code == status, persona
    client.force_login(world.discipline)
    assert client.get("/measures/bureau-a/?w_moral=11").status_code == 400
    assert client.get("/measures/bureau-a/?year=abc").status_code == 400
    page = client.get("/measures/bureau-a/?year=2026&w_control=3").content.decode()
    assert "审批岗" in page


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200, url
    return len(captured)


def _grow(world, survey_round, rating_round, n: int) -> None:
    """n more posts, answers, ratings and verified points."""
    for i in range(n):
        position = position_create(department=world.dept, title=f"增岗{i}")
        rating_round.positions.add(position)
        Rating.objects.create(round=rating_round, position=position, tier=1 + i % 3, grades=ALL_GOOD)
    labels = surveys.DEFAULT_BEHAVIOURS[Questionnaire.EXTERNAL]
    for code in surveys.survey_codes_issue(
        by=world.discipline, survey_round=survey_round, questionnaire="external", group="business", count=n
    ):
        surveys.survey_answer_submit(code=code, answers=dict.fromkeys(labels, "no"), overall=False)
    RiskPoint.objects.filter(pk=world.submitted.pk).update(state=S.ISSUED)


ALL_GOOD = {factor: dict.fromkeys(subs, "good") for factor, subs in rating.DEFAULT_INDICATORS.items()}


def test_the_measures_pages_cost_a_fixed_number_of_queries(world, client):
    survey_round = surveys.survey_round_open(by=world.discipline, institution=world.a, year=2026, name="调查")
    rating_round = rating.rating_round_open(
        by=world.discipline, institution=world.a, year=2026, name="测评", positions=[world.position]
    )
    client.force_login(world.discipline)
    urls = [
        "/surveys/",
        f"/surveys/{survey_round.pk}/",
        f"/ratings/{rating_round.pk}/",
        "/measures/bureau-a/?year=2026",
    ]
    _grow(world, survey_round, rating_round, 2)
    before = [_queries(client, url) for url in urls]
    _grow(world, survey_round, rating_round, 12)
    assert [_queries(client, url) for url in urls] == before


def test_the_posts_are_drawn_a_page_at_a_time(world, client, monkeypatch):
    """Every post is measured, a page of them drawn; the pager keeps the year and the weights."""
    from assessments.web import rating_views

    monkeypatch.setattr(rating_views, "PROFILES_PAGE", 2)
    client.force_login(world.discipline)
    first = client.get("/measures/bureau-a/?year=2026&w_control=3").content.decode()
    second = client.get("/measures/bureau-a/?year=2026&w_control=3&page=2").content.decode()
    rows = [body.count('data-testid="profile-score"') for body in (first, second)]
    assert rows == [2, 1]  # 甲局's three posts
    assert "year=2026&amp;w_control=3&amp;page=2" in first
    assert all(title in first + second for title in ("审批岗", "复核岗", "会计岗"))
