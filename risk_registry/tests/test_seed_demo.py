"""seed_demo: the demo county is complete, graded, idempotent, atomic, and usable by every persona."""

from __future__ import annotations

import datetime
import io
from collections import Counter

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from assessments import access as access_cycle
from assessments import rating, surveys
from assessments.completion import done_expression
from assessments.models import Notification, Task, UnitAssessment
from assessments.survey_models import RatingRound, RoundState, SurveyRound
from conftest import SESSION_WORLD
from controls.models import Control, Rule
from integrity_warnings.deadlines import NAME
from integrity_warnings.ladder import DispositionState
from integrity_warnings.models import Disposition, WarningItem, WarningStatus
from positions.models import Holding, Position, PowerCategory, PowerItem
from risk_registry import access
from risk_registry.demo import build, data
from risk_registry.demo.table import display_width, format_accounts
from risk_registry.management.commands import seed_demo as seed_demo_command
from risk_registry.models import Decision, FoundBy, PostGrade, RegisterVersion, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Institution, Membership, Role
from risk_registry.workflow import registers

YEAR = 2026
ECOLOGY_CODE = "yunling-sthjj"
MARKET_CODE = "yunling-scjgj"
TOWNSHIP_CODE = "yunling-qsz"

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def output(django_db_setup, django_db_blocker):
    """One build shared by the read-only tests of a class, rolled back when the class is done.

    Each test still runs in its own savepoint inside this transaction (pytest-django's ``db``), so a
    test cannot leak changes into the next, and nothing outlives the class.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        SESSION_WORLD.hide()  # the demo is built on the database as the migrations leave it
        yield seed("--year", str(YEAR))
        transaction.set_rollback(True)


def user(username: str):
    """A fresh user object, so that no scope cached by the build leaks into the assertion."""
    return get_user_model().objects.get(username=username)


def snapshot() -> dict:
    """Row counts of every model the seed may touch, plus the newest audit id and the points' states."""
    models = [
        *(
            model
            for label in (
                "organisation",
                "risk_registry",
                "positions",
                "controls",
                "assessments",
                "integrity_warnings",
                "guardian",
            )
            for model in apps.get_app_config(label).get_models()
        ),
        get_user_model(),
    ]
    counts = {model._meta.label: model.objects.count() for model in models}
    counts["last audit id"] = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    counts["points"] = sorted(RiskPoint.objects.values_list("id", "state", "level_id", "updated_at"))
    counts["passwords"] = sorted(get_user_model().objects.values_list("username", "password"))
    return counts


class TestTheDemoCounty:
    """Read-only checks of one build (the ``output`` fixture is shared by the class)."""

    # --- what it builds ----------------------------------------------------------------------------

    def test_seed_demo_keeps_a_warning_ledger_on_every_rung(self, output):
        items = WarningItem.objects.filter(institution__code=MARKET_CODE)
        assert items.count() == 6
        assert len(set(items.values_list("channel__code", flat=True))) == 6
        assert items.filter(confidential=True, channel__code="petition").count() == 1
        assert items.filter(status=WarningStatus.CLOSED).count() == 1
        assert items.filter(status=WarningStatus.REFERRED).count() == 1
        assert Disposition.objects.filter(item__in=items, state=DispositionState.FAILED, measure="warning_reminder")
        assert Disposition.objects.filter(item__in=items, measure="admonition", state=DispositionState.ISSUED)
        assert len({d.number for d in Disposition.objects.filter(item__in=items)}) == 10
        accepted = Disposition.objects.get(item__in=items, state=DispositionState.ACCEPTED)
        assert accepted.attachments.get().kind == "pdf"  # the answered one carries its report file
        overdue = Disposition.objects.get(
            item__in=items, state=DispositionState.ISSUED, measure="warning_reminder", item__channel__code="big_data"
        )
        stages = set(Notification.objects.filter(source=NAME, object_id=overdue.pk).values_list("stage", flat=True))
        assert {"notice", "supervise", "report"} <= stages  # escalated by the demo's deadline scan
        office = user("scj.discipline")
        assert office.has_perm("integrity_warnings.handle_warningitem", items.get(confidential=True))

    def test_seed_demo_assesses_units_and_measures_the_market_bureau(self, output):
        market = UnitAssessment.objects.get(institution__code=MARKET_CODE)
        assert market.state == UnitAssessment.State.SUBMITTED and market.self_total is not None
        assert market.checklist_name == "酒泉市工商局专项检查六项内容" and market.final_total is None
        ecology = UnitAssessment.objects.get(institution__code=ECOLOGY_CODE)
        assert ecology.state == UnitAssessment.State.ASSESSED and ecology.grade
        assert not ecology.items.filter(final_score__isnull=True).exists()

        survey_round = SurveyRound.objects.get(institution__code=MARKET_CODE)
        assert survey_round.state == RoundState.CLOSED and survey_round.answer_count == 12
        assert not survey_round.codes.exists()  # answered codes burnt, the spare ones deleted at the close
        shown, hidden = surveys.survey_results(survey_round)
        assert (shown.shown, shown.valid, shown.rate.successes, shown.invalid) == (True, 8, 2, {"contradictory": 1})
        assert not hidden.shown  # three answers: under the threshold of five
        rating_round = RatingRound.objects.get(institution__code=MARKET_CODE)
        assert rating_round.state == RoundState.CLOSED and rating_round.response_count == 10
        assert [score.ratings for score in rating.post_scores(rating_round)] == [5, 5]
        office = user("scj.discipline")
        assert access_cycle.survey_rounds_visible_to(office).filter(pk=survey_round.pk).exists()
        assert not access_cycle.rating_rounds_visible_to(user("scj.principal")).exists()  # the rated

    def test_seed_demo_grades_posts_through_the_services(self, output):
        root = Institution.objects.get(code=data.ROOT_CODE)
        positions = Position.objects.filter(institution__path__startswith=root.path)
        grades = PostGrade.objects.filter(year=YEAR, institution__path__startswith=root.path)
        assert grades.count() == positions.count()  # every post proposed
        market = grades.filter(institution__code=MARKET_CODE)
        assert market.exists() and not market.filter(grade="").exists()  # all decided there
        assert market.exclude(decided_by=None).count() == market.count()
        raised = market.exclude(grade=F("proposed"))
        assert raised.count() <= 1 and all(grade.reason for grade in raised)
        assert AuditEntry.objects.filter(action="post_grade.decide", institution__code=MARKET_CODE).count() == (
            market.count()
        )

    def test_seed_demo_leaves_the_stored_figures_true(self, output):
        """Built through the services, the demo stores what its rows say: every task's completion
        equals ``done_expression()`` and every point's control quality its controls (nothing for
        ``reconcile_stored`` to repair)."""
        stale_tasks = Task.objects.annotate(derived=done_expression()).exclude(done=F("derived"))
        assert list(stale_tasks.values_list("kind", "key")) == []
        assert Task.objects.filter(done=True).exists() and Task.objects.filter(done=False).exists()
        out = io.StringIO()
        call_command("reconcile_stored", stdout=out)
        assert out.getvalue().strip() == (
            "task records whose task was gone: 0; notifications whose recipient was gone: 0; "
            "scan records whose scan was gone: 0\n"
            "tasks whose completion was stale: 0; task tallies: 0; risk point tallies: 0; "
            "risk point spreads: 0; "
            "risk points whose control quality was: 0; "
            "whose carried-from rank was: 0; whose control runs were: 0; whose post's kind was: 0; "
            "whose level's figures were: 0"
        )

    def test_seed_demo_builds_the_county_tree(self, output):
        root = Institution.objects.get(code=data.ROOT_CODE)
        assert root.kind == Institution.Kind.DISCIPLINE_COMMITTEE
        assert root.parent is None and root.depth == 0
        tree = Institution.objects.filter(path__startswith=root.path)
        assert Counter(tree.values_list("kind", flat=True)) == {
            "discipline_committee": 1,
            "bureau": 2,
            "township": 1,
            "village": 2,
        }
        township = Institution.objects.get(code=TOWNSHIP_CODE)
        assert township.parent == root
        assert {village.parent for village in tree.filter(kind="village")} == {township}
        assert all(village.is_within(root) for village in tree.filter(kind="village"))

        schemes = {inst.code: inst.grading_scheme for inst in tree.select_related("grading_scheme")}
        assert all(scheme is not None and scheme.institution_id is not None for scheme in schemes.values())
        assert schemes[MARKET_CODE].code == "level-3-highest"  # seed 002, Jiuquan
        assert schemes[ECOLOGY_CODE].code == "level-1-highest"  # seed 003/004
        assert schemes[TOWNSHIP_CODE].code == "abc"
        assert {scheme.code for scheme in schemes.values()} == {
            "level-1-highest",
            "level-3-highest",
            "abc",
            "four-levels",
        }

    def test_seed_demo_gives_every_role_in_every_institution(self, output):
        tree = Institution.objects.filter(path__startswith=Institution.objects.get(code=data.ROOT_CODE).path)
        for institution in tree.exclude(kind="village"):
            roles = set(Membership.objects.filter(institution=institution).values_list("role", flat=True))
            expected = {Role.DISCIPLINE, Role.LEADERSHIP, Role.PRINCIPAL, Role.DEPT_HEAD}
            if institution.code == data.ROOT_CODE:
                expected.add(Role.SUPERIOR)
            assert roles == expected, institution
        superiors = Membership.objects.filter(role=Role.SUPERIOR)
        assert [m.institution.code for m in superiors] == [data.ROOT_CODE]

        # every department with points has a head, and heads lead one department of their institution
        departments_with_points = {point.department for point in RiskPoint.objects.select_related("department")}
        headed = set(Membership.objects.filter(role=Role.DEPT_HEAD).values_list("department_id", flat=True))
        assert {department.pk for department in departments_with_points} <= headed
        for head in Membership.objects.filter(role=Role.DEPT_HEAD).select_related("department"):
            assert head.department.institution_id == head.institution_id

    def test_seed_demo_builds_positions_holders_and_rotation(self, output):
        assert set(Position.objects.values_list("kind", flat=True)) == set(Position.Kind.values)
        assert Position.objects.filter(is_key_post=True).exists()
        assert Position.objects.filter(is_key_post=False).exists()
        assert not Position.objects.filter(duties="").exists()
        # every position has exactly one current holder
        open_holdings = Holding.objects.filter(ended_on__isnull=True)
        assert Counter(open_holdings.values_list("position_id", flat=True)) == Counter(
            Position.objects.values_list("id", flat=True)
        )
        # a rotation (轮岗): an ended holding whose holder now holds another position
        ended = list(Holding.objects.filter(ended_on__isnull=False).select_related("user", "position"))
        assert ended
        for holding in ended:
            assert holding.ended_on >= holding.started_on
            current = open_holdings.get(user=holding.user)
            assert current.position != holding.position
            assert current.started_on == holding.ended_on
            held = access.scope_of(user(holding.user.username)).held_position_ids
            assert holding.position_id not in held and current.position_id in held
            # the position the holder left has a new current holder
            assert open_holdings.filter(position=holding.position).exclude(user=holding.user).exists()

    def test_seed_demo_builds_the_power_inventory(self, output):
        items = PowerItem.objects.prefetch_related("steps", "positions").select_related("category", "institution")
        assert items.count() >= 20
        for item in items:
            orders = [step.order for step in item.steps.all()]
            assert 3 <= len(orders) <= 6, item
            assert orders == list(range(1, len(orders) + 1)), item
            assert item.positions.exists(), item
            assert all(position.institution_id == item.institution_id for position in item.positions.all())
            assert item.legal_basis and item.responsible_subject and item.commitment, item

        ecology = Institution.objects.get(code=ECOLOGY_CODE)
        own = PowerCategory.objects.filter(institution=ecology)
        assert dict(own.values_list("code", "name")) == {
            "external": "外部权力",
            "internal": "内部权力",
            "public": "公共类",
        }
        ecology_items = items.filter(institution=ecology)
        assert ecology_items.exists()
        assert all(item.category.institution_id == ecology.pk for item in ecology_items)
        # the other institutions use the default categories from seed 002
        others = items.exclude(institution=ecology)
        assert all(item.category.institution_id is None for item in others)
        assert {item.category.code for item in others} == {"approval", "enforcement", "personnel", "finance", "other"}

    def test_seed_demo_builds_graded_risk_points(self, output):
        points = RiskPoint.objects.filter(year=YEAR).select_related(
            "institution__grading_scheme", "level__scheme", "position", "power_item", "process_step", "created_by"
        )
        assert points.count() >= 60
        assert set(RiskPoint.objects.values_list("year", flat=True)) == {YEAR - 1, YEAR}
        for institution in Institution.objects.all():
            assert points.filter(institution=institution).count() >= 3, institution
        for point in points:
            scheme = point.institution.grading_scheme
            assert point.level.scheme == scheme
            assert point.level.code == scheme.level_code_for(point.likelihood, point.severity)
            if point.process_step is not None:
                assert point.process_step.power_item == point.power_item
        # the four-level scheme is used with its fourth likelihood/severity
        assert points.filter(level__scheme__code="four-levels", severity=4).exists()
        # spread over types, ways of finding, and the levels of each non-village scheme
        assert {point.risk_type.code for point in points} == {
            "moral",
            "institutional",
            "duty",
            "process",
            "external",
            "efficiency",
        }
        # every way of finding a point; "not recorded" is for imported registers that do not say
        assert set(points.values_list("found_by", flat=True)) == set(FoundBy.values) - {FoundBy.UNRECORDED}
        for institution in Institution.objects.exclude(kind="village"):
            levels = set(points.filter(institution=institution).values_list("level__rank", flat=True))
            assert levels == {1, 2, 3}, institution
        assert points.filter(power_item__isnull=False, process_step__isnull=False).count() >= 30

    def test_seed_demo_points_are_drafted_by_their_holders_and_heads(self, output):
        # carried over from last year by the office that closed its cycle (cycle_close's author)
        carried = RiskPoint.objects.filter(carried_from__isnull=False)
        assert {p.created_by_id for p in carried} == set(
            AuditEntry.objects.filter(action="register.carry_over").values_list("actor_id", flat=True)
        )
        points = RiskPoint.objects.select_related("department", "position").filter(carried_from__isnull=True)
        department_level = points.filter(position__isnull=True)
        assert department_level.count() >= 3
        for point in department_level:
            assert Membership.objects.filter(
                user=point.created_by, role=Role.DEPT_HEAD, department=point.department
            ).exists()
        for point in points.filter(position__isnull=False):
            assert Holding.objects.filter(
                user=point.created_by, position=point.position, ended_on__isnull=True
            ).exists()

    def test_seed_demo_states_leave_holders_something_to_edit(self, output):
        states = Counter(RiskPoint.objects.values_list("state", flat=True))
        non_draft = {state for state in states if state != RiskPointState.DRAFT}
        assert non_draft >= {"submitted", "reviewed", "defined", "approved", "issued"}
        assert states[RiskPointState.DRAFT] >= 20
        assert sum(states.values()) - states[RiskPointState.DRAFT] >= 30
        # most positions with points keep a draft their holder can still edit
        with_points = Position.objects.filter(risk_points__isnull=False).distinct()
        with_draft = with_points.filter(risk_points__state=RiskPointState.DRAFT).distinct()
        assert with_draft.count() * 2 > with_points.count()
        for position in with_draft:
            holder = user(Holding.objects.get(position=position, ended_on__isnull=True).user.username)
            draft = position.risk_points.filter(state=RiskPointState.DRAFT).first()
            assert access.can_edit_risk_point(holder, draft)

    def test_seed_demo_controls_cover_every_point_with_some_vague_ones(self, output):
        points = RiskPoint.objects.all()
        per_point = Counter(Control.objects.values_list("risk_point_id", flat=True))
        assert set(per_point) == set(points.values_list("id", flat=True))
        assert all(1 <= n <= 3 for n in per_point.values())
        assert set(Control.objects.values_list("line", flat=True)) == set(Control.Line.values)
        vague = Control.objects.filter(owner="", frequency="", evidence="", rule__isnull=True)
        assert vague.count() >= 5
        assert vague.filter(measure=data.VAGUE).count() >= 3
        specific = Control.objects.exclude(owner="").exclude(frequency="").exclude(evidence="")
        assert specific.filter(rule__isnull=False).count() >= 100
        for control in specific.filter(rule__isnull=False).select_related("rule", "risk_point"):
            assert control.rule.institution_id == control.risk_point.institution_id
        # every institution has rules (制度)
        assert set(Rule.objects.values_list("institution_id", flat=True)) == set(
            Institution.objects.values_list("id", flat=True)
        )

    def test_seed_demo_township_grades_by_rank_as_seed_000_criticises(self, output):
        """Deliberate: 青石镇 grades by rank (班子 A, 中层 B, 一般 C), the pattern a later issue makes visible."""
        township = RiskPoint.objects.filter(institution__code=TOWNSHIP_CODE, position__isnull=False)
        by_kind = {
            kind: set(township.filter(position__kind=kind).values_list("level__code", flat=True))
            for kind in ("principal", "deputy", "middle", "general")
        }
        assert by_kind == {"principal": {"A"}, "deputy": {"A"}, "middle": {"B"}, "general": {"C"}}

    # --- the accounts work -----------------------------------------------------------------------------

    def test_seed_demo_holders_got_their_object_permission(self, output):
        open_holdings = Holding.objects.filter(ended_on__isnull=True).select_related("user")
        assert open_holdings.count() >= 50
        for holding in open_holdings:
            holder = user(holding.user.username)
            assert holder.has_perm("positions.hold_position", holding.position)
            assert holding.position_id in access.scope_of(holder).held_position_ids
        clerk = user("scj.holder1")
        held = access.scope_of(clerk).held_position_ids
        assert held
        visible = access.risk_points_visible_to(clerk)
        assert visible.filter(state=RiskPointState.DRAFT, position_id__in=held).exists()
        # beyond their own posts, a clerk sees only the published register of their institution
        others = visible.exclude(position_id__in=held)
        assert set(others.values_list("state", flat=True)) <= set(access.PUBLISHED_STATES)
        assert set(others.values_list("institution__code", flat=True)) == {MARKET_CODE}

    def test_seed_demo_superior_sees_every_institution(self, output):
        superior = user("county.superior")
        visible = access.risk_points_visible_to(superior)
        submitted = RiskPoint.objects.exclude(state=RiskPointState.DRAFT)
        assert set(visible.values_list("id", flat=True)) == set(submitted.values_list("id", flat=True))
        assert set(visible.values_list("institution_id", flat=True)) == set(
            Institution.objects.values_list("id", flat=True)
        )
        assert access.institutions_visible_to(superior).count() == Institution.objects.count()
        # while a bureau's principal sees their own bureau only
        principal = user("scj.principal")
        assert set(access.risk_points_visible_to(principal).values_list("institution__code", flat=True)) == {
            MARKET_CODE
        }

    def test_seed_demo_has_registers_in_every_state(self, output):
        from risk_registry.models import Register, RegisterVersion
        from risk_registry.workflow.snapshots import content_hash

        for institution in Institution.objects.all():
            filed = RegisterVersion.objects.filter(register__institution=institution, register__year=YEAR - 1)
            assert sorted(filed.values_list("number", flat=True)) in ([1], [1, 2])  # v2: a re-grade refiled
            version = filed.order_by("number").first()
            assert version is not None and content_hash(version.snapshot) == version.content_hash
            assert version.signed_by.memberships.filter(institution=institution, role=Role.PRINCIPAL).exists()
            assert (
                not RiskPoint.objects.filter(institution=institution, year=YEAR - 1)
                .exclude(state=RiskPointState.ISSUED)
                .exists()
            )
        # Registers whose issued points went through a notice keep its (past) dates; one is in
        # notice now.
        (notice,) = [r for r in Register.objects.filter(year=YEAR) if registers.notice_is_open(r)]
        assert RiskPoint.objects.filter(
            institution=notice.institution, year=YEAR, state=RiskPointState.IN_NOTICE
        ).exists()
        states = set(RiskPoint.objects.filter(year=YEAR).values_list("state", flat=True))
        assert states >= set(RiskPointState.values) - {RiskPointState.APPRAISED}

    def test_seed_demo_files_only_what_a_passed_vote_approved(self, output):
        """Every filed register of the demo went the whole way through the services: each of its
        points covered by a passed approval decision (with its meeting and vote), and audited at
        every step, per point and per register."""
        versions = list(RegisterVersion.objects.select_related("register"))
        assert len({v.register_id for v in versions}) == Institution.objects.count()
        for version in versions:
            points = {point["id"] for point in version.snapshot["points"]}
            approvals = Decision.objects.filter(
                register=version.register, kind=Decision.Kind.APPROVAL, outcome=Decision.Outcome.PASSED
            )
            assert points and points <= set(approvals.values_list("points", flat=True)), version.register
            for decision in approvals:
                assert decision.votes_for > decision.votes_against and decision.present >= 1
                assert decision.participants and decision.decision and decision.held_on < version.signed_at.date()
            for step in ("submit", "review", "define", "approve", "publish", "issue"):
                audited = AuditEntry.objects.filter(
                    action=f"risk_point.{step}", target_type="risk_registry.riskpoint", target_id__in=points
                ).values_list("target_id", flat=True)
                assert set(audited) == points, (version.register, step)
            for action in ("register.approve", "register.publish", "register.issue", "register.file"):
                assert AuditEntry.objects.filter(
                    action=action, target_type="risk_registry.register", target_id=version.register_id
                ).exists(), (version.register, action)

    def test_seed_demo_states_were_reached_through_the_workflow(self, output):
        """This year's spread too: every point past DRAFT was submitted (audited), every approved,
        published or issued point is covered by a passed approval decision."""
        S = RiskPointState
        moved = set(RiskPoint.objects.exclude(state=S.DRAFT).values_list("pk", flat=True))
        submitted = AuditEntry.objects.filter(action="risk_point.submit", target_type="risk_registry.riskpoint")
        assert moved and moved <= set(submitted.values_list("target_id", flat=True))
        approved = set(
            RiskPoint.objects.filter(state__in=(S.APPROVED, S.IN_NOTICE, S.ISSUED)).values_list("pk", flat=True)
        )
        passed = Decision.objects.filter(kind=Decision.Kind.APPROVAL, outcome=Decision.Outcome.PASSED)
        assert approved and approved <= set(passed.values_list("points", flat=True))
        assert not Decision.objects.exclude(outcome=Decision.Outcome.PASSED).exists()

    def test_seed_demo_shows_the_whole_method(self, output):
        """Issue 9: a rollover, control runs, a self-assessment, level proposals (one pending, one
        accepted through the register path into v2), a re-grading flag, notice comments (one
        answered) and a measures revision under the rule, each made through the services (their
        audit entries exist) and consistent with the filed versions."""
        from assessments.models import Cycle, SelfAssessment
        from controls.models import ControlRevision, ControlRun
        from risk_registry.models import DecisionRules, LevelProposal, NoticeComment

        def audited(action: str, ids) -> set[int]:
            return set(
                AuditEntry.objects.filter(action=action, target_id__in=list(ids)).values_list("target_id", flat=True)
            )

        # the rollover: last year's closed cycle carried its filed register into this year
        closed = Cycle.objects.get(year=YEAR - 1, state=Cycle.State.CLOSED)
        carried = RiskPoint.objects.filter(institution=closed.institution, year=YEAR, carried_from__isnull=False)
        assert carried.exists() and not carried.exclude(state=RiskPointState.DRAFT).exists()
        assert set(carried.values_list("carried_from__year", flat=True)) == {YEAR - 1}
        assert AuditEntry.objects.filter(action="register.carry_over", institution=closed.institution).exists()
        page = carried.first()
        html = self._page(page, f"/risks/{page.pk}/")
        assert f"结转自 {YEAR - 1}" in html
        # control runs, recorded by the holders
        runs = ControlRun.objects.select_related("control__risk_point")
        assert runs.count() >= 3 and audited("control_run.create", runs.values_list("pk", flat=True)) == set(
            runs.values_list("pk", flat=True)
        )
        for run in runs:
            assert access.can_record_control_run(user(run.recorded_by.username), run.control)
        # the self-assessment in the running cycle
        assessment = SelfAssessment.objects.get(institution__code=MARKET_CODE)
        assert assessment.cycle.year == YEAR and assessment.summary
        assert AuditEntry.objects.filter(action="self_assessment.submit").exists()
        # level proposals: one pending, one accepted and refiled through the register path as v2
        pending = LevelProposal.objects.get(status=LevelProposal.Status.PENDING)
        assert pending.level.rank < pending.risk_point.level.rank
        accepted = LevelProposal.objects.get(status=LevelProposal.Status.ACCEPTED)
        point = accepted.risk_point
        assert point.level_id == accepted.level_id and point.state == RiskPointState.ISSUED
        assert audited("level_proposal.accept", [point.pk]) == {point.pk}
        assert audited("risk_point.revise", [point.pk]) == {point.pk}
        v1, v2 = RegisterVersion.objects.filter(
            register__institution=point.institution, register__year=YEAR - 1
        ).order_by("number")
        levels = [{p["id"]: p["level"]["name"] for p in v.snapshot["points"]}[point.pk] for v in (v1, v2)]
        assert levels[1] == accepted.level.name and levels[0] != levels[1]
        diff = registers.version_diff_explained(v1, v2)
        (change,) = diff["changed"]
        assert change["id"] == point.pk and change["fields"]["level"] == levels
        assert any(c["action"] for c in change["level_changes"])
        # a re-grading flag from a changed power
        flagged = RiskPoint.objects.filter(needs_regrading=True)
        assert flagged.exists() and audited("risk_point.flag_regrading", flagged.values_list("pk", flat=True))
        # notice comments, one answered
        comments = NoticeComment.objects.all()
        assert comments.count() >= 2 and comments.filter(answered_at__isnull=False).count() == 1
        assert comments.filter(author__isnull=True).exists()  # an anonymous one
        assert AuditEntry.objects.filter(action="notice_comment.answer").count() == 1
        # measures after 审定 in one institution: one approved revision applied, one pending
        rules = DecisionRules.objects.get(measures_after_approval=True)
        assert rules.institution.code == MARKET_CODE
        revisions = ControlRevision.objects.filter(risk_point__institution=rules.institution)
        approved = revisions.get(status=ControlRevision.Status.APPROVED)
        assert revisions.filter(status=ControlRevision.Status.PENDING).count() == 1
        proposed = {c["measure"] for c in approved.after} - {c["measure"] for c in approved.before}
        assert proposed and proposed <= set(approved.risk_point.controls.values_list("measure", flat=True))
        assert audited("control_revision.approve", [approved.risk_point_id]) == {approved.risk_point_id}
        assert audited("control_revision.propose", revisions.values_list("risk_point_id", flat=True)) == set(
            revisions.values_list("risk_point_id", flat=True)
        )

    def _page(self, point, url: str) -> str:
        """The page as the first account that may read the point (a draft: its holder) sees it."""
        from django.test import Client

        client = Client()
        reader = next(
            u
            for u in get_user_model().objects.order_by("pk")
            if access.risk_points_visible_to(u).filter(pk=point.pk).exists()
        )
        client.force_login(reader)
        response = client.get(url)
        assert response.status_code == 200
        return response.content.decode()

    def test_seed_demo_prints_accounts_and_password(self, output):
        accounts = build.demo_accounts()
        usernames = {account.username for account in accounts}
        assert usernames == set(get_user_model().objects.values_list("username", flat=True))
        for account in accounts:
            assert account.username in output
            assert account.full_name in output
        assert f"密码:{data.DEFAULT_PASSWORD}" in output
        assert "上级纪委" in output and "部门负责人(登记注册股)" in output
        for username in ("county.superior", "scj.head.djzc", "hbj.holder2", "sqc.principal"):
            assert get_user_model().objects.get(username=username).check_password(data.DEFAULT_PASSWORD)
        assert not get_user_model().objects.get(username="scj.leader").check_password("wrong")
        named = get_user_model().objects.get(username="scj.principal")
        assert (named.last_name, named.first_name) == ("王", "建军")

    def test_seed_demo_is_idempotent(self, output):
        """A re-run writes nothing (no row, no audit entry), whatever its year or password. It re-runs
        on the class's build (its writes, if any, roll back with this test's savepoint)."""
        assert "已创建" in output and f"密码:{data.DEFAULT_PASSWORD}" in output
        before = snapshot()
        assert before["risk_registry.RiskPoint"] >= 60 and before["organisation.AuditEntry"] > 0

        second = seed("--year", str(YEAR), "--password", "another-pass-7")  # not the accounts' password
        third = seed("--year", str(YEAR + 1))  # another year: no second county

        assert snapshot() == before
        assert "已存在" in second and "已存在" in third
        # the accounts keep the password they were created with, and the output says which it is
        assert "another-pass-7" not in second and "未修改" in second
        assert f"密码:{data.DEFAULT_PASSWORD}" in third
        principal = get_user_model().objects.get(username="hbj.principal")
        assert principal.check_password(data.DEFAULT_PASSWORD) and not principal.check_password("another-pass-7")


# --- idempotence and atomicity -------------------------------------------------------------------


def test_seed_demo_leaves_nothing_behind_when_it_fails(monkeypatch):
    before = snapshot()

    def fail(self):
        raise RuntimeError("boom after every point was created")

    monkeypatch.setattr(build._Builder, "apply_states", fail)
    with pytest.raises(RuntimeError, match="boom"):
        seed("--year", str(YEAR))

    assert snapshot() == before
    assert not Institution.objects.filter(code=data.ROOT_CODE).exists()


def test_seed_demo_table_is_aligned_for_wide_characters():
    accounts = build.demo_accounts()
    lines = format_accounts(accounts)
    assert len(lines) == len(accounts) + 2
    # the 单位 column starts at the same terminal column on every row
    rows = zip(lines[2:], accounts, strict=True)
    starts = {display_width(line[: line.index(account.institution)]) for line, account in rows}
    assert len(starts) == 1
    assert display_width("云岭县") == 6 and display_width("abc") == 3


def test_seed_demo_default_year_is_the_shanghai_year(monkeypatch):
    # 2025-12-31 20:00 UTC is already 2026-01-01 in Shanghai
    monkeypatch.setattr(timezone, "now", lambda: datetime.datetime(2025, 12, 31, 20, tzinfo=datetime.UTC))
    assert build.default_year() == 2026
    calls = []

    def fake_seed(**kwargs):
        calls.append(kwargs)
        return build.DemoSeedResult(created=True, accounts=build.demo_accounts(), password_matches=True)

    monkeypatch.setattr(seed_demo_command, "demo_seed", fake_seed)
    out = seed()
    assert calls == [{"year": 2026, "password": data.DEFAULT_PASSWORD}]
    assert "2026 年度" in out


def test_seed_demo_rejects_an_impossible_year():
    with pytest.raises(CommandError):
        seed("--year", "1999")
    assert not Institution.objects.exists()
