"""The objects of audit entries named in words for the audit page: one query per kind of object on
the page (never one per row), each through the access module, so a name shows only where its
object may be seen; any other object is named by its kind (e.g. 职权事项 #12), never by a code."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import QuerySet
from django.template.defaultfilters import truncatechars
from django.urls import reverse

from risk_registry import access
from risk_registry.organisation.models import AuditEntry


@dataclass(frozen=True)
class Target:
    kind: str  # the model's name in the reader's language
    name: str  # the object's name, or "#id" where it may not be named
    url: str = ""


@dataclass(frozen=True)
class _Kind:
    visible: Callable[[Any], QuerySet]
    name: Callable[[Any], str]
    url: Callable[[Any], str]


def _register_url(register) -> str:
    return reverse("register_detail", args=[register.institution.code, register.year])


# The kinds whose objects are named; the querysets are the access module's, so a row of the audit
# page never names an object its reader may not see (the entry itself is already filtered).
KINDS: dict[str, _Kind] = {
    "risk_registry.riskpoint": _Kind(
        access.risk_points_visible_to,
        lambda p: truncatechars(p.description, 30),
        lambda p: reverse("risk_point_detail", args=[p.pk]),
    ),
    "risk_registry.register": _Kind(
        lambda user: access.registers_visible_to(user).select_related("institution"),
        lambda r: f"{r.institution.name} {r.year}",
        _register_url,
    ),
    "positions.poweritem": _Kind(
        access.power_items_visible_to, lambda i: i.name, lambda i: reverse("power_detail", args=[i.pk])
    ),
    "positions.position": _Kind(
        access.positions_visible_to, lambda p: p.title, lambda p: reverse("position_detail", args=[p.pk])
    ),
    "organisation.institution": _Kind(
        access.institutions_visible_to,
        lambda i: i.name,
        lambda i: reverse("institution_detail", args=[i.code]),
    ),
    "organisation.department": _Kind(
        access.departments_visible_to, lambda d: d.name, lambda d: reverse("department_detail", args=[d.pk])
    ),
    "controls.rule": _Kind(access.rules_visible_to, lambda r: r.title, lambda r: reverse("rule_detail", args=[r.pk])),
}


def _kind_name(label: str) -> str:
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


def audit_targets(user, entries: Iterable[AuditEntry]) -> dict[int, Target]:
    """Entry id → its object in words, for the entries of one page."""
    entries = list(entries)
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        wanted[entry.target_type].add(entry.target_id)
    found: dict[tuple[str, int], Target] = {}
    for label, ids in wanted.items():
        kind = KINDS.get(label)
        if kind is None:
            continue
        for obj in kind.visible(user).filter(pk__in=ids):
            found[(label, obj.pk)] = Target(_kind_name(label), kind.name(obj), kind.url(obj))
    kinds = {label: _kind_name(label) for label in wanted}
    return {
        entry.pk: found.get(
            (entry.target_type, entry.target_id), Target(kinds[entry.target_type], f"#{entry.target_id}")
        )
        for entry in entries
    }
