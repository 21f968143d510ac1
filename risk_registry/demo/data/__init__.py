"""The demo county 云岭县 as typed data, one module per institution (specs.py: the shapes).

Institutions, people, positions, powers, risk points, controls.

Everything here is fictitious but drawn from the seeds (``/work/shared/seeds``):

- 云岭县纪委监委 — the root, acting as the superior discipline office of the county (三级, 一级最高);
- 县市场监督管理局 — seed 002 (酒泉 工商系统): the default power categories 行政审批、行政执法、
  干部人事管理、财务资金资产管理、其他, and the Jiuquan grading where 三级 is the highest;
- 县生态环境局 — seed 003/004 (XX县区环保局): its own power categories 外部权力/内部权力/公共类 and
  the three levels with 一级 the highest;
- 青石镇 — seed 000 篇2 (township plan): A/B/C grades. Its points are graded by rank on purpose
  (班子成员 A, 中层 B, 一般干部 C, even where the harm says otherwise, e.g. 惠农补贴虚报冒领 graded
  C), the pattern seed 000 篇4 criticises ("单纯地以职务级别高低为依据") and a later issue makes visible;
- two villages below the township (石桥村 four levels, 柳塘村 一级最高), seed 000 篇2: 农村建房土地审批、
  专项资金、农村集体“三资”.

Some controls are deliberately vague ("严格按照规章制度办事", no owner, frequency or evidence: the
criticism of seed 000 篇4 4.), for the issue that flags them.

Conventions:
- dates are ``(years_before, month, day)`` relative to the demo year;
- a position is referred to as ``"<department key>.<position key>"``; a point whose ``at`` is a bare
  department key is a department-level point (drafted by the department head);
- a point's ``power`` is the key of a power item of the same institution, ``step`` the name of one of
  its steps; ``state`` is where the point stands in the (not yet built) review workflow.
"""

from __future__ import annotations

from risk_registry.demo.data.county import COUNTY
from risk_registry.demo.data.ecology import ECOLOGY
from risk_registry.demo.data.market import MARKET
from risk_registry.demo.data.specs import ROOT_CODE, VAGUE, InstitutionSpec
from risk_registry.demo.data.township import TOWNSHIP
from risk_registry.demo.data.villages import LIUTANG, SHIQIAO

DEFAULT_PASSWORD = "demo-password-2026"  # noqa: S105 - the documented shared password of the demo accounts

ROLE_LABELS = {
    "superior": "上级纪委",
    "principal": "主要领导",
    "leadership": "领导班子成员",
    "discipline": "纪检",
    "dept_head": "部门负责人",
}

# Parents before children: the builder creates them in this order.
INSTITUTIONS: list[InstitutionSpec] = [COUNTY, MARKET, ECOLOGY, TOWNSHIP, SHIQIAO, LIUTANG]

__all__ = ["DEFAULT_PASSWORD", "INSTITUTIONS", "ROLE_LABELS", "ROOT_CODE", "VAGUE"]
