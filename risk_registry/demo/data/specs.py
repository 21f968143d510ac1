"""The shapes of the demo's data (TypedDicts) and the helpers that write its controls and points.

Conventions (see the package docstring): dates are ``(years_before, month, day)`` relative to the
demo year; a position is ``"<department key>.<position key>"``.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

ROOT_CODE = "yunling-jw"

VAGUE = "严格按照规章制度办事"

DateSpec = tuple[int, int, int]  # (years before the demo year, month, day)
Line = Literal["prevention", "monitoring", "disposition"]


class ControlSpec(TypedDict):
    line: Line
    measure: str
    owner: str
    frequency: str
    evidence: str
    rule: str | None  # key of a rule of the same institution


class PointSpec(TypedDict):
    at: str  # "<department>.<position>", or a bare department key for a department-level point
    risk_type: str
    found_by: str
    likelihood: int
    severity: int
    description: str
    manifestation: str
    power: str | None  # key of a power item of the same institution
    step: str | None  # name of one of that power item's steps
    state: str  # where the point stands in the register path
    controls: list[ControlSpec]


class RuleSpec(TypedDict):
    key: str
    title: str
    number: str  # "{y}" stands for the year the rule took effect
    effective: DateSpec
    summary: str


class PositionSpec(TypedDict):
    key: str
    title: str
    kind: str
    key_post: NotRequired[bool]
    holder: str
    since: DateSpec
    duties: str


class DepartmentSpec(TypedDict):
    key: str
    name: str
    kind: str
    head: str
    positions: list[PositionSpec]


class PowerItemSpec(TypedDict):
    key: str
    name: str
    category: str
    department: str
    positions: list[str]
    steps: list[str]
    legal_basis: str
    responsible_subject: str
    commitment: str


# "from" is a keyword: the functional form.
RotationSpec = TypedDict("RotationSpec", {"user": str, "from": str, "to": str, "started": DateSpec, "on": DateSpec})


class InstitutionSpec(TypedDict):
    code: str
    name: str
    kind: str
    parent: str | None  # code of the parent, created before it
    preset: str  # grading preset (risk_registry/organisation/presets.py)
    power_categories: list[tuple[str, str]]  # (code, name) of the institution's own categories
    people: list[tuple[str, str, str]]  # (username, family name, given name)
    roles: dict[str, list[str]]  # role → usernames
    rules: list[RuleSpec]
    departments: list[DepartmentSpec]
    rotations: list[RotationSpec]
    power_items: list[PowerItemSpec]
    risk_points: list[PointSpec]


def _control(line: Line, measure: str, owner: str, frequency: str, evidence: str, rule: str | None) -> ControlSpec:
    return {
        "line": line,
        "measure": measure,
        "owner": owner,
        "frequency": frequency,
        "evidence": evidence,
        "rule": rule,
    }


def pre(measure: str, owner: str = "", frequency: str = "", evidence: str = "", rule: str | None = None) -> ControlSpec:
    """前期预防: education, rules, process redesign."""
    return _control("prevention", measure, owner, frequency, evidence, rule)


def mon(measure: str, owner: str = "", frequency: str = "", evidence: str = "", rule: str | None = None) -> ControlSpec:
    """中期监控: checks, reports, democratic appraisal."""
    return _control("monitoring", measure, owner, frequency, evidence, rule)


def dis(measure: str, owner: str = "", frequency: str = "", evidence: str = "", rule: str | None = None) -> ControlSpec:
    """后期处置: reminders, corrective orders, accountability."""
    return _control("disposition", measure, owner, frequency, evidence, rule)


def point(
    at: str,
    *,
    risk_type: str,
    found_by: str,
    likelihood: int,
    severity: int,
    description: str,
    manifestation: str = "",
    power: str | None = None,
    step: str | None = None,
    state: str = "draft",
    controls: list[ControlSpec],
) -> PointSpec:
    return {
        "at": at,
        "risk_type": risk_type,
        "found_by": found_by,
        "likelihood": likelihood,
        "severity": severity,
        "description": description,
        "manifestation": manifestation,
        "power": power,
        "step": step,
        "state": state,
        "controls": controls,
    }
