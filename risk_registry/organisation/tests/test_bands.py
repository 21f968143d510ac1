"""The county-wide band (高 / 中 / 低) under every scheme's own labels."""

import pytest

from risk_registry.organisation.models import (
    Band,
    GradeLevel,
    GradingScheme,
    Institution,
    band_order_expression,
    level_band,
)
from risk_registry.organisation.presets import GRADING_PRESETS, default_band, with_bands
from risk_registry.organisation.services import grading_scheme_adopt_preset, institution_create

pytestmark = pytest.mark.django_db


def test_default_band_rule_top_high_bottom_low_rest_medium():
    assert [default_band(p, 3) for p in (1, 2, 3)] == ["high", "medium", "low"]
    assert [default_band(p, 4) for p in (1, 2, 3, 4)] == ["high", "medium", "medium", "low"]
    assert [default_band(p, 2) for p in (1, 2)] == ["high", "low"]
    assert default_band(1, 1) == "high"


def test_with_bands_keeps_a_level_s_own_band():
    levels = [{"code": "x", "rank": 2}, {"code": "y", "rank": 1, "band": "medium"}, {"code": "z", "rank": 3}]
    assert [level["band"] for level in with_bands(levels)] == ["medium", "medium", "low"]


def test_presets_carry_bands_by_rank_whatever_the_label():
    """三级 is 高 in the 三级-highest preset and 低 in the 一级-highest one."""
    bands = {
        (level.scheme.code, level.name): level.band
        for level in GradeLevel.objects.filter(scheme__institution=None).select_related("scheme")
    }
    assert bands[("level-3-highest", "三级")] == Band.HIGH
    assert bands[("level-1-highest", "三级")] == Band.LOW
    assert bands[("level-1-highest", "一级")] == Band.HIGH
    assert bands[("level-3-highest", "一级")] == Band.LOW
    assert [bands[("abc", name)] for name in ("A级", "B级", "C级")] == ["high", "medium", "low"]
    assert [bands[("four-levels", name)] for name in ("高危", "严重", "中等", "低危")] == [
        "high",
        "medium",
        "medium",
        "low",
    ]
    assert len(bands) == sum(len(preset["levels"]) for preset in GRADING_PRESETS)


def test_an_adopted_copy_has_the_preset_s_bands():
    institution = institution_create(name="某局", code="band-copy", kind=Institution.Kind.BUREAU)
    scheme = grading_scheme_adopt_preset(institution=institution, preset_code="level-3-highest")
    assert dict(scheme.levels.values_list("name", "band")) == {"三级": "high", "二级": "medium", "一级": "low"}


def test_sort_key_and_sql_order_agree_across_schemes():
    levels = list(GradeLevel.objects.filter(scheme__institution=None))
    by_python = [level.pk for level in sorted(levels, key=lambda level: (level.sort_key, level.pk))]
    by_sql = list(
        GradeLevel.objects.filter(scheme__institution=None)
        .order_by(band_order_expression("band"), "rank", "pk")
        .values_list("pk", flat=True)
    )
    assert by_python == by_sql
    top = GradeLevel.objects.get(scheme__code="level-3-highest", scheme__institution=None, code="3")
    assert level_band(top) == (Band.HIGH, (1, 1))
    assert GradingScheme.objects.filter(institution=None).count() == len(GRADING_PRESETS)
