"""The demo county's assessments and measures (called once by ``risk_registry.demo.build`` inside
its transaction, after the cycle), made through the same services the offices use:

- the unit assessment of the running cycle (docs/assessment.md): 市场监督管理局 has scored itself
  on the Jiuquan plan's six items and submitted; 生态环境局 scored itself on 篇5's nine items and the
  county office has assessed it item by item (total and grade);
- an anonymous 腐败接触率 survey of 市场监督管理局 (docs/surveys.md), closed: the external
  questionnaire's business-post group has enough valid answers to show its rate, the internal
  questionnaire's non-business group too few (suppressed), one answer is contradictory;
- a moral-risk rating of its two leadership posts, closed with its response count;
- post grades A/B/C (篇5) of every institution's posts, proposed by the product from the verified
  points and decided by the county office: the market bureau's confirmed, one changed with a reason.

Codes are random but burnt (answered) or deleted at the close, so nothing random remains but the
answers' keys.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from assessments import rating, surveys, unit
from assessments.models import Checklist, ChecklistItem, Cycle
from assessments.survey_models import PostGroup, Questionnaire, RatingRound, SurveyRound, TimeBucket
from assessments.unit_presets import install_checklist_presets
from positions.models import Holding
from risk_registry import services as risk_services
from risk_registry.demo.data import ROOT_CODE
from risk_registry.models import PostGrade
from risk_registry.organisation.models import Institution, Membership, Role

MARKET_CODE = "yunling-scjgj"
ECOLOGY_CODE = "yunling-sthjj"

# Self scores (market, Jiuquan six; ecology, 篇5 nine) and the county office's scores of ecology.
MARKET_SELF = ("95", "90", "85", "88", "80", "90")
ECOLOGY_SELF = ("95", "90", "85", "80", "75", "85", "90", "80", "85")
ECOLOGY_FINAL = ("90", "85", "70", "75", "60", "80", "85", "75", "70")
ECOLOGY_FINDINGS = {
    2: "风险查找以岗位为主，外部权力的流程环节查找不够深入。",
    4: "预警机制建立但信访件的预警提醒回复不及时。",
    8: "未见防控效果的量化对比。",
}

# Survey answers: (how many, behaviours met by index, closing answer). External / business posts:
# 9 answers, 2 exposed, 1 contradictory (says "no" after a 有) → 8 valid, rate 2/8. Internal /
# non-business posts: 3 answers, below the threshold of 5 → hidden.
EXTERNAL_BUSINESS = ((6, (), False), (1, (0,), True), (1, (1, 2), True), (1, (0,), False))
INTERNAL_NON_BUSINESS = ((3, (), False),)

# Ratings of each rated post in turn: (tier, grade of every sub-indicator), one per rater.
RATINGS = (
    ((1, "excellent"), (1, "good"), (2, "good"), (2, "fair"), (3, "excellent")),
    ((1, "good"), (1, "fair"), (2, "fair"), (2, "good"), (3, "poor")),
)


def _member(institution: Institution | None, role: str):
    membership = (
        Membership.objects.filter(institution=institution, role=role).select_related("user").order_by("id").first()
    )
    return membership.user if membership else None


def _unit_assessments(cycle: Cycle, today: datetime.date) -> None:
    county_office = _member(cycle.institution, Role.DISCIPLINE)
    install_checklist_presets(Checklist, ChecklistItem)  # a migration installs them; a flushed database lacks them
    checklists = {c.key: c for c in Checklist.objects.filter(institution=None, key__in=("pian5-nine", "jiuquan-six"))}
    if county_office is None or len(checklists) < 2:
        return
    for code, key, self_scores, final in (
        (MARKET_CODE, "jiuquan-six", MARKET_SELF, None),
        (ECOLOGY_CODE, "pian5-nine", ECOLOGY_SELF, ECOLOGY_FINAL),
    ):
        institution = Institution.objects.filter(code=code).first()
        principal = _member(institution, Role.PRINCIPAL)
        if institution is None or principal is None:
            continue
        assessment = unit.unit_open(by=principal, cycle=cycle, institution=institution, checklist=checklists[key])
        items = list(assessment.items.order_by("order"))
        scores = [
            unit.SelfScore(item.pk, Decimal(score), "按年度工作台账和登记表自评。", ("register",))
            for item, score in zip(items, self_scores, strict=True)
        ]
        assessment = unit.unit_self_score(by=principal, assessment=assessment, scores=scores, submit=True, today=today)
        if final is None:
            continue
        unit.unit_assess(
            by=county_office,
            assessment=assessment,
            scores=[
                unit.AssessedScore(item.pk, Decimal(score), ECOLOGY_FINDINGS.get(item.order, ""))
                for item, score in zip(items, final, strict=True)
            ],
            conclusion="防控机制基本健全，风险查找和预警回复需加强，限期整改。",
            finish=True,
        )


def _answers(labels: list[str], met: tuple[int, ...]) -> dict[str, str]:
    return {label: "yes" if index in met else "no" for index, label in enumerate(labels)}


def _survey(institution: Institution, office, year: int, today: datetime.date) -> SurveyRound:
    survey_round = surveys.survey_round_open(
        by=office,
        institution=institution,
        year=year,
        name=f"{year}年度腐败接触率问卷调查",
        time_bucket=TimeBucket.MONTH,
    )
    for questionnaire, group, plan in (
        (Questionnaire.EXTERNAL, PostGroup.BUSINESS, EXTERNAL_BUSINESS),
        (Questionnaire.INTERNAL, PostGroup.NON_BUSINESS, INTERNAL_NON_BUSINESS),
    ):
        count = sum(n for n, _met, _overall in plan)
        codes = surveys.survey_codes_issue(
            by=office, survey_round=survey_round, questionnaire=questionnaire, group=group, count=count + 1
        )  # one slip more than answered: the close deletes it
        surveys.survey_codes_print(by=office, survey_round=survey_round)
        labels = survey_round.behaviours[questionnaire]
        codes_left = iter(codes)
        for n, met, overall in plan:
            for _ in range(n):
                surveys.survey_answer_submit(
                    code=next(codes_left), answers=_answers(labels, met), overall=overall, today=today
                )
    return surveys.survey_round_close(by=office, survey_round=survey_round)


def _rating(institution: Institution, office, year: int) -> RatingRound | None:
    holdings = list(
        Holding.objects.filter(
            position__institution=institution, ended_on__isnull=True, user__memberships__institution=institution
        )
        .filter(user__memberships__role__in=(Role.PRINCIPAL, Role.LEADERSHIP))
        .select_related("position", "user")
        .order_by("position__title")
        .distinct()
    )
    if not holdings:
        return None
    rating_round = rating.rating_round_open(
        by=office,
        institution=institution,
        year=year,
        name=f"{year}年度班子成员岗位道德风险测评",
        positions=[h.position for h in holdings],
        indicators=rating.DEFAULT_INDICATORS,
        tier_weights=rating.DEFAULT_TIER_WEIGHTS,
    )
    raters = list(rating.possible_raters(institution))
    for holding, plan in zip(holdings, RATINGS, strict=False):
        others = [r for r in raters if r.pk != holding.user_id and r.pk != office.pk]
        for (tier, grade), rater in zip(plan, others, strict=False):
            invitation = rating.rating_invite(
                by=office, rating_round=rating_round, position=holding.position, rater=rater, tier=tier
            )
            rating.rating_submit(
                rater=rater,
                invitation_id=invitation.pk,
                grades={factor: dict.fromkeys(subs, grade) for factor, subs in rating_round.factors.items()},
            )
        if len(others) > len(plan):  # one invited rater who did not rate before the close
            rating.rating_invite(
                by=office, rating_round=rating_round, position=holding.position, rater=others[len(plan)], tier=3
            )
    return rating.rating_round_close(by=office, rating_round=rating_round)


def _post_grades(year: int) -> None:
    """Every post's grade proposed (one call per institution: a handful in the demo), the market
    bureau's decided: its proposals confirmed, and one general post raised to B with a reason."""
    root = Institution.objects.filter(code=ROOT_CODE).first()
    office = _member(root, Role.DISCIPLINE)
    if root is None or office is None:
        return
    for institution in Institution.objects.filter(path__startswith=root.path).order_by("path"):
        risk_services.post_grades_propose(by=office, institution=institution, year=year)
    market = list(
        PostGrade.objects.filter(institution__code=MARKET_CODE, year=year).select_related("institution", "position")
    )
    raised = next((grade for grade in market if grade.proposed == "C"), None)
    for grade in market:
        if grade is raised:
            risk_services.post_grade_decide(
                by=office, grade=grade, decided="B", reason="负责大额资金审核，接触管理服务对象频繁"
            )
        else:
            risk_services.post_grade_decide(by=office, grade=grade, decided=grade.proposed)


def demo_measures_seed(*, cycle: Cycle | None, year: int, today: datetime.date | None = None) -> None:
    today = today or timezone.localdate()
    if cycle is not None:
        _unit_assessments(cycle, today)
    _post_grades(year)
    institution = Institution.objects.filter(code=MARKET_CODE).first()
    office = _member(institution, Role.DISCIPLINE)
    if institution is None or office is None:
        return
    _survey(institution, office, year, today)
    _rating(institution, office, year)
