"""The anonymous 腐败接触率 surveys: the statistics, the rules an answer is judged by, single-use
codes, small-group suppression, the public page's defences, and anonymity (docs/surveys.md)."""

from __future__ import annotations

import datetime
import logging
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client

from assessments import surveys
from assessments.stats import wilson
from assessments.survey_models import PostGroup, Questionnaire, SurveyAnswer, SurveyCode, SurveyRound, TimeBucket
from risk_registry.organisation.models import AuditEntry, Institution
from risk_registry.organisation.services import institution_create
from tests.harness import table_counters, writes_between

EXTERNAL = surveys.DEFAULT_BEHAVIOURS[Questionnaire.EXTERNAL]
INTERNAL = surveys.DEFAULT_BEHAVIOURS[Questionnaire.INTERNAL]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def open_round(world, **kwargs) -> SurveyRound:
    kwargs.setdefault("time_bucket", TimeBucket.WEEK)
    return surveys.survey_round_open(by=world.discipline, institution=world.a, year=2026, name="2026年调查", **kwargs)


def issue(world, survey_round, count=1, questionnaire=Questionnaire.EXTERNAL, group=PostGroup.BUSINESS):
    return surveys.survey_codes_issue(
        by=world.discipline, survey_round=survey_round, questionnaire=questionnaire, group=group, count=count
    )


def answer(code: str, yes: int = 0, overall: bool | None = None, labels=EXTERNAL, **kwargs):
    """An answer with the first ``yes`` behaviours "yes", the rest "no"; overall consistent by default."""
    answers = {label: "yes" if index < yes else "no" for index, label in enumerate(labels)}
    return surveys.survey_answer_submit(
        code=code, answers=answers, overall=bool(yes) if overall is None else overall, **kwargs
    )


# --- statistics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        # by hand: n=10, x=3: centre (0.3 + 0.19207)/1.38415 = 0.35550, half 0.24771
        (3, 10, 0.1078, 0.6032),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_wilson_interval_against_known_values(successes, trials, low, high):
    result = wilson(successes, trials)
    assert result.rate == successes / trials
    assert result.low == pytest.approx(low, abs=5e-5)
    assert result.high == pytest.approx(high, abs=5e-5)


def test_wilson_refuses_impossible_counts():
    for successes, trials in ((1, 0), (-1, 5), (6, 5)):
        with pytest.raises(ValueError):
            wilson(successes, trials)


@pytest.mark.parametrize(
    ("bucket", "start"),
    [(TimeBucket.DAY, "2026-03-12"), (TimeBucket.WEEK, "2026-03-09"), (TimeBucket.MONTH, "2026-03-01")],
)
def test_time_bucket_start(bucket, start):
    assert surveys.bucket_start(datetime.date(2026, 3, 12), bucket) == datetime.date.fromisoformat(start)


# --- the rules an answer is judged by ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "overall", "verdict"),
    [
        (["no", "no", "no"], False, (True, "", False)),
        (["yes", "no", "no"], True, (True, "", True)),
        (["no", "unsure", "no"], False, (True, "", False)),
        (["no", "unsure", "no"], True, (True, "", False)),  # may be an unsure one: not a contradiction
        (["yes", "no", "no"], False, (False, "contradictory", False)),  # met one, then says none
        (["no", "no", "no"], True, (False, "contradictory", False)),  # met none, then says some
        (["unsure", "unsure", "unsure"], True, (False, "no_information", False)),
        (["unsure", "unsure", "unsure"], False, (False, "no_information", False)),
    ],
)
def test_judge(answers, overall, verdict):
    assert surveys.judge(dict(zip("abc", answers, strict=True)), overall) == verdict


# --- codes ---------------------------------------------------------------------------------------------


def test_a_code_is_burnt_on_use(world):
    survey_round = open_round(world)
    [code] = issue(world, survey_round)
    answer(code, yes=1)
    with pytest.raises(surveys.CodeRefused):
        answer(code, yes=0)
    assert SurveyAnswer.objects.filter(round=survey_round).count() == 1
    assert not SurveyCode.objects.filter(code=code).exists()


def test_a_code_is_found_however_it_is_typed(world):
    survey_round = open_round(world)
    [code] = issue(world, survey_round)
    assert surveys.survey_code_find(f" {surveys.code_display(code).lower()} ").code == code
    assert surveys.survey_code_find("ABC") is None


def test_an_incomplete_answer_is_refused_and_keeps_the_code(world):
    survey_round = open_round(world)
    [code] = issue(world, survey_round)
    with pytest.raises(ValidationError):
        surveys.survey_answer_submit(code=code, answers={EXTERNAL[0]: "yes"}, overall=True)
    assert SurveyCode.objects.filter(code=code).exists()
    assert not SurveyAnswer.objects.exists()


def test_closing_counts_answers_and_ends_unused_codes(world):
    survey_round = open_round(world)
    first, second = issue(world, survey_round, count=2)
    answer(first)
    closed = surveys.survey_round_close(by=world.discipline, survey_round=survey_round)
    assert (closed.state, closed.answer_count, closed.codes_issued) == ("closed", 1, 2)
    assert not SurveyCode.objects.filter(round=survey_round).exists()
    with pytest.raises(surveys.CodeRefused):
        answer(second)
    entry = AuditEntry.objects.get(action="survey_round.close", target_id=survey_round.pk)
    assert entry.changes == {"answers": 1, "unused_codes": 1}


@pytest.mark.django_db(transaction=True)
def test_two_submissions_with_one_code_store_exactly_one_answer():
    """Two threads, two connections, one code, released together: one answer, one refusal."""
    user = get_user_model().objects.create_user("office", password="x")
    institution = institution_create(code="race", name="竞态局", kind=Institution.Kind.BUREAU)
    survey_round = surveys.survey_round_open(by=user, institution=institution, year=2026, name="竞态")
    [code] = surveys.survey_codes_issue(
        by=user, survey_round=survey_round, questionnaire=Questionnaire.INTERNAL, group=PostGroup.NON_BUSINESS, count=1
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        try:
            barrier.wait(timeout=30)
            answer(code, yes=1, labels=INTERNAL)
            outcomes.append("stored")
        except surveys.CodeRefused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "stored"]
    assert SurveyAnswer.objects.filter(round=survey_round).count() == 1


# --- results and suppression -----------------------------------------------------------------------------


def test_small_groups_show_nothing_until_the_threshold(world):
    survey_round = open_round(world)
    codes = issue(world, survey_round, count=8)
    for code in codes[:4]:
        answer(code, yes=1)
    answer(codes[4], yes=1, overall=False)  # contradictory: not a valid answer, no help to the threshold
    [row] = surveys.survey_results(survey_round)
    assert (row.shown, row.valid, row.rate, row.behaviours) == (False, 0, None, [])

    answer(codes[5], yes=0)  # the fifth valid answer
    [row] = surveys.survey_results(survey_round)
    assert row.shown
    assert (row.answers, row.valid, row.invalid) == (6, 5, {"contradictory": 1})
    assert (row.rate.successes, row.rate.trials) == (4, 5)
    assert row.rate.low == pytest.approx(0.3755, abs=5e-5)
    assert row.rate.high == pytest.approx(0.9638, abs=5e-5)
    assert row.behaviours[0] == (EXTERNAL[0], 4)


def test_results_per_questionnaire_and_post_group(world):
    survey_round = open_round(world, min_group=3)
    for code in issue(world, survey_round, count=3):
        answer(code, yes=2)
    for code in issue(world, survey_round, count=4, questionnaire=Questionnaire.INTERNAL, group=PostGroup.NON_BUSINESS):
        answer(code, labels=INTERNAL)
    for code in issue(world, survey_round, count=2, group=PostGroup.NON_BUSINESS):
        answer(code, yes=1)
    rows = {(r.questionnaire, r.group): r for r in surveys.survey_results(survey_round)}
    assert rows[("external", "business")].rate.rate == 1.0
    assert rows[("internal", "non_business")].rate.rate == 0.0
    assert not rows[("external", "non_business")].shown
    assert ("internal", "business") not in rows


# --- anonymity ------------------------------------------------------------------------------------------


def _all_rows(tables: list[str]) -> dict[str, list[tuple]]:
    with connection.cursor() as cursor:
        rows = {}
        for name in tables:
            cursor.execute(f'SELECT * FROM "{name}"')  # noqa: S608 - names come from pg_stat
            rows[name] = cursor.fetchall()
        return rows


def test_an_answer_leaves_nothing_that_links_it_to_code_user_address_agent_or_time(world, caplog):
    """After an answer through the public page: which tables were written (PostgreSQL's counters of
    the transaction), every row of them, every log line and the audit trail."""
    survey_round = open_round(world, time_bucket=TimeBucket.MONTH)
    [code] = issue(world, survey_round)
    other_codes = issue(world, survey_round, count=2)
    address, agent = "203.0.113.77", "Mozilla/5.0 (Linux; Android 14) RespondentPhone/9.9"
    respondent = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    audit_before = AuditEntry.objects.count()
    data = {"code": code, "overall": "yes"} | {f"b{i}": ("yes" if i == 2 else "no") for i in range(len(EXTERNAL))}

    before = table_counters()
    with caplog.at_level(logging.DEBUG):
        response = respondent.post("/s/", data)
    written = writes_between(before, table_counters())

    assert response.status_code == 200, response.content.decode()
    assert written == {
        SurveyAnswer._meta.db_table: (1, 0, 0),
        SurveyCode._meta.db_table: (0, 0, 1),
    }, "the answer wrote elsewhere (a session, an audit entry, a lockout record…)"
    assert AuditEntry.objects.count() == audit_before

    # Every row of every table written: nothing holds the code, the address, the agent or the user.
    users = get_user_model().objects.values_list("username", flat=True)
    for name, rows in _all_rows(list(written)).items():
        for row in rows:
            text = " ".join(str(value) for value in row)
            for secret in (code, surveys.code_display(code), address, agent, "RespondentPhone"):
                assert secret not in text, f"{name} holds {secret!r}: {row}"
            for value in row:
                assert not isinstance(value, datetime.datetime), f"{name} keeps a time of day: {row}"
            assert not any(value == user for value in row for user in users)

    # The answer's own columns: its round and what the code said; its day is the month's first.
    stored = SurveyAnswer.objects.get(round=survey_round)
    assert stored.answered_in.day == 1
    assert {f.name for f in SurveyAnswer._meta.concrete_fields} == {
        "id", "round", "questionnaire", "group", "answered_in", "answers", "overall", "valid",
        "invalid_reason", "exposed",
    }  # fmt: skip
    assert stored.id.version == 4  # a random key: no order of arrival
    assert set(SurveyCode.objects.filter(round=survey_round).values_list("code", flat=True)) == set(other_codes)

    # No log line of the request holds the code, the address or the agent.
    for record in caplog.records:
        line = record.getMessage() + " " + " ".join(str(a) for a in (record.args or ()))
        for secret in (code, address, agent):
            assert secret not in line, record
    # A good code leaves nothing in the cache either (only unknown codes are counted there).
    assert not cache.get(f"survey-unknown-code:{address}")


def test_the_answer_model_has_no_link_but_its_round():
    relations = [f.name for f in SurveyAnswer._meta.get_fields() if f.is_relation]
    assert relations == ["round"]


# --- the public page ----------------------------------------------------------------------------------------


def test_the_answer_page_needs_no_account_and_walks_code_then_questions(world):
    survey_round = open_round(world)
    [code] = issue(world, survey_round, questionnaire=Questionnaire.INTERNAL, group=PostGroup.NON_BUSINESS)
    respondent = Client()
    assert respondent.get("/s/").status_code == 200
    page = respondent.post("/s/", {"code": surveys.code_display(code).lower()})
    assert page.status_code == 200
    assert INTERNAL[0] in page.content.decode()
    assert SurveyCode.objects.filter(code=code).exists()  # looking at the questions burns nothing
    incomplete = respondent.post("/s/", {"code": code, "b0": "yes"})
    assert incomplete.status_code == 400
    assert "请回答每一个问题" in incomplete.content.decode()
    assert not SurveyAnswer.objects.exists()
    full = {"code": code, "overall": "no"} | {f"b{i}": "no" for i in range(len(INTERNAL))}
    assert respondent.post("/s/", full).status_code == 200
    assert SurveyAnswer.objects.get().questionnaire == "internal"
    again = respondent.post("/s/", full)
    assert again.status_code == 400
    assert "答题码无效" in again.content.decode()
    assert SurveyAnswer.objects.count() == 1


def test_the_answer_page_refuses_without_csrf(world):
    survey_round = open_round(world)
    [code] = issue(world, survey_round)
    respondent = Client(enforce_csrf_checks=True)
    data = {"code": code, "overall": "no"} | {f"b{i}": "no" for i in range(len(EXTERNAL))}
    assert respondent.post("/s/", data).status_code == 403
    assert not SurveyAnswer.objects.exists()


def test_unknown_codes_are_throttled_per_address(world, settings):
    settings.RISK_REGISTRY_SURVEY_FAILED_CODES = 3
    survey_round = open_round(world)
    [code] = issue(world, survey_round)
    guesser = Client(REMOTE_ADDR="198.51.100.1")
    for attempt in range(3):
        response = guesser.post("/s/", {"code": f"AAAAAAAAA{attempt + 2}"})
        assert response.status_code == 400
        assert "答题码无效" in response.content.decode()
    blocked = guesser.post("/s/", {"code": code})  # even a good code: the address is told to wait
    assert blocked.status_code == 429
    assert "请稍后再试" in blocked.content.decode()
    assert SurveyCode.objects.filter(code=code).exists()
    other = Client(REMOTE_ADDR="198.51.100.2")
    assert other.post("/s/", {"code": code}).status_code == 200


def test_a_closed_round_answers_like_an_unknown_code(world):
    survey_round = open_round(world)
    [code] = issue(world, survey_round)
    surveys.survey_round_close(by=world.discipline, survey_round=survey_round)
    unknown = Client().post("/s/", {"code": "BBBBBBBBBB"}).content.decode()
    closed = Client().post("/s/", {"code": code}).content.decode()
    assert closed.replace(code, "").count("答题码无效") == unknown.count("答题码无效") == 1


# --- the office's pages ---------------------------------------------------------------------------------------


def test_results_page_hides_small_groups_and_shows_the_rate_past_the_threshold(world, client):
    survey_round = open_round(world)
    codes = issue(world, survey_round, count=5)
    for code in codes[:4]:
        answer(code, yes=1)
    client.force_login(world.discipline)
    page = client.get(f"/surveys/{survey_round.pk}/").content.decode()
    assert 'data-testid="survey-suppressed"' in page
    assert 'data-testid="survey-rate"' not in page
    answer(codes[4])
    page = client.get(f"/surveys/{survey_round.pk}/").content.decode()
    assert 'data-testid="survey-suppressed"' not in page
    assert "80.0 %" in page  # 4 of 5
    assert "37.6 % – 96.4 %" in page


def test_rounds_are_read_by_the_discipline_offices_only(world, client):
    survey_round = open_round(world)
    for persona, status in (("discipline", 200), ("superior", 200), ("leader", 404), ("principal", 404),
                            ("holder", 404), ("outsider", 404)):  # fmt: skip
        client.force_login(getattr(world, persona))
        assert client.get(f"/surveys/{survey_round.pk}/").status_code == status, persona
    client.force_login(world.superior)
    before = SurveyCode.objects.count()
    response = client.post(
        f"/surveys/{survey_round.pk}/codes/", {"questionnaire": "external", "group": "business", "count": 3}
    )
    assert response.status_code == 403
    assert SurveyCode.objects.count() == before


def test_the_list_compares_institutions_with_the_same_suppression(world, client):
    shown = open_round(world)
    for code in issue(world, shown, count=5):
        answer(code, yes=1)
    hidden = surveys.survey_round_open(by=world.outsider, institution=world.b, year=2026, name="乙局调查")
    for code in surveys.survey_codes_issue(
        by=world.outsider, survey_round=hidden, questionnaire="external", group="business", count=2
    ):
        answer(code, yes=1)
    client.force_login(world.superior)
    page = client.get("/surveys/").content.decode()
    assert "100.0 %" in page  # bureau A: 5 of 5
    assert "有效答卷少于 5 份" in page  # bureau B: two answers, no figures
    client.force_login(world.discipline)
    page = client.get("/surveys/").content.decode()
    assert "乙局调查" not in page


def test_each_code_is_printed_once(world, client):
    survey_round = open_round(world)
    first = issue(world, survey_round, count=3)
    client.force_login(world.discipline)
    sheet = client.post(f"/surveys/{survey_round.pk}/print/").content.decode()
    assert all(surveys.code_display(code) in sheet for code in first)
    answer(first[0])
    second = issue(world, survey_round, count=2)
    sheet = client.post(f"/surveys/{survey_round.pk}/print/").content.decode()
    assert all(surveys.code_display(code) in sheet for code in second)
    assert not any(surveys.code_display(code) in sheet for code in first)  # no sheet tells who answered
    assert AuditEntry.objects.filter(action="survey_round.print", target_id=survey_round.pk).count() == 2
