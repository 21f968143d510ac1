"""Default data from the seeds: the five grading presets, risk types and power categories.

Pure data (no models imported), so the data migrations and the tests share it.
Matrices: one row per likelihood (lowest first), one column per severity (lowest first).

Each preset's ``source`` names the document it comes from by its title (never a file number) and
says which part the product added: the A/B/C and 高危/严重/中等/低危 sources grade posts, not single
points, so their likelihood × severity matrices are the product's own.
"""

from typing import Any

# The source documents, by title (see /work/shared/seeds).
SOURCE_TOWNSHIP_PLAN = "《风险防控机制建设方案》(精选6篇)"
SOURCE_ECOLOGY_RULES = "《环保局廉政风险防控管理工作实施细则》所附《XX县区环保局廉政风险点分类分级说明》"
SOURCE_JIUQUAN = "《酒泉市工商行政管理系统廉政风险点防范管理工作实施方案》"
SOURCE_LEADERSHIP_STUDY = "《关于单位领导班子廉政风险评估及防控体系建设的调研》"


THREE_LEVELS_SCALE = {
    "likelihood": ["可能性较小", "有一定可能", "可能性较大"],
    "severity": ["后果较轻微", "后果较严重(党纪政纪责任)", "后果严重(刑事责任或重大损失)"],
}

GRADING_PRESETS: list[dict[str, Any]] = [
    {
        "code": "level-1-highest",
        "name": "三级分级(一级最高)",
        "source": SOURCE_ECOLOGY_RULES + "(矩阵中说明未提及的格按从严原则补齐)",
        "description": (
            "发生可能性较大、后果严重(可能承担刑事责任或造成重大损失)的为一级;"
            "可能性较大、后果较严重(党纪政纪责任),以及后果严重但可能性较低的为二级;"
            "可能性较小、后果较轻微的为三级。"
        ),
        **THREE_LEVELS_SCALE,
        "levels": [
            {
                "code": "1",
                "name": "一级",
                "rank": 1,
                "colour": "#c62828",
                "supervisor_role": "leadership",
                "supervision": "单位主要领导和纪检组织重点监控",
            },
            {
                "code": "2",
                "name": "二级",
                "rank": 2,
                "colour": "#ef6c00",
                "supervisor_role": "leadership",
                "supervision": "分管领导监控",
            },
            {
                "code": "3",
                "name": "三级",
                "rank": 3,
                "colour": "#2e7d32",
                "supervisor_role": "dept_head",
                "supervision": "科室负责人监控",
            },
        ],
        "matrix": [
            ["3", "3", "2"],
            ["3", "2", "2"],
            ["3", "2", "1"],
        ],
    },
    {
        # 篇2 defines each level with OR: 一级 is a likely risk *or* one with severe consequences, so
        # a cell takes the more serious of what its likelihood and its severity say alone.
        "code": "level-1-highest-or",
        "name": "三级分级(一级最高,概率或后果)",
        "source": SOURCE_TOWNSHIP_PLAN + "篇2(监控责任该篇未按等级规定,留空)",
        "description": (
            "一级风险是发生机率高的风险,或者一旦发生可能造成严重损害后果的风险(可能触犯法律、构成犯罪);"
            "二级风险是发生机率较高的风险,或者一旦发生可能造成较为严重损害后果的风险(可能受到纪律处分);"
            "三级风险是发生机率较小的风险,或者一旦发生可能造成不良社会影响或一定经济损失的风险。"
        ),
        "likelihood": ["发生机率较小", "发生机率较高", "发生机率高"],
        "severity": ["不良社会影响或一定经济损失", "较为严重损害后果(纪律处分)", "严重损害后果(构成犯罪)"],
        "levels": [
            {
                "code": "1",
                "name": "一级",
                "rank": 1,
                "colour": "#c62828",
                "supervisor_role": "leadership",
                "supervision": "",
            },
            {
                "code": "2",
                "name": "二级",
                "rank": 2,
                "colour": "#ef6c00",
                "supervisor_role": "leadership",
                "supervision": "",
            },
            {
                "code": "3",
                "name": "三级",
                "rank": 3,
                "colour": "#2e7d32",
                "supervisor_role": "dept_head",
                "supervision": "",
            },
        ],
        "matrix": [
            ["3", "2", "1"],
            ["2", "2", "1"],
            ["1", "1", "1"],
        ],
    },
    {
        "code": "level-3-highest",
        "name": "三级分级(三级最高)",
        "source": SOURCE_JIUQUAN,
        "description": (
            "发生概率高、危害严重的定为三级,由党组和纪检监察部门重点监控;"
            "概率低、危害较严重的定为二级,由主管领导监控;"
            "概率较低、危害轻微的定为一级,由处(科)室领导或主管责任人监控。"
        ),
        **THREE_LEVELS_SCALE,
        "levels": [
            {
                "code": "3",
                "name": "三级",
                "rank": 1,
                "colour": "#c62828",
                "supervisor_role": "discipline",
                "supervision": "党组和纪检监察部门重点监控",
            },
            {
                "code": "2",
                "name": "二级",
                "rank": 2,
                "colour": "#ef6c00",
                "supervisor_role": "leadership",
                "supervision": "主管领导监控",
            },
            {
                "code": "1",
                "name": "一级",
                "rank": 3,
                "colour": "#2e7d32",
                "supervisor_role": "dept_head",
                "supervision": "处(科)室领导或主管责任人监控",
            },
        ],
        "matrix": [
            ["1", "2", "2"],
            ["1", "2", "2"],
            ["1", "2", "3"],
        ],
    },
    {
        "code": "abc",
        "name": "A/B/C 三级",
        "source": SOURCE_TOWNSHIP_PLAN + "篇5(等级与监管分工;该篇按岗位分级,风险点的概率×危害矩阵为本系统补充)",
        "description": "A级:领导班子和重点岗位的高风险;B级:中等风险;C级:一般风险。",
        **THREE_LEVELS_SCALE,
        "levels": [
            {
                "code": "A",
                "name": "A级",
                "rank": 1,
                "colour": "#c62828",
                "supervisor_role": "discipline",
                "supervision": "纪检监察机关直接监管",
            },
            {
                "code": "B",
                "name": "B级",
                "rank": 2,
                "colour": "#ef6c00",
                "supervisor_role": "principal",
                "supervision": "派驻纪检组协助单位主要负责人监管",
            },
            {
                "code": "C",
                "name": "C级",
                "rank": 3,
                "colour": "#2e7d32",
                "supervisor_role": "leadership",
                "supervision": "分管领导和派驻纪检组共同监管",
            },
        ],
        "matrix": [
            ["C", "C", "B"],
            ["C", "B", "A"],
            ["B", "A", "A"],
        ],
    },
    {
        "code": "four-levels",
        "name": "四级(高危/严重/中等/低危)",
        "source": SOURCE_LEADERSHIP_STUDY
        + "(四个等级名称;该文评定领导岗位的控制风险,风险点的概率×危害矩阵为本系统补充)",
        "description": "发生概率与危害程度各分四档,综合评定为高危、严重、中等、低危。",
        "likelihood": ["很少发生", "偶尔发生", "可能发生", "经常发生"],
        "severity": ["轻微", "一般", "较重", "严重"],
        "levels": [
            {
                "code": "critical",
                "name": "高危",
                "rank": 1,
                "colour": "#b71c1c",
                "supervisor_role": "discipline",
                "supervision": "纪检组织直接监管",
            },
            {
                "code": "serious",
                "name": "严重",
                "rank": 2,
                "colour": "#e65100",
                "supervisor_role": "principal",
                "supervision": "主要领导监管",
            },
            {
                "code": "moderate",
                "name": "中等",
                "rank": 3,
                "colour": "#f9a825",
                "supervisor_role": "leadership",
                "supervision": "分管领导监管",
            },
            {
                "code": "low",
                "name": "低危",
                "rank": 4,
                "colour": "#2e7d32",
                "supervisor_role": "dept_head",
                "supervision": "部门负责人监管",
            },
        ],
        "matrix": [
            ["low", "low", "moderate", "moderate"],
            ["low", "moderate", "moderate", "serious"],
            ["moderate", "moderate", "serious", "critical"],
            ["moderate", "serious", "critical", "critical"],
        ],
    },
]


def default_band(position: int, count: int) -> str:
    """The band a level gets unless its scheme says otherwise (the rule the migration filled
    existing levels with): of a scheme's ``count`` levels in rank order, the first (most serious)
    is high, the last is low, every level between them medium. So 一级/二级/三级 (whichever end is
    the top), A/B/C map to 高/中/低, and 高危/严重/中等/低危 to 高/中/中/低; a two-level scheme is
    高/低, a one-level scheme 高. ``position`` counts from 1."""
    if position == 1:
        return "high"
    if position == count:
        return "low"
    return "medium"


def with_bands(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The levels with ``band`` filled by ``default_band`` where a level does not set its own."""
    ordered = sorted(levels, key=lambda level: level["rank"])
    position = {level["code"]: index for index, level in enumerate(ordered, start=1)}
    return [
        {**level, "band": level.get("band") or default_band(position[level["code"]], len(levels))} for level in levels
    ]


RISK_TYPES = [
    ("moral", "思想道德风险"),
    ("institutional", "制度机制风险"),
    ("duty", "岗位职责风险"),
    ("process", "业务流程风险"),
    ("external", "外部环境风险"),
    ("efficiency", "工作效率风险"),
]

POWER_CATEGORIES = [
    ("approval", "行政审批(许可)"),
    ("enforcement", "行政执法(处罚、强制、征收)"),
    ("personnel", "干部人事管理"),
    ("finance", "财务资金资产管理"),
    ("other", "其他"),
]


def install_defaults(apps) -> None:
    """Create the presets and default vocabularies if missing (idempotent). ``apps`` is a model
    registry: the migration's historical one, or django.apps for tests that flushed the tables."""
    GradingScheme = apps.get_model("organisation", "GradingScheme")
    GradeLevel = apps.get_model("organisation", "GradeLevel")
    RiskType = apps.get_model("organisation", "RiskType")
    PowerCategory = apps.get_model("positions", "PowerCategory")
    for preset in GRADING_PRESETS:
        scheme, created = GradingScheme.objects.get_or_create(
            institution=None,
            code=preset["code"],
            defaults={
                "name": preset["name"],
                "description": preset["description"],
                "source": preset["source"],
                "likelihood_labels": preset["likelihood"],
                "severity_labels": preset["severity"],
                "matrix": preset["matrix"],
            },
        )
        if created:
            # The band arrived after 0002: the historical model of that migration has no such field.
            has_band = any(field.name == "band" for field in GradeLevel._meta.get_fields())
            for level in with_bands(preset["levels"]) if has_band else preset["levels"]:
                GradeLevel.objects.create(scheme=scheme, **level)
    for order, (code, name) in enumerate(RISK_TYPES, start=1):
        RiskType.objects.get_or_create(institution=None, code=code, defaults={"name": name, "order": order})
    for order, (code, name) in enumerate(POWER_CATEGORIES, start=1):
        PowerCategory.objects.get_or_create(institution=None, code=code, defaults={"name": name, "order": order})
