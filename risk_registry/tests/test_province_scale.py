"""What the province benchmark (issue 11) changed, by behaviour and by query shape:

- a point keeps its institution's path (database triggers), and a subtree's points are filtered by
  it, never through a join on the institution table;
- the text search finds two-character Chinese terms through the stored pieces and longer terms
  through the trigram indexes, with exactly the rows ``icontains`` finds;
- the register's quality report reads its vague controls in SQL, cut at the rows it shows;
- the risk-point table carries no index that another one's leading columns already give.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from controls.models import Control
from controls.quality import vague_control_reasons
from controls.services import control_quality_refresh
from risk_registry.access import risk_points_visible_to
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Institution, Role
from risk_registry.organisation.services import membership_grant
from risk_registry.selectors import text_search_q
from risk_registry.workflow.quality import SHOWN, quality_report

pytestmark = pytest.mark.django_db
PIECES = '"search_bigrams" @>'


def _explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # The statistics autovacuum keeps in production: without them every condition looks rare
        # (one row), and an index on the year alone would serve ``year = 2026`` as well as any.
        cursor.execute("ANALYZE risk_registry_riskpoint")
        cursor.execute("SET LOCAL enable_seqscan = off")
        # GIN indexes are read by bitmap scans only; without this a tiny table's plan may walk the
        # primary key backwards (the list's order) and filter, whatever index could serve the term.
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


# --- the point's institution path -------------------------------------------------------------


def test_a_point_keeps_its_institution_path_whatever_writes_it(world):
    assert world.submitted.institution_path == world.a.path  # written by the database on insert
    # An update naming the institution (a model save writes every field) moves it.
    world.submitted.institution = world.b
    world.submitted.save()
    world.submitted.refresh_from_db()
    assert world.submitted.institution_path == world.b.path
    # The institution's own path changing (moved in the tree) moves its points'.
    Institution.objects.filter(pk=world.b.pk).update(path="/moved/")
    assert set(RiskPoint.objects.filter(institution=world.b).values_list("institution_path", flat=True)) == {"/moved/"}
    # A bulk insert too.
    [copy] = RiskPoint.objects.bulk_create(
        [
            RiskPoint(
                institution=world.a,
                department=world.dept,
                year=2026,
                risk_type=world.risk_type,
                description="批量",
                likelihood=1,
                severity=1,
                level=world.draft.level,
            )
        ]
    )
    assert RiskPoint.objects.get(pk=copy.pk).institution_path == world.a.path


def test_an_office_sees_its_subtree_by_the_points_own_path_not_a_join(world):
    visible = risk_points_visible_to(world.superior)
    sql = str(visible.query)
    assert '"risk_registry_riskpoint"."institution_path"::text LIKE' in sql
    assert "organisation_institution" not in sql
    # A part of the tree is read by the path (the index keyed on it and the year, carrying what the
    # list reads), not by the year's index, when the rest of the tree holds most of the year.
    # (The whole tree's year is every point of the year: any index of it serves.)
    RiskPoint.objects.bulk_create(
        RiskPoint(
            institution=world.b,
            department=world.dept_b,
            year=2026,
            risk_type=world.point_b.risk_type,
            description=f"乙局{n}",
            graded_directly=True,
            level=world.point_b.level,
            state="issued",
        )
        for n in range(300)
    )
    plan = _explain(risk_points_visible_to(world.discipline).filter(year=2026).order_by("-id")[:50])
    assert "riskpoint_figures" in plan
    # The same rows as the institution's path says (drafts stay with their authors).
    expected = RiskPoint.objects.filter(institution__path__startswith=world.county.path).exclude(state="draft")
    assert set(visible.values_list("pk", flat=True)) == set(expected.values_list("pk", flat=True))
    assert set(risk_points_visible_to(world.outsider).values_list("pk", flat=True)) == set(
        RiskPoint.objects.filter(institution=world.b).exclude(state="draft").values_list("pk", flat=True)
    )


# --- search -----------------------------------------------------------------------------------


def _icontains(term: str) -> set[int]:
    return set(
        RiskPoint.objects.filter(Q(description__icontains=term) | Q(manifestation__icontains=term)).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.parametrize("term", ["审批", "批中", "收费", "越权审批", "审", "Ab", "abc", "无此"])
def test_the_search_finds_what_icontains_finds(world, term):
    RiskPoint.objects.filter(pk=world.submitted.pk).update(description="越权审批，收费不公", manifestation="ABC 审批中")
    RiskPoint.objects.filter(pk=world.point_b.pk).update(manifestation="审批")
    found = set(RiskPoint.objects.filter(text_search_q(term)).values_list("pk", flat=True))
    assert found == _icontains(term)
    if term in ("审批", "收费", "越权审批", "批中"):
        assert found  # the fixture above has them


def test_a_two_character_term_uses_the_pieces_index_and_a_longer_one_the_trigrams(world):
    two = RiskPoint.objects.filter(text_search_q("审批"))
    assert PIECES in str(two.query) and "riskpoint_bigrams" in _explain(two)
    three = RiskPoint.objects.filter(text_search_q("吃拿卡"))
    assert PIECES not in str(three.query)
    plan = _explain(three)
    assert "riskpoint_description_trgm" in plan and "riskpoint_manifestation_trgm" in plan
    # A term with letter case is not a piece lookup (the pieces are stored as written).
    assert PIECES not in str(RiskPoint.objects.filter(text_search_q("Ab")).query)


def test_the_pieces_follow_an_edit(world):
    RiskPoint.objects.filter(pk=world.draft.pk).update(description="工程验收")
    assert RiskPoint.objects.filter(text_search_q("验收"), pk=world.draft.pk).exists()
    RiskPoint.objects.filter(pk=world.draft.pk).update(description="物资采购")
    assert not RiskPoint.objects.filter(text_search_q("验收"), pk=world.draft.pk).exists()


# --- the register's quality report ------------------------------------------------------------


def test_the_quality_report_counts_every_vague_control_and_reads_only_those_it_shows(world):
    many = SHOWN + 7
    Control.objects.bulk_create(
        Control(risk_point=world.submitted, line="prevention", measure=f"措施{n}", owner="", frequency="each_time")
        for n in range(many)
    )
    points = RiskPoint.objects.filter(institution=world.a)
    control_quality_refresh(points)  # what the services that write controls do
    vague_before = Control.objects.filter(risk_point__in=points).filter(Q(owner="") | Q(evidence="")).count()
    with CaptureQueriesContext(connection) as captured:
        report = quality_report(points=points, institution_id=world.a.pk, year=2026)
    assert report.vague_count == vague_before >= many
    assert len(report.vague_controls) == SHOWN
    queries = [q["sql"] for q in captured.captured_queries]
    control_reads = [sql for sql in queries if 'FROM "controls_control"' in sql.split("WHERE")[0]]
    assert control_reads and all("LIMIT" in sql or "COUNT(" in sql for sql in control_reads)
    row = next(r for r in report.vague_controls if r["measure"] == "措施0")
    assert row["reasons"] == "、".join(
        str(reason)
        for reason in vague_control_reasons(
            measure="措施0", owner="", frequency="each_time", evidence="", followed_up=False
        )
    )


def test_the_points_without_a_control_are_found_in_an_index_of_such_points_only(world):
    """The quality report's 20 newest points without a control: a register where every point has
    one read all its points to find none (4,257 at province scale); ``riskpoint_bare`` holds only
    the points whose stored ``controls_count`` is 0, kept by the services as the report reads it."""
    points = RiskPoint.objects.filter(institution=world.a, year=2026)
    Control.objects.filter(risk_point=world.draft).delete()
    control_quality_refresh(points)
    bare = points.filter(controls_count=0).order_by("-id").values("id", "description")[:SHOWN]
    assert "riskpoint_bare" in _explain(bare)
    report = quality_report(points=points, institution_id=world.a.pk, year=2026)
    without = set(points.exclude(pk__in=Control.objects.values("risk_point_id")).values_list("pk", flat=True))
    assert without and {row["id"] for row in report.points_without_controls} == without


# --- indexes ------------------------------------------------------------------------------------


def test_no_index_of_the_risk_point_table_is_another_ones_leading_columns():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, ix.indkey::text, ix.indpred IS NOT NULL, ix.indexprs IS NOT NULL, am.amname
            FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
            JOIN pg_am am ON am.oid = i.relam
            WHERE t.relname = 'risk_registry_riskpoint'
            """
        )
        rows = cursor.fetchall()
    plain = [(name, keys.split()) for name, keys, partial, expression, method in rows if not partial and not expression]
    duplicates = [
        (name, other)
        for name, keys in plain
        for other, other_keys in plain
        if name != other and other_keys[: len(keys)] == keys and not name.endswith("_pkey")
    ]
    assert duplicates == []
    # The single-column indexes of ``state`` and ``needs_regrading`` that no query used stay dropped
    # (migration 0010); the state filter reads ``riskpoint_state`` (state, year, id).
    single = {name for name, keys in plain if len(keys) == 1}
    assert not [name for name in single if "state" in name or "needs_regrading" in name]


# --- the inbox of an office over a part of the tree ------------------------------------------


def _to_define_queue(client, user) -> tuple[list[int], list[str]]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/inbox/")
    shown = [p.pk for p in response.context["sections"]["to_define"]]
    return shown, [q["sql"] for q in queries.captured_queries if "'reviewed'" in q["sql"] and "COUNT(" not in q["sql"]]


def test_an_office_inbox_reads_its_queue_from_the_part_index_not_by_walking_the_ids(world, client):
    """A city's office waited 0.7 s (at a twentieth of the province) for its 100 newest points to
    define: PostgreSQL walked the primary key backwards past every other city's points. An office
    whose whole scope is one city's part of the tree reads them in id order from that part's index
    (``riskpoint_part``: the filter says its expression); any other part of the tree orders them by
    ``id + 0`` (the same order), so its own index is read and sorted."""
    RiskPoint.objects.filter(pk__in=[world.submitted.pk, world.finance_point.pk]).update(state="reviewed")
    newest_first = sorted([world.submitted.pk, world.finance_point.pk], reverse=True)
    # Bureau A's office: one part of the county's tree, as a city is of the province.
    shown, queue = _to_define_queue(client, world.discipline)
    assert shown == newest_first
    assert queue and all("substring(" in sql and '."id" DESC LIMIT' in sql for sql in queue)
    # With a role elsewhere beside it, the scope is no longer one part: read and sorted.
    membership_grant(user=world.discipline, institution=world.b, role=Role.LEADERSHIP)
    shown, queue = _to_define_queue(client, world.discipline)
    assert shown == newest_first
    assert queue and all('."id" + 0) DESC' in sql and "substring(" not in sql for sql in queue)
