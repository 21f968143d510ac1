"""The five grading presets of risk_registry.organisation.presets, as the data migration stores them.

Each table below is written out by hand from the seeds' rules, not copied from the matrices.
Scales: likelihood 1 = 可能性较小 … 3 = 可能性较大; severity 1 = 较轻微, 2 = 较严重(党纪政纪责任),
3 = 严重(刑事责任或重大损失). Cells the seeds leave open are marked "open": the expected value
is what presets.py decides, so a change to it is a deliberate change of the preset.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from risk_registry.organisation.models import GradingScheme, Institution, Role
from risk_registry.organisation.presets import GRADING_PRESETS
from risk_registry.organisation.services import grade_level_for, grading_scheme_adopt_preset, institution_create

# 《XX县区环保局廉政风险点分类分级说明》 (the ecology bureau's rules): 一级 = 可能性较大 and
# 后果严重; 二级 = 可能性较大 and 后果较严重, or 后果严重 but
# 可能性较低; 三级 = 可能性较小 and 后果较轻微.
LEVEL_1_HIGHEST = {
    (3, 3): "一级",
    (3, 2): "二级",
    (1, 3): "二级",
    (2, 3): "二级",  # severe, likelihood "较低" than 较大
    (1, 1): "三级",
    (1, 2): "三级",  # open: unlikely, party/administrative discipline
    (2, 1): "三级",  # open
    (2, 2): "二级",  # open
    (3, 1): "三级",  # open: likely but minor
}

# 篇2 of 《风险防控机制建设方案》 defines each level with OR: 一级 = 发生机率高 *or* 严重损害后果
# (构成犯罪); 二级 = 机率较高 *or* 较为严重后果 (纪律处分); 三级 = 机率较小 or 不良影响/一定损失.
# So a cell is the more serious of what its likelihood and its severity say alone; no cell is open.
# Likelihood 1 = 较小, 2 = 较高, 3 = 高; severity 1 = 不良影响, 2 = 纪律处分, 3 = 犯罪.
LEVEL_1_HIGHEST_OR = {
    (3, 1): "一级",  # likely but minor: 一级 by its likelihood alone
    (3, 2): "一级",
    (3, 3): "一级",
    (1, 3): "一级",  # unlikely but criminal: 一级 by its consequence alone
    (2, 3): "一级",
    (2, 1): "二级",
    (2, 2): "二级",
    (1, 2): "二级",
    (1, 1): "三级",
}

# seed 002 (Jiuquan): 三级 = 概率高 and 危害严重; 二级 = 概率低 and 危害较严重; 一级 = 概率较低 and 危害轻微.
LEVEL_3_HIGHEST = {
    (3, 3): "三级",
    (1, 2): "二级",
    (1, 1): "一级",
    (2, 1): "一级",
    (1, 3): "二级",  # open: severe but unlikely
    (2, 2): "二级",  # open
    (2, 3): "二级",  # open
    (3, 1): "一级",  # open: likely but minor
    (3, 2): "二级",  # open
}

# seed 000 names A/B/C and who watches them but gives no matrix: every cell is open. presets.py
# grades by likelihood + severity: 5 or more → A, 4 → B, 3 or less → C.
ABC = {
    (1, 1): "C级",
    (1, 2): "C级",
    (2, 1): "C级",
    (1, 3): "B级",
    (2, 2): "B级",
    (3, 1): "B级",
    (2, 3): "A级",
    (3, 2): "A级",
    (3, 3): "A级",
}

# seed 001 names the four levels 高危/严重/中等/低危 without a matrix: every cell is open. presets.py
# grades by likelihood + severity on 4 × 4: 3 or less → 低危, 4–5 → 中等, 6 → 严重, 7 or more → 高危.
FOUR_LEVELS = {
    (1, 1): "低危",
    (1, 2): "低危",
    (2, 1): "低危",
    (1, 3): "中等",
    (1, 4): "中等",
    (2, 2): "中等",
    (2, 3): "中等",
    (3, 1): "中等",
    (3, 2): "中等",
    (4, 1): "中等",
    (2, 4): "严重",
    (3, 3): "严重",
    (4, 2): "严重",
    (3, 4): "高危",
    (4, 3): "高危",
    (4, 4): "高危",
}

TABLES = {
    "level-1-highest": LEVEL_1_HIGHEST,
    "level-1-highest-or": LEVEL_1_HIGHEST_OR,
    "level-3-highest": LEVEL_3_HIGHEST,
    "abc": ABC,
    "four-levels": FOUR_LEVELS,
}

# (name, rank, supervising role) in rank order: rank 1 is the most serious level.
LEVELS = {
    "level-1-highest": [("一级", 1, Role.LEADERSHIP), ("二级", 2, Role.LEADERSHIP), ("三级", 3, Role.DEPT_HEAD)],
    "level-1-highest-or": [("一级", 1, Role.LEADERSHIP), ("二级", 2, Role.LEADERSHIP), ("三级", 3, Role.DEPT_HEAD)],
    "level-3-highest": [("三级", 1, Role.DISCIPLINE), ("二级", 2, Role.LEADERSHIP), ("一级", 3, Role.DEPT_HEAD)],
    "abc": [("A级", 1, Role.DISCIPLINE), ("B级", 2, Role.PRINCIPAL), ("C级", 3, Role.LEADERSHIP)],
    "four-levels": [
        ("高危", 1, Role.DISCIPLINE),
        ("严重", 2, Role.PRINCIPAL),
        ("中等", 3, Role.LEADERSHIP),
        ("低危", 4, Role.DEPT_HEAD),
    ],
}

CELLS = [(code, pair, name) for code, table in TABLES.items() for pair, name in table.items()]


def _preset(code: str) -> GradingScheme:
    return GradingScheme.objects.prefetch_related("levels").get(institution=None, code=code)


def _level_name(scheme: GradingScheme, likelihood: int, severity: int) -> str:
    return scheme.levels.get(code=scheme.level_code_for(likelihood, severity)).name


def test_the_tables_cover_every_cell_of_every_preset():
    assert set(TABLES) == {preset["code"] for preset in GRADING_PRESETS}
    for preset in GRADING_PRESETS:
        cells = {
            (li, s) for li in range(1, len(preset["likelihood"]) + 1) for s in range(1, len(preset["severity"]) + 1)
        }
        assert set(TABLES[preset["code"]]) == cells, preset["code"]


@pytest.mark.django_db
def test_the_migration_stores_exactly_the_five_presets():
    assert set(GradingScheme.objects.filter(institution=None).values_list("code", flat=True)) == set(TABLES)


@pytest.mark.django_db
@pytest.mark.parametrize("code", list(TABLES))
def test_preset_row_matches_presets_py(code):
    definition = next(p for p in GRADING_PRESETS if p["code"] == code)
    scheme = _preset(code)

    assert (scheme.name, scheme.source, scheme.description) == (
        definition["name"],
        definition["source"],
        definition["description"],
    )
    assert scheme.likelihood_labels == definition["likelihood"]
    assert scheme.severity_labels == definition["severity"]
    assert scheme.matrix == definition["matrix"]
    assert list(scheme.levels.values("code", "name", "rank", "colour", "supervisor_role", "supervision")) == [
        {key: level[key] for key in ("code", "name", "rank", "colour", "supervisor_role", "supervision")}
        for level in definition["levels"]
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("code", list(TABLES))
def test_preset_levels_rank_one_most_serious_with_their_supervising_roles(code):
    scheme = _preset(code)

    assert [(lv.name, lv.rank, lv.supervisor_role) for lv in scheme.levels.order_by("rank")] == LEVELS[code]


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "pair", "expected"), CELLS, ids=[f"{c}-{li}x{s}" for c, (li, s), _ in CELLS])
def test_preset_grades_the_cell(code, pair, expected):
    assert _level_name(_preset(code), *pair) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("code", list(TABLES))
def test_an_adopted_copy_grades_every_cell_like_the_table(code):
    institution = institution_create(code="adopter", name="采用单位", kind=Institution.Kind.BUREAU)
    grading_scheme_adopt_preset(institution=institution, preset_code=code)

    graded = {
        pair: grade_level_for(institution=institution, likelihood=pair[0], severity=pair[1]).name
        for pair in TABLES[code]
    }

    assert graded == TABLES[code]


@pytest.mark.django_db
@pytest.mark.parametrize("code", list(TABLES))
def test_a_higher_likelihood_or_severity_never_gives_a_less_serious_level(code):
    scheme = _preset(code)
    rank = {lv.code: lv.rank for lv in scheme.levels.all()}
    rows, columns = len(scheme.likelihood_labels), len(scheme.severity_labels)

    for li in range(1, rows + 1):
        for s in range(1, columns + 1):
            here = rank[scheme.level_code_for(li, s)]
            if li < rows:
                assert rank[scheme.level_code_for(li + 1, s)] <= here
            if s < columns:
                assert rank[scheme.level_code_for(li, s + 1)] <= here
    assert rank[scheme.level_code_for(rows, columns)] == 1


@pytest.mark.django_db
@pytest.mark.parametrize("code", list(TABLES))
def test_a_likelihood_or_severity_outside_the_scale_is_refused(code):
    scheme = _preset(code)
    top_l, top_s = len(scheme.likelihood_labels), len(scheme.severity_labels)

    for likelihood, severity in [(0, 1), (-1, 1), (top_l + 1, 1), (1, 0), (1, -1), (1, top_s + 1)]:
        with pytest.raises(ValidationError):
            scheme.level_code_for(likelihood, severity)


# --- GradingScheme.clean --------------------------------------------------------------------


@pytest.fixture
def adopted(db):
    institution = institution_create(code="adopter", name="采用单位", kind=Institution.Kind.BUREAU)
    return grading_scheme_adopt_preset(institution=institution, preset_code="level-1-highest")


def test_clean_accepts_an_adopted_preset(adopted):
    adopted.clean()  # no exception


@pytest.mark.parametrize(
    "matrix",
    [
        [["3", "3", "2"], ["3", "2", "2"]],  # a row missing
        [["3", "3", "2"], ["3", "2", "2"], ["3", "2", "1"], ["1", "1", "1"]],  # a row too many
        [["3", "3"], ["3", "2", "2"], ["3", "2", "1"]],  # a short row
        [["3", "3", "2", "1"], ["3", "2", "2"], ["3", "2", "1"]],  # a long row
        [],
    ],
)
def test_clean_rejects_a_matrix_of_the_wrong_shape(adopted, matrix):
    adopted.matrix = matrix

    with pytest.raises(ValidationError) as excinfo:
        adopted.clean()

    assert excinfo.value.messages == [_("The matrix must have one row per likelihood and one column per severity.")]


def test_clean_rejects_a_scale_of_fewer_than_two_steps(adopted):
    adopted.likelihood_labels = ["唯一"]
    adopted.matrix = [["3", "2", "1"]]

    with pytest.raises(ValidationError) as excinfo:
        adopted.clean()

    assert excinfo.value.messages == [_("A scheme needs at least two likelihoods and two severities.")]


def test_clean_rejects_unknown_level_codes(adopted):
    adopted.matrix = [["3", "3", "2"], ["3", "X", "2"], ["3", "2", "A"]]

    with pytest.raises(ValidationError) as excinfo:
        adopted.clean()

    assert "A, X" in str(excinfo.value)


def test_clean_rejects_a_level_code_of_another_scheme(adopted):
    adopted.matrix = [["low", "3", "2"], ["3", "2", "2"], ["3", "2", "1"]]  # "low" is a four-levels code

    with pytest.raises(ValidationError, match="low"):
        adopted.clean()


def test_no_preset_cites_a_file_number_or_a_seed():
    """User-facing text names a source document by its title."""
    for preset in GRADING_PRESETS:
        assert "seed" not in preset["source"].lower(), preset["code"]
        assert "《" in preset["source"], preset["code"]


@pytest.mark.django_db
def test_the_or_preset_reaches_its_top_level_by_likelihood_alone_or_by_consequence_alone():
    scheme = _preset("level-1-highest-or")
    top = len(scheme.likelihood_labels)

    assert {_level_name(scheme, top, s) for s in range(1, top + 1)} == {"一级"}
    assert {_level_name(scheme, li, top) for li in range(1, top + 1)} == {"一级"}
    assert "或者" in scheme.description and "篇2" in scheme.source
