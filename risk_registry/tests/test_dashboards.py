"""The dashboards: every figure equals the count of the list it links to, for every kind of figure
and every role's page; the pages cost the same number of queries for two institutions or twelve."""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from controls.models import Control
from controls.services import control_quality_refresh
from positions.models import PowerCategory, PowerItem
from risk_registry import access, dashboards
from risk_registry.documents.archive import dashboard_pdf
from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel, Institution, Role
from risk_registry.organisation.services import (
    department_create,
    forget_scope,
    grading_scheme_adopt_preset,
    institution_create,
    membership_grant,
)

FIGURE = re.compile(
    r'<a href="([^"]+)"[^>]*data-testid="(?:figure|heat-cell)"(?: data-count="\d+")?[^>]*>\s*(\d+)\s*</a>'
)
RESULT = re.compile(r"data-testid=\"result-count\">\D*(\d+)")


def _point(w, *, institution=None, department=None, position=None, year=2026, likelihood=2, severity=2, **extra):
    institution = institution or w.a
    scheme = institution.grading_scheme
    level = GradeLevel.objects.get(scheme=scheme, code=scheme.level_code_for(likelihood, severity))
    return RiskPoint.objects.create(
        institution=institution,
        department=department or w.dept,
        position=position,
        year=year,
        risk_type=w.risk_type,
        description="看板测试点",
        likelihood=likelihood,
        severity=severity,
        level=level,
        state=extra.pop("state", RiskPointState.SUBMITTED),
        **extra,
    )


@pytest.fixture
def county(world):
    """The personas' world with a point of every kind a figure counts: carried and raised, carried
    and lowered, dropped from the year before, without controls, with a vague control, flagged,
    on a power item."""
    w = world
    raised_from = _point(w, year=2025, likelihood=1, severity=1, position=w.position)
    _point(w, likelihood=3, severity=3, position=w.position, carried_from=raised_from)
    lowered_from = _point(w, year=2025, likelihood=3, severity=3, position=w.position3, department=w.finance)
    lowered = _point(w, likelihood=1, severity=2, position=w.position3, department=w.finance, carried_from=lowered_from)
    _point(w, year=2025, likelihood=2, severity=3)  # dropped: carried into no later year
    _point(w, likelihood=2, severity=1, position=w.position2)  # no control at all
    Control.objects.create(risk_point=lowered, line="prevention", measure="严格遵守有关规定", owner="")
    control_quality_refresh(RiskPoint.objects.filter(pk=lowered.pk))  # as the controls' services do
    RiskPoint.objects.filter(pk=w.finance_point.pk).update(needs_regrading=True)
    RiskPoint.objects.filter(pk=w.submitted.pk).update(power_item=w.power)
    return w


def _figures(client, url: str) -> list[tuple[str, int]]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return [(unescape(href), int(count)) for href, count in FIGURE.findall(response.content.decode())]


def _list_count(client, href: str) -> int:
    response = client.get(href)
    assert response.status_code == 200
    return int(RESULT.search(response.content.decode()).group(1))


def _check(client, url: str) -> set[str]:
    """Every figure of the page equals its list's count; the figure kinds seen (by query key)."""
    kinds: set[str] = set()
    figures = [(href, count) for href, count in _figures(client, url) if href.startswith("/risks/")]
    assert figures
    for href, count in figures:
        assert _list_count(client, href) == count, href
        kinds.update(parse_qs(urlsplit(href).query))
        if "change" in href:
            kinds.add("change=" + parse_qs(urlsplit(href).query)["change"][0])
        if "controls" in href:
            kinds.add("controls=" + parse_qs(urlsplit(href).query)["controls"][0])
    return kinds


@pytest.mark.django_db
def test_every_oversight_figure_equals_its_list(client, county):
    client.force_login(county.discipline)
    kinds = _check(client, "/dashboards/oversight/?institution=bureau-a")
    assert {"likelihood", "severity", "band", "level", "risk_type", "power_category", "department"} <= kinds
    assert "position_kind" in kinds
    assert {"regrade", "change=new", "change=raised", "change=lowered", "change=dropped"} <= kinds
    assert {"controls=none", "controls=vague"} <= kinds
    client.force_login(county.superior)
    assert {"institution", "band", "risk_type", "regrade"} <= _check(client, "/dashboards/oversight/")


@pytest.mark.django_db
def test_the_figures_count_what_was_made(client, county):
    """Not only equal to the list: the numbers are the points made above."""
    client.force_login(county.discipline)
    figures = dict(_figures(client, "/dashboards/oversight/?institution=bureau-a"))
    by_key = {
        parse_qs(urlsplit(h).query).get("change", parse_qs(urlsplit(h).query).get("controls", [""]))[0]: n
        for h, n in figures.items()
    }
    assert by_key["raised"] == 1
    assert by_key["lowered"] == 1
    assert by_key["dropped"] == 1  # the two others were carried on
    assert by_key["none"] == 2  # the raised point and the one made without, both made bare
    assert by_key["vague"] == 3  # the world's two submitted points (no evidence) and the generic phrase


@pytest.mark.django_db
def test_leadership_and_my_dashboards_equal_their_lists(client, county):
    client.force_login(county.leader)
    assert {"likelihood", "severity"} <= _check(client, "/dashboards/leadership/")
    for persona in (county.holder, county.head):
        client.force_login(persona)
        assert {"mine", "state", "band"} <= _check(client, "/dashboards/mine/")


@pytest.mark.django_db
def test_my_dashboard_counts_only_my_posts(client, county):
    """The holder of 审批岗 sees the published points of the whole institution on the list, but
    the dashboard (and the list it links to) counts their own posts' points only."""
    RiskPoint.objects.filter(pk=county.finance_point.pk).update(state=RiskPointState.ISSUED)
    client.force_login(county.holder)
    figures = _figures(client, "/dashboards/mine/")
    total = next(count for href, count in figures if "state" not in href)
    assert total == RiskPoint.objects.filter(position=county.position, year=2026).count()


@pytest.mark.django_db
def test_dashboards_refuse_bad_input_and_other_institutions(client, county):
    client.force_login(county.discipline)
    assert client.get("/dashboards/oversight/?year=abc").status_code == 400
    assert client.get("/dashboards/oversight/?institution=bureau-b").status_code == 404
    client.force_login(county.holder)
    assert client.get("/dashboards/oversight/").status_code == 403
    assert client.get("/dashboards/leadership/").status_code == 403


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


@pytest.mark.django_db
def test_query_count_is_flat_in_the_number_of_institutions(client, county):
    client.force_login(county.superior)
    urls = ("/dashboards/oversight/", "/dashboards/oversight/?institution=bureau-a")
    for url in urls:  # the session's first request also stores the menu's counts: once, not per page
        client.get(url)
    before = [_queries(client, url) for url in urls]
    for i in range(10):
        extra = institution_create(
            code=f"extra-{i}", name=f"新单位{i}", kind=Institution.Kind.BUREAU, parent=county.county
        )
        grading_scheme_adopt_preset(institution=extra, preset_code="level-3-highest")
        _point(county, institution=extra, department=department_create(institution=extra, name="办公室"))
    after = [_queries(client, url) for url in urls]
    assert after == before


@pytest.mark.django_db
def test_the_archive_holds_the_dashboard_as_a_pdf_page(county):
    """The archive's dashboard counts the archive's points: the heat map's total and the changes."""
    points = RiskPoint.objects.filter(institution=county.a, year=2026).exclude(state=RiskPointState.DRAFT)
    previous = RiskPoint.objects.filter(institution=county.a, year=2025)
    data = dashboard_pdf(institution=county.a, year=2026, points=points, previous=previous, working=False)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).replace(" ", "")
    assert "廉政风险统计看板" in text
    assert f"共{points.count()}个风险点" in text
    assert "等级调高" in text and "与2025年相比" in text


@pytest.mark.django_db
def test_the_roll_up_summary_counts_the_whole_scope_when_the_table_is_cut(client, county, monkeypatch):
    """The county tables show COMPARISON_PAGE institutions a page; the summary still counts every
    institution and point in the reader's scope, and says which rows the tables show."""
    client.force_login(county.superior)
    page = client.get("/dashboards/oversight/?year=2026").content.decode()
    full = re.search(r'id="summary-roll-up">([^<]*)<', page).group(1)
    monkeypatch.setattr("risk_registry.dashboards.COMPARISON_PAGE", 1)
    cut_page = client.get("/dashboards/oversight/?year=2026&page=2").content.decode()
    cut = re.search(r'id="summary-roll-up">([^<]*)<', cut_page).group(1)
    points = re.compile(r"(\d+)个风险点")
    assert points.search(cut).group(1) == points.search(full).group(1)  # the whole scope, not one row's
    assert cut.startswith(full.split("，")[0])  # the same number of institutions
    assert "下表列出第2至2个单位" in cut and "下表列出" not in full


@pytest.mark.django_db
def test_the_comparison_pages_sorts_by_seriousness_and_totals_every_institution(client, county, monkeypatch):
    """COMPARISON_PAGE rows a page (both tables), the total row over every institution in scope,
    ``?order=serious`` the institutions with the most points in the high band first; a page out of
    range or not a number is the last or the first page, never an error."""
    client.force_login(county.superior)
    monkeypatch.setattr("risk_registry.dashboards.COMPARISON_PAGE", 1)
    visible = RiskPoint.objects.filter(year=2026).exclude(state=RiskPointState.DRAFT)
    first = client.get("/dashboards/oversight/?year=2026").content.decode()
    assert first.count('data-testid="comparison-row"') == 1
    assert 'data-testid="next-page"' in first
    total = re.search(r'data-testid="comparison-total">\s*<th[^>]*>[^<]*</th>\s*<td class="text-end">(\d+)<', first)
    assert int(total.group(1)) == visible.count()  # every institution's points, not the page's
    codes = []
    for number in (1, 2, 3):
        page = client.get(f"/dashboards/oversight/?year=2026&page={number}").content.decode()
        codes += re.findall(r'data-testid="comparison-row" data-code="([^"]+)"', page)
    assert codes == sorted(codes, key=lambda code: Institution.objects.get(code=code).path)
    assert set(codes) == {county.county.code, county.a.code, county.b.code}

    serious = client.get("/dashboards/oversight/?year=2026&order=serious").content.decode()
    top = re.findall(r'data-testid="comparison-row" data-code="([^"]+)"', serious)
    high = {
        code: visible.filter(institution__code=code, level__band="high").count()
        for code in (county.county.code, county.a.code, county.b.code)
    }
    assert high[top[0]] == max(high.values())
    for bad in ("abc", "999", "-1"):
        assert client.get(f"/dashboards/oversight/?year=2026&page={bad}&order=x").status_code == 200


@pytest.mark.django_db
def test_one_grouped_query_counts_every_distribution_and_what_to_watch(county):
    """``Groups`` (the oversight page's one grouped query) sums to what a GROUP BY per figure and the
    watch list's aggregate count, empty keys included (department-level points, no power item)."""
    _point(county, likelihood=3, severity=1)  # a department's point: no post
    points = RiskPoint.objects.filter(year=2026).exclude(state=RiskPointState.DRAFT)
    with CaptureQueriesContext(connection) as queries:
        groups = dashboards.Groups(points, one_institution=True)
    assert len(queries.captured_queries) == 1
    fields = (*dashboards.SPREAD, *dashboards.SPREAD_ONE)
    for field in fields:
        expected = [
            {field: row[field], "total": row["total"]}
            for row in points.order_by().values(field).annotate(total=Count("id")).order_by(field)
        ]
        assert groups.by(field) == expected, field
    assert any(row["position_kind"] == "" for row in groups.by("position_kind"))  # a department's point
    joined = points.order_by().values("position__kind").annotate(total=Count("id"))  # the stored kind's truth
    assert {row["position_kind"]: row["total"] for row in groups.by("position_kind")} == {
        row["position__kind"] or "": row["total"] for row in joined
    }
    assert any(row["power_item__category_id"] is None for row in groups.by("power_item__category_id"))
    assert groups.watched() == points.order_by().aggregate(
        **{name: Count("id", filter=q) for name, q in dashboards.WATCHED.items()}
    )
    assert groups.watched()["raised"] == 1 and groups.watched()["lowered"] == 1  # as the fixture made
    county_wide = dashboards.Groups(points, one_institution=False)
    assert county_wide.by("level_band") == groups.by("level_band")
    joined_bands = points.order_by().values("level__band").annotate(total=Count("id"))  # the stored band's truth
    assert {row["level_band"]: row["total"] for row in groups.by("level_band")} == {
        row["level__band"]: row["total"] for row in joined_bands
    }


@pytest.mark.django_db
def test_the_counts_per_institution_from_the_tallies_equal_the_visible_points_grouped(county):
    """``institution_counts`` (the points' tallies of what the reader oversees, and the reader's
    other points one by one) counts what ``risk_points_visible_to`` gives, grouped, for every
    persona and for the whole scope and one institution: drafts in sight of their department's
    head and post's holder, none of an office's."""
    w = county
    _point(w, likelihood=3, severity=1)  # a department's point: no post
    _point(w, institution=w.b, department=w.dept_b, likelihood=1, severity=1)  # bureau B
    _point(w, likelihood=1, severity=1, state=RiskPointState.DRAFT)  # a draft of the head's department
    membership_grant(
        user=w.outsider, institution=w.a, role=Role.DEPT_HEAD, department=w.dept
    )  # B's office heads one of A's
    membership_grant(user=w.discipline, institution=w.a, role=Role.DEPT_HEAD, department=w.dept)  # and one of its own
    personas = ("superior", "discipline", "outsider", "leader", "principal", "head", "holder", "holder3", "nobody")
    for name in personas:
        user = getattr(w, name)
        forget_scope(user)
        for node in (None, w.a):
            visible = access.risk_points_visible_to(user).filter(dashboards.within(node), year=2026)
            expected = dashboards.InstitutionCounts.of(
                visible.order_by()
                .values(*dashboards.TALLIED[:3])
                .annotate(total=Count("id"), controls=Sum("controls_count"), runs=Sum("control_runs"))
                .values_list(*dashboards.TALLIED)
            )
            counts = dashboards.institution_counts(user, year=2026, node=node)
            assert counts == expected, (name, node)
            assert sum(counts.bands.values()) == visible.count(), (name, node)
    assert sum(dashboards.institution_counts(w.superior, year=2026, node=None).bands.values()) >= 8


@pytest.mark.django_db
def test_the_legend_names_the_schemes_of_the_institutions_on_the_page(client, county, monkeypatch):
    """The roll-up's legend explains the rows shown: one page's institutions' schemes, not the scope's."""
    client.force_login(county.superior)
    monkeypatch.setattr("risk_registry.dashboards.COMPARISON_PAGE", 1)
    with_points = set(
        RiskPoint.objects.filter(year=2026)
        .exclude(state=RiskPointState.DRAFT)
        .values_list("institution__name", flat=True)
    )
    named_in_all = set()
    for number in (1, 2, 3):
        page = client.get(f"/dashboards/oversight/?year=2026&page={number}").content.decode()
        shown = set(
            re.findall(r'data-testid="comparison-row" data-code="[^"]+">\s*<th scope="row"><a [^>]*>([^<]+)<', page)
        )
        legend = re.search(r'data-testid="band-legend">(.*?)</div>', page, re.S)
        named = set(re.findall(r"（([^（）]+)）</span></li>", legend.group(1))) if legend else set()
        named = {name for names in named for name in names.split("、")}
        assert named <= shown, number  # only the rows of this page
        assert named == shown & with_points, number  # every one of them that has points
        named_in_all |= named
    assert named_in_all == with_points


def _grouped_by_hand(points) -> dict[tuple, tuple[int, ...]]:
    """The visible points grouped by the charts' keys, with what to watch, in one plain query."""
    counted = {"total": Count("id"), **{name: Count("id", filter=q) for name, q in dashboards.WATCHED.items()}}
    return {
        tuple(row[name] for name in dashboards.SPREAD): tuple(row[name] for name in counted)
        for row in points.order_by().values(*dashboards.SPREAD).annotate(**counted)
    }


def _summed(groups: dashboards.Groups) -> dict[tuple, tuple[int, ...]]:
    summed: dict[tuple, tuple[int, ...]] = {}
    for row in groups.rows:
        key = tuple(row[name] for name in dashboards.SPREAD)
        figures = (row["total"], *(row[name] for name in dashboards.WATCHED))
        summed[key] = tuple(a + b for a, b in zip(summed.get(key, (0,) * len(figures)), figures, strict=True))
    return summed


@pytest.mark.django_db
def test_the_whole_scopes_charts_from_the_stored_rows_equal_the_visible_points_grouped(county):
    """``Groups.overseen`` (the charts' stored rows of what the reader oversees, and the reader's
    other points one by one) counts what ``risk_points_visible_to`` gives, grouped by every chart's
    key with what to watch, for every persona; and after a power item's category changes (the
    category is the item's: no point is written) and a point's power item does."""
    w = county
    _point(w, likelihood=3, severity=1)  # a department's point: no post
    _point(w, institution=w.b, department=w.dept_b, likelihood=1, severity=1)  # bureau B
    _point(w, likelihood=1, severity=1, state=RiskPointState.DRAFT)  # a draft of the head's department
    membership_grant(user=w.outsider, institution=w.a, role=Role.DEPT_HEAD, department=w.dept)
    membership_grant(user=w.discipline, institution=w.a, role=Role.DEPT_HEAD, department=w.dept)
    personas = ("superior", "discipline", "outsider", "leader", "principal", "head", "holder", "holder3", "nobody")

    def check() -> None:
        for name in personas:
            user = getattr(w, name)
            forget_scope(user)
            visible = access.risk_points_visible_to(user).filter(year=2026)
            assert _summed(dashboards.Groups.overseen(user, year=2026)) == _grouped_by_hand(visible), name

    check()
    category = w.power.category_id
    other = PowerCategory.objects.exclude(pk=category).order_by("pk").first()
    PowerItem.objects.filter(pk=w.power.pk).update(category=other)
    check()
    superior = {
        row["power_item__category_id"]: row["total"]
        for row in dashboards.Groups.overseen(w.superior, year=2026).by("power_item__category_id")
    }
    assert superior.get(other.pk) == 1 and category not in superior  # the submitted point on the item moved
    RiskPoint.objects.filter(pk=w.finance_point.pk).update(power_item=w.power)
    check()
    with CaptureQueriesContext(connection) as queries:
        dashboards.Groups.overseen(w.superior, year=2026)
    assert len(queries.captured_queries) == 1  # an office that only oversees: the stored rows alone
