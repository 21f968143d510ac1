"""Every action the code records is one of AuditAction's, so the audit pages never show a raw code
such as ``cycle.launch`` in the Chinese UI."""

from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

from positions.models import PowerCategory
from risk_registry.organisation.models import AuditAction, AuditEntry, RiskType
from risk_registry.workflow.transitions import TRANSITIONS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("risk_registry", "positions", "controls", "assessments", "warnings")


def _recorded_literals() -> set[str]:
    """Every string literal passed as ``action=`` in the product's code (conditional ones included)."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.keyword) and node.arg == "action":
                    formatted = {
                        id(c) for j in ast.walk(node.value) if isinstance(j, ast.JoinedStr) for c in ast.walk(j)
                    }
                    for value in ast.walk(node.value):
                        if id(value) in formatted:
                            continue  # f-strings: the computed actions, checked below
                        if isinstance(value, ast.Constant) and isinstance(value.value, str) and "." in value.value:
                            found.add(value.value)
    return found


def test_every_recorded_action_is_an_audit_action():
    literals = _recorded_literals()
    assert len(literals) > 20  # the scan found the services' actions
    assert literals - set(AuditAction.values) == set()


def test_every_workflow_step_and_vocabulary_has_its_action():
    computed = {f"risk_point.{step.name}" for step in TRANSITIONS}
    computed |= {f"{model._meta.model_name}.create" for model in (RiskType, PowerCategory)}
    assert computed - set(AuditAction.values) == set()


def test_every_action_reads_in_chinese():
    with translation.override("zh-hans"):
        untranslated = [a.value for a in AuditAction if not any("\u4e00" <= ch <= "\u9fff" for ch in str(a.label))]
    assert untranslated == []


def test_an_unknown_action_of_an_old_row_shows_as_recorded():
    assert AuditEntry(action="retired.action").action_label == "retired.action"
