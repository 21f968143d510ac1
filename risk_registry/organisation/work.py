"""Work done or undone: the hook through which services below the annual cycle tell it that rows its
tasks' completion reads have changed, without importing it.

The cycle (``assessments``) stores whether each task is done (``Task.done``, computed by
``assessments.completion.done_expression``). Its inputs are written by services of lower layers —
points created and moved along the register path (``risk_registry.services``,
``risk_registry.workflow``, the imports), the register filed, control runs recorded and rules
recorded, revised or repealed (``controls.services``, ``risk_registry.services``). Those services call
``work_changed`` inside their own transaction; the listeners registered here by dotted path (the
cycle registers ``assessments.completion.work_changed`` from its ``AppConfig.ready()``) recompute the
tasks concerned in one UPDATE, so the stored value changes in the same commit as the work.

This module imports nothing of the project, like ``risk_registry.workflow.deadlines``. What a
service reports is *what* changed, never which tasks: the vocabulary below is the lower layers' own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from django.utils.module_loading import import_string

POINTS = "points"  # risk points of the institutions (and year) created, moved along the path or copied
FILING = "filing"  # a register of the institutions (and year) filed
CONTROL_RUNS = "control_runs"  # runs recorded for the controls ``ids``
RULES = "rules"  # rules of the institutions recorded, revised or repealed
WHAT = (POINTS, FILING, CONTROL_RUNS, RULES)


class Listener(Protocol):
    def __call__(
        self, what: str, *, institution_ids: list[int], year: int | None = None, ids: list[int] | None = None
    ) -> object: ...


_PATHS: list[str] = []


def listen(path: str) -> None:
    """Register a listener by the dotted path of a callable that follows ``Listener``."""
    if path not in _PATHS:
        _PATHS.append(path)


def work_changed(
    what: str, *, institution_ids: Iterable[int] = (), year: int | None = None, ids: Iterable[int] = ()
) -> None:
    """Tell the listeners that ``what`` changed for ``institution_ids`` (of ``year``, None: any year)
    or for the objects ``ids``. Call it inside the transaction that made the change."""
    if what not in WHAT:
        raise ValueError(f"unknown kind of work: {what!r}")
    institutions = sorted({int(pk) for pk in institution_ids if pk is not None})
    objects = sorted({int(pk) for pk in ids if pk is not None})
    if not institutions and not objects:
        return
    for path in _PATHS:
        listener: Listener = import_string(path)
        listener(what, institution_ids=institutions, year=year, ids=objects)
