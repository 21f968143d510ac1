"""The default warning channels (seed 001 二(一)1 and seed 003 (三)三) and the default grade scale
(seed 001 二(一)2): rows without institution.

An institution that defines its own channels uses only those (organisation.selectors.vocabulary_for).
信访举报 is confidential: its source and facts stay with the item's handlers.
"""

from __future__ import annotations

# (code, name, confidential)
DEFAULT_CHANNELS: tuple[tuple[str, str, bool], ...] = (
    ("petition", "信访举报", True),
    ("special_inspection", "专项检查", False),
    ("unannounced_visit", "暗访督察", False),
    ("inspection_tour", "巡察监督", False),
    ("audit", "审计监督", False),
    ("case_review", "案件检查", False),
    ("big_data", "大数据分析", False),
    ("external_report", "外部通报", False),
    ("appraisal_result", "考核结果", False),
    ("personal_report", "个人有关事项报告", False),
    ("cadre_publicity", "干部选拔公示", False),
    ("questionnaire", "问卷调查", False),
    ("regulated_rating", "监管对象测评", False),
)


def install_default_channels(apps) -> None:
    """Create the default channels that are missing (a migration, and tests after a flush)."""
    channel = apps.get_model("integrity_warnings", "WarningChannel")
    existing = set(channel.objects.filter(institution__isnull=True).values_list("code", flat=True))
    channel.objects.bulk_create(
        [
            channel(institution=None, code=code, name=name, confidential=confidential, order=order)
            for order, (code, name, confidential) in enumerate(DEFAULT_CHANNELS, start=1)
            if code not in existing
        ]
    )


# The default warning grade scale (seed 001 二(一)2, the leadership-post study): (label, rank, band).
# 一级 is the most serious; the bands put it on the risk levels' county-wide 高/中/低 scale.
DEFAULT_GRADES: tuple[tuple[str, int, str], ...] = (
    ("一级", 1, "high"),
    ("二级", 2, "medium"),
    ("三级", 3, "low"),
)


def install_default_grades(apps) -> None:
    """Create the default scale's missing levels (a migration, and tests after a flush)."""
    grade = apps.get_model("integrity_warnings", "WarningGrade")
    existing = set(grade.objects.filter(institution__isnull=True).values_list("rank", flat=True))
    grade.objects.bulk_create(
        [
            grade(institution=None, label=label, rank=rank, band=band)
            for label, rank, band in DEFAULT_GRADES
            if rank not in existing
        ]
    )
