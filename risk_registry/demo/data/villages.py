"""Two villages below 青石镇 (seed 000 篇2): 石桥村 (four levels) and 柳塘村 (一级最高)."""

from __future__ import annotations

from risk_registry.demo.data.specs import VAGUE, InstitutionSpec, PointSpec, mon, point, pre


def _village(
    *, code: str, name: str, prefix: str, preset: str, people: list[tuple[str, str]], points: list[PointSpec]
) -> InstitutionSpec:
    """A village below 青石镇: 村两委 and 村务监督委员会, two powers, a few points."""
    usernames = [f"{prefix}.principal", f"{prefix}.leader", f"{prefix}.discipline", f"{prefix}.holder1"]
    short = name.removeprefix("青石镇")
    return {
        "code": code,
        "name": name,
        "kind": "village",
        "parent": "yunling-qsz",
        "preset": preset,
        "power_categories": [],
        "people": [(username, last, first) for username, (last, first) in zip(usernames, people, strict=True)],
        "roles": {
            "principal": [f"{prefix}.principal"],
            "leadership": [f"{prefix}.leader"],
            "discipline": [f"{prefix}.discipline"],
        },
        "rules": [
            {
                "key": "syl",
                "title": f"{short}重大事项“四议两公开”工作制度",
                "number": "",
                "effective": (2, 1, 1),
                "summary": "村党支部提议、村两委会议商议、党员大会审议、村民代表会议决议,决议和实施结果公开。",
            },
            {
                "key": "cw",
                "title": f"{short}村级财务管理制度(村账镇代管)",
                "number": "",
                "effective": (2, 1, 1),
                "summary": "村级资金由镇财政所代理记账;支出经村务监督委员会审核;每季度公开收支。",
            },
        ],
        "departments": [
            {
                "key": "lw",
                "name": "村两委",
                "kind": "leadership",
                "head": f"{prefix}.principal",
                "positions": [
                    {
                        "key": "sj",
                        "title": "村党支部书记、村委会主任",
                        "kind": "principal",
                        "key_post": True,
                        "holder": f"{prefix}.principal",
                        "since": (3, 1, 1),
                        "duties": "主持村党支部和村委会工作,组织实施“四议两公开”。",
                    },
                    {
                        "key": "fsj",
                        "title": "村党支部副书记",
                        "kind": "deputy",
                        "holder": f"{prefix}.leader",
                        "since": (3, 1, 1),
                        "duties": "负责宅基地申请初审、低保等民生事项评议组织。",
                    },
                    {
                        "key": "bzy",
                        "title": "村报账员",
                        "kind": "general",
                        "key_post": True,
                        "holder": f"{prefix}.holder1",
                        "since": (2, 4, 1),
                        "duties": "村级收支票据的收集报账,现金管理。",
                    },
                ],
            },
            {
                "key": "jwh",
                "name": "村务监督委员会",
                "kind": "office",
                "head": f"{prefix}.discipline",
                "positions": [
                    {
                        "key": "zr",
                        "title": "村务监督委员会主任",
                        "kind": "middle",
                        "holder": f"{prefix}.discipline",
                        "since": (3, 1, 1),
                        "duties": "监督村务公开和村级财务收支,审核村级支出票据。",
                    },
                ],
            },
        ],
        "rotations": [],
        "power_items": [
            {
                "key": "zj",
                "name": "村集体资金使用审批",
                "category": "finance",
                "department": "lw",
                "positions": ["lw.sj", "lw.bzy"],
                "steps": ["用款申请", "村两委会议研究", "村务监督委员会审核", "镇财政所审核拨付", "村务公开"],
                "legal_basis": "《中华人民共和国村民委员会组织法》;《农村集体经济组织财务制度》",
                "responsible_subject": f"{short}村民委员会",
                "commitment": "大额支出经村民代表会议决议;收支每季度公开。",
            },
            {
                "key": "zjd",
                "name": "宅基地建房申请村级审查",
                "category": "approval",
                "department": "lw",
                "positions": ["lw.fsj"],
                "steps": ["农户申请", "村民小组评议", "村两委审查", "村内公示", "报镇审批"],
                "legal_basis": "《中华人民共和国土地管理法》第六十二条",
                "responsible_subject": f"{short}村民委员会",
                "commitment": "村内公示不少于5日,无异议的报镇审批。",
            },
        ],
        "risk_points": points,
    }


SHIQIAO = _village(
    code="yunling-qsz-sqc",
    name="青石镇石桥村",
    prefix="sqc",
    preset="four-levels",
    people=[("石", "有福"), ("石", "文斌"), ("严", "秀英"), ("吕", "春生")],
    points=[
        point(
            "lw.sj",
            risk_type="institutional",
            found_by="public",
            likelihood=3,
            severity=4,
            description="村集体资金使用不经“四议两公开”,个人决定",
            manifestation="村级工程和大额支出由书记一人拍板,事后补会议记录。",
            power="zj",
            step="村两委会议研究",
            state="issued",
            controls=[
                pre("大额支出执行“四议两公开”", "村党支部", "each_time", "会议记录和公开照片", "syl"),
                mon("镇纪委每半年抽查村级重大事项决策", "镇纪委书记(联村)", "half_yearly", "抽查记录", "syl"),
            ],
        ),
        point(
            "lw.bzy",
            risk_type="moral",
            found_by="organisation",
            likelihood=2,
            severity=3,
            description="虚开发票套取集体资金",
            manifestation="以务工费、误工补贴名义虚列支出。",
            power="zj",
            step="用款申请",
            controls=[
                pre(
                    "支出票据经经手人、证明人、村监委审核签字", "村务监督委员会主任", "each_time", "审核签字票据", "cw"
                ),
            ],
        ),
        point(
            "lw.fsj",
            risk_type="external",
            found_by="public",
            likelihood=2,
            severity=2,
            description="宅基地初审中优亲厚友",
            manifestation="为亲属出具不实的“一户一宅”证明。",
            power="zjd",
            step="村民小组评议",
            state="submitted",
            controls=[
                pre("初审结果村内公示5日", "村党支部副书记", "each_time", "公示照片", "syl"),
            ],
        ),
        point(
            "jwh",
            risk_type="duty",
            found_by="self",
            likelihood=3,
            severity=2,
            description="村务监督流于形式,对村务公开和财务票据不认真审核",
            manifestation="村监委在票据上“签字了事”。",
            state="reviewed",
            controls=[
                mon("每月审核村级票据并在审核记录上签署意见", "村务监督委员会主任", "monthly", "审核记录", "cw"),
            ],
        ),
    ],
)

LIUTANG = _village(
    code="yunling-qsz-ltc",
    name="青石镇柳塘村",
    prefix="ltc",
    preset="level-1-highest",
    people=[("柳", "长根"), ("魏", "德才"), ("柳", "桂香"), ("邵", "金宝")],
    points=[
        point(
            "lw.sj",
            risk_type="moral",
            found_by="public",
            likelihood=2,
            severity=3,
            description="村级工程“微腐败”,优亲厚友发包",
            manifestation="将村道硬化工程发包给亲属,虚增工程量。",
            power="zj",
            step="村两委会议研究",
            state="approved",
            controls=[
                pre("村级工程发包经村民代表会议决议并公开", "村党支部", "each_time", "决议和公开照片", "syl"),
                mon("镇村镇建设办参与验收", "村镇建设办主任", "each_time", "验收记录", "cw"),
            ],
        ),
        point(
            "lw.fsj",
            risk_type="external",
            found_by="peers",
            likelihood=2,
            severity=2,
            description="低保、危房改造等民主评议中优亲厚友",
            manifestation="评议会参加人员不足,评议结果不公开。",
            controls=[
                pre("评议会村民代表不少于三分之二参加,结果公开", "村党支部副书记", "each_time", "评议记录", "syl"),
            ],
        ),
        point(
            "lw.bzy",
            risk_type="process",
            found_by="organisation",
            likelihood=1,
            severity=2,
            description="集体资金公款私存,坐收坐支",
            manifestation="村级收入存入个人账户;收入不上交镇财政所代管。",
            power="zj",
            step="镇财政所审核拨付",
            controls=[pre(VAGUE)],
        ),
    ],
)
