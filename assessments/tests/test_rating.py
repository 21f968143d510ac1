"""The moral-risk rating of leadership posts: the weighted score against a hand-worked table,
invitations, one rating per invitation, the close with its response count, and who reads it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from assessments import rating
from assessments.survey_models import Rating, RatingInvitation
from risk_registry.organisation.models import AuditEntry

ONE_EACH = {"政治素质": ["政治"], "道德素质": ["道德"], "法治素质": ["法治"]}
G = {"优": "excellent", "良": "good", "中": "fair", "差": "poor"}


def grades(politics: str, morals: str, law: str) -> dict:
    return {"政治素质": {"政治": G[politics]}, "道德素质": {"道德": G[morals]}, "法治素质": {"法治": G[law]}}


def raters(n: int) -> list:
    return [get_user_model().objects.create_user(f"rater{i}", password="x") for i in range(n)]


def open_round(world, **kwargs):
    kwargs.setdefault("indicators", ONE_EACH)
    return rating.rating_round_open(
        by=world.discipline, institution=world.a, year=2026, name="2026年班子成员思想道德测评",
        positions=[world.position], **kwargs,
    )  # fmt: skip


def rate(world, rating_round, rater, tier, politics, morals, law):
    invitation = rating.rating_invite(
        by=world.discipline, rating_round=rating_round, position=world.position, rater=rater, tier=tier
    )
    return rating.rating_submit(rater=rater, invitation_id=invitation.pk, grades=grades(politics, morals, law))


# The hand-worked table (优 100, 良 80, 中 60, 差 40; tier weights 0.5 / 0.3 / 0.2):
#
#   rater  tier  政治 道德 法治   value                tier mean
#   A      1     优   优   良     (100+100+80)/3 = 93.333
#   B      1     良   良   良     80                    86.667
#   C      2     中   良   优     80                    80
#   D      3     差   中   中     (40+60+60)/3 = 53.333
#   E      3     优   优   优     100                   76.667
#
#   score = 0.5 × 86.667 + 0.3 × 80 + 0.2 × 76.667 = 43.333 + 24 + 15.333 = 82.667
#   政治素质 = 0.5 × 90 + 0.3 × 60 + 0.2 × 70 = 45 + 18 + 14 = 77
TABLE = [
    (1, "优", "优", "良"),
    (1, "良", "良", "良"),
    (2, "中", "良", "优"),
    (3, "差", "中", "中"),
    (3, "优", "优", "优"),
]


def test_weighted_score_against_the_hand_worked_table(world):
    rating_round = open_round(world)
    for rater, row in zip(raters(5), TABLE, strict=True):
        rate(world, rating_round, rater, *row)
    [post] = rating.post_scores(rating_round)
    assert post.ratings == 5
    assert post.tiers[1] == (2, pytest.approx(86.6667, abs=1e-4))
    assert post.tiers[2] == (1, pytest.approx(80))
    assert post.tiers[3] == (2, pytest.approx(76.6667, abs=1e-4))
    assert post.score == pytest.approx(82.6667, abs=1e-4)
    assert post.factors["政治素质"] == pytest.approx(77)


def test_a_tier_without_ratings_gives_its_weight_to_the_others(world):
    rating_round = open_round(world)
    for rater, row in zip(raters(4), [TABLE[0], TABLE[1], TABLE[3], TABLE[4]], strict=True):
        rate(world, rating_round, rater, *row)
    [post] = rating.post_scores(rating_round)
    # (0.5 × 86.667 + 0.2 × 76.667) / 0.7 = 58.667 / 0.7 = 83.810
    assert post.score == pytest.approx(83.8095, abs=1e-4)


def test_configured_weights_and_sub_indicators(world):
    rating_round = open_round(
        world, indicators={"政治素质": ["a", "b"], "道德素质": ["c"], "法治素质": ["d"]},
        tier_weights={"1": 1, "2": 0, "3": 0},
    )  # fmt: skip
    [one, two] = raters(2)
    invitation = rating.rating_invite(
        by=world.discipline, rating_round=rating_round, position=world.position, rater=one, tier=1
    )
    full = {"政治素质": {"a": "excellent", "b": "poor"}, "道德素质": {"c": "good"}, "法治素质": {"d": "fair"}}
    with pytest.raises(ValidationError):
        rating.rating_submit(rater=one, invitation_id=invitation.pk, grades={"政治素质": {"a": "excellent"}})
    rating.rating_submit(rater=one, invitation_id=invitation.pk, grades=full)
    rate_two = rating.rating_invite(
        by=world.discipline, rating_round=rating_round, position=world.position, rater=two, tier=3
    )
    rating.rating_submit(rater=two, invitation_id=rate_two.pk, grades=full | {"法治素质": {"d": "poor"}})
    [post] = rating.post_scores(rating_round)
    assert post.score == pytest.approx((100 + 40 + 80 + 60) / 4)  # tier 3 weighs nothing


def test_one_rating_per_invitation_and_none_of_one_s_own_post(world):
    rating_round = open_round(world)
    [rater] = raters(1)
    invitation = rating.rating_invite(
        by=world.discipline, rating_round=rating_round, position=world.position, rater=rater, tier=2
    )
    rating.rating_submit(rater=rater, invitation_id=invitation.pk, grades=grades("优", "优", "优"))
    with pytest.raises(ValidationError):
        rating.rating_submit(rater=rater, invitation_id=invitation.pk, grades=grades("差", "差", "差"))
    assert Rating.objects.filter(round=rating_round).count() == 1
    with pytest.raises(ValidationError):
        rating.rating_invite(
            by=world.discipline, rating_round=rating_round, position=world.position, rater=world.holder, tier=1
        )
    other = world.holder2
    with pytest.raises(ValidationError):  # someone else's invitation
        rating.rating_submit(rater=other, invitation_id=invitation.pk, grades=grades("优", "优", "优"))


def test_a_rating_keeps_no_rater(world):
    relations = {f.name for f in Rating._meta.get_fields() if f.is_relation}
    assert relations == {"round", "position"}
    assert not any(f.get_internal_type() == "DateTimeField" for f in Rating._meta.concrete_fields)


def test_closing_records_the_response_count(world):
    rating_round = open_round(world)
    first, second = raters(2)
    rate(world, rating_round, first, *TABLE[0])
    rating.rating_invite(by=world.discipline, rating_round=rating_round, position=world.position, rater=second, tier=3)
    closed = rating.rating_round_close(by=world.discipline, rating_round=rating_round)
    assert (closed.state, closed.response_count) == ("closed", 1)
    assert AuditEntry.objects.get(action="rating_round.close").changes == {"responses": 1, "invited": 2}
    with pytest.raises(ValidationError):
        rating.rating_submit(
            rater=second, invitation_id=RatingInvitation.objects.get(rater=second).pk, grades=grades("优", "优", "优")
        )


def test_scores_are_read_by_the_offices_never_by_the_rated_or_the_raters(world, client):
    rating_round = open_round(world)
    [rater] = raters(1)
    rate(world, rating_round, rater, *TABLE[0])
    for persona, status in (("discipline", 200), ("superior", 200), ("leader", 404), ("principal", 404),
                            ("holder", 404), ("outsider", 404)):  # fmt: skip
        client.force_login(getattr(world, persona))
        assert client.get(f"/ratings/{rating_round.pk}/").status_code == status, persona
    client.force_login(rater)
    assert client.get(f"/ratings/{rating_round.pk}/").status_code == 404
