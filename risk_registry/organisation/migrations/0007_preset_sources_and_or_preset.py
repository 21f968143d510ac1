"""Presets cite their source documents by title, and 篇2's OR scheme ships as its own preset.

The sources of the presets and of every institution's copy that still carries a preset's old
source text (which cited file numbers, one of them a document the preset does not come from)
are rewritten to the preset's current source; ``install_defaults`` adds the missing preset.
"""

from django.db import migrations

from risk_registry.organisation.presets import GRADING_PRESETS, install_defaults

OLD_SOURCES = {
    "level-1-highest": "seed 003 / seed 004 篇2: XX县区环保局廉政风险点分类分级说明",
    "level-3-highest": "seed 002: 酒泉市工商行政管理系统廉政风险点防范管理工作实施方案",
    "abc": "seed 000: A级由纪检监察机关直接监管,B级由派驻纪检组协助主要负责人监管,C级由分管领导监管",
    "four-levels": "seed 001: 按照高危、严重、中等、低危等4个风险等级综合评定控制风险",
}


def cite_by_title(apps, schema_editor):
    GradingScheme = apps.get_model("organisation", "GradingScheme")
    current = {preset["code"]: preset["source"] for preset in GRADING_PRESETS}
    for code, old in OLD_SOURCES.items():
        GradingScheme.objects.filter(code=code, source=old).update(source=current[code])
    install_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("organisation", "0006_grade_level_band"),
        ("positions", "0001_initial"),  # install_defaults also fills the power categories
    ]

    operations = [migrations.RunPython(cite_by_title, migrations.RunPython.noop)]
