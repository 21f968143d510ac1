"""One county, four grading schemes: the common rank (band 高/中/低, then rank) in lists, filters,
sorting, exports and the superior's home.

Under the shared world's county (whose superior sees the whole subtree) four institutions grade
differently: 市场监督管理局 三级-highest, 生态环境局 一级-highest, 青石镇 A/B/C and, under the town,
石桥村 高危/严重/中等/低危. Each has one submitted point per level of its scheme, described
"<institution>·<level>".
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from django.utils.http import urlencode
from openpyxl import load_workbook

from risk_registry.models import RiskPoint, RiskPointState
from risk_registry.organisation.models import GradeLevel, Institution
from risk_registry.organisation.services import department_create, grading_scheme_adopt_preset, institution_create
from risk_registry.selectors import RiskPointFilters, current_year, risk_points_for_list
from risk_registry.tests.documents_helpers import pdf_text
from risk_registry.web.pagination import seriousness_page

UNITS = (
    ("market", "市场监督管理局", "level-3-highest", None),
    ("ecology", "生态环境局", "level-1-highest", None),
    ("town", "青石镇", "abc", None),
    ("village", "石桥村", "four-levels", "town"),
)
# Every point of the four, the most serious first: band, then rank within the scheme (label never).
HIGH = {"市场监督管理局·三级", "生态环境局·一级", "青石镇·A级", "石桥村·高危"}
MEDIUM_RANK_2 = {"市场监督管理局·二级", "生态环境局·二级", "青石镇·B级", "石桥村·严重"}
MEDIUM_RANK_3 = {"石桥村·中等"}
LOW = {"市场监督管理局·一级", "生态环境局·三级", "青石镇·C级", "石桥村·低危"}


@pytest.fixture
def county(world):
    units: dict[str, Institution] = {}
    for code, name, preset, parent in UNITS:
        parent_unit = units[parent] if parent else world.county
        unit = institution_create(code=code, name=name, kind=Institution.Kind.BUREAU, parent=parent_unit)
        grading_scheme_adopt_preset(institution=unit, preset_code=preset)
        department = department_create(institution=unit, name="综合股")
        for level in GradeLevel.objects.filter(scheme=unit.grading_scheme):
            RiskPoint.objects.create(
                institution=unit,
                department=department,
                year=current_year(),
                risk_type=world.risk_type,
                description=f"{name}·{level.name}",
                likelihood=1,
                severity=1,
                level=level,
                state=RiskPointState.SUBMITTED,
            )
        units[code] = unit
    return units


def _ours(points) -> list[str]:
    return [p.description for p in points if "·" in p.description]


def _listed(world, **filters) -> set[str]:
    return set(
        _ours(risk_points_for_list(user=world.superior, filters=RiskPointFilters(year=current_year(), **filters)))
    )


def test_band_filter_means_the_same_seriousness_in_every_scheme(world, county):
    assert _listed(world, band="high") == HIGH
    assert _listed(world, band="medium") == MEDIUM_RANK_2 | MEDIUM_RANK_3
    assert _listed(world, band="low") == LOW


def test_serious_first_sorts_by_band_then_rank_across_pages(world, county):
    points = risk_points_for_list(user=world.superior, filters=RiskPointFilters(year=current_year())).filter(
        institution__in=county.values()
    )
    seen, after = [], None
    while True:  # pages of three: the keyset must carry band and rank, not only the id
        page = seriousness_page(points, after=after, size=3)
        seen += _ours(page.rows)
        if page.next_after is None:
            break
        after = str(page.next_after)
    assert len(seen) == len(set(seen)) == 13
    assert set(seen[:4]) == HIGH
    assert set(seen[4:8]) == MEDIUM_RANK_2
    assert set(seen[8:9]) == MEDIUM_RANK_3
    assert set(seen[9:]) == LOW


def test_list_page_shows_label_and_band_filters_by_band_and_has_the_legend(world, county, login):
    client = login(world.superior)
    response = client.get(reverse("risk_point_list"), {"band": "high", "order": "serious"})
    html = response.content.decode()

    assert response.status_code == 200
    for description in HIGH:
        assert description in html
    for description in LOW | MEDIUM_RANK_2:
        assert description not in html
    assert "第3级" not in html and "1为最高" not in html  # the filter that mixed meanings is gone
    assert 'name="band"' in html and 'name="level"' not in html
    legend = html[html.index('data-testid="band-legend"') :]
    for scheme in ("三级分级(三级最高)", "三级分级(一级最高)", "A/B/C 三级", "四级(高危/严重/中等/低危)"):
        assert scheme in legend
    for unit in ("市场监督管理局", "生态环境局", "青石镇", "石桥村"):
        assert unit in legend
    row = html[html.index("市场监督管理局·三级") :]
    assert row.index(">三级<") < row.index('data-testid="band">高<')


def test_one_institution_offers_its_own_levels_by_name(world, county, login):
    client = login(world.superior)
    html = client.get(reverse("risk_point_list"), {"institution": "market"}).content.decode()

    level_select = html[html.index('name="level"') :]
    level_select = level_select[: level_select.index("</select>")]
    assert [">三级<", ">二级<", ">一级<"] == [t for t in (">三级<", ">二级<", ">一级<") if t in level_select]
    assert level_select.index(">三级<") < level_select.index(">一级<")  # most serious first


def _columns(rows: list[tuple]) -> list:
    """The column names: the header row, with the lower row of a grouped header where it has one."""
    at = next(i for i, row in enumerate(rows) if "单位" in row)
    top, below = rows[at], rows[at + 1]
    if isinstance(below[0], int):  # no second header row
        return list(top)
    return [low if low is not None else high for high, low in zip(top, below, strict=True)]


def _export(client, fmt: str, form: str = "overview", **filters) -> bytes:
    response = client.post(
        reverse("documents_export"),
        {"form": form, "format": fmt, "filters": urlencode({"year": current_year(), **filters})},
    )
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "form",
    [
        "unit-register",
        "department-register",
        "personal-register",
        "overview",
        "personal-finding",
        "department-finding",
        "personal-control",
        "department-control",
    ],
)
def test_every_multi_institution_export_has_a_unit_column_the_band_and_the_legend(world, county, login, form):
    client = login(world.superior)
    workbook = load_workbook(io.BytesIO(_export(client, "xlsx", form=form, band="high")))
    assert len(workbook.worksheets) == 1  # one table: sections by department would mix institutions
    rows = [row for row in workbook.worksheets[0].iter_rows(values_only=True)]
    header = _columns(rows)
    unit, band = header.index("单位"), header.index("全县分档")
    data = [row for row in rows if isinstance(row[0], int)]
    assert data and {row[band] for row in data} == {"高"}
    if not form.startswith("personal"):  # personal forms hold post-level points: the four have none
        assert {row[unit] for row in data} >= {"市场监督管理局", "生态环境局", "青石镇", "石桥村"}
    text = "\n".join(str(row[0]) for row in rows if row[0])
    assert "分级方案图例" in text
    assert "三级分级(三级最高)：三级=高、二级=中、一级=低（市场监督管理局）" in text
    assert "三级分级(一级最高)：一级=高、二级=中、三级=低" in text
    assert "四级(高危/严重/中等/低危)：高危=高、严重=中、中等=中、低危=低（石桥村）" in text


def test_multi_institution_export_rows_run_from_the_most_serious(world, county, login):
    client = login(world.superior)
    rows = list(load_workbook(io.BytesIO(_export(client, "xlsx"))).worksheets[0].iter_rows(values_only=True))
    header = _columns(rows)
    description, band = header.index("风险点描述"), header.index("全县分档")
    data = [row for row in rows if isinstance(row[0], int) and "·" in str(row[description])]
    assert [row[band] for row in data] == ["高"] * 4 + ["中"] * 5 + ["低"] * 4
    assert {row[description] for row in data[4:8]} == MEDIUM_RANK_2  # rank 2 before 中等 (rank 3)


def test_multi_institution_pdf_has_the_unit_column_and_the_legend(world, county, login):
    client = login(world.superior)
    text = pdf_text(_export(client, "pdf", band="low"))
    squashed = "".join(text.split())
    assert "单位" in squashed and "全县分档" in squashed and "分级方案图例" in squashed
    assert "石桥村·低危" in squashed and "三级=高、二级=中、一级=低" in squashed


def test_one_institution_s_register_has_no_unit_column(world, county, login):
    client = login(world.superior)
    rows = list(
        load_workbook(io.BytesIO(_export(client, "xlsx", institution="market")))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert not any("全县分档" in row for row in rows)
    assert "分级方案图例" not in "\n".join(str(row[0]) for row in rows if row[0])


def test_the_superior_s_home_lists_every_institution_of_its_subtree_with_bands(world, county, login):
    """Villages sit two levels under the county: the home page used to list direct subordinates only."""
    client = login(world.superior)
    html = client.get(reverse("home")).content.decode()
    table = html[html.index('data-testid="oversight"') :]
    table = table[: table.index("</table>")]
    for name in ("某县纪委监委", "甲局", "乙局", "市场监督管理局", "生态环境局", "青石镇", "石桥村"):
        assert name in table
    assert f"?institution=village&band=high&year={current_year()}" in table


def test_an_institution_page_counts_its_levels_with_their_bands(world, county, login):
    client = login(world.superior)
    html = client.get(reverse("institution_detail", args=["market"])).content.decode()
    counts = html[html.index("风险点等级分布") :]
    assert counts.index(">三级<") < counts.index(">一级<")  # 三级 is this scheme's most serious
    assert 'data-testid="band">高<' in counts and 'data-testid="band">低<' in counts
