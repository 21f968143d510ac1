"""Deadline sources: other features' deadlines that the one deadline scan (``assessments.scan``) also
watches, without the features importing each other.

A feature registers a *source* by its dotted path from its ``AppConfig.ready()`` (this module imports
nothing of the project, so an ``apps.py`` may import it before the models load); the scan resolves the
paths when it runs. A source names itself (the ``Notification.source`` of its rows), says when its
notices are sent (days of reminder before the due date, days after it for the supervisor and for the
discipline office, and whether the person also gets a notice as soon as the deadline opens), lists
its open deadlines in one query, and describes its rows for the inbox and the e-mail in one query.

The scan does the rest exactly as for its own tasks: who the supervisor and the discipline office
are, and one ``INSERT … ON CONFLICT DO NOTHING`` under the unique (source, object, recipient, stage),
so two scans at once send each notice once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from django.utils.module_loading import import_string

NOTICE = "notice"  # the stage of "a new deadline was opened for you" (sources with ``announce``)


@dataclass(frozen=True)
class Deadline:
    """One open deadline of a source, shaped like a task of the scan."""

    key: int  # the object's id in its source (``Notification.object_id``)
    due_on: datetime.date
    owner_id: int | None  # who must act (reminded); None: only the supervisor and the office hear
    institution_id: int
    institution_path: str
    department_id: int | None  # whose head is the supervisor (else the leadership, else the office)


@dataclass(frozen=True)
class Described:
    """What the inbox and the e-mail say of one row: never confidential text (facts, sources)."""

    title: str
    url: str
    due_on: datetime.date
    institution: str
    owner: str


class DeadlineSource(Protocol):
    name: str  # at most 24 characters, stored on every notification of the source
    reminder_days: tuple[int, ...]
    supervisor_after_days: int
    discipline_after_days: int
    announce: bool
    written_report: bool  # the owner owes a written report by the date (限时回告): the labels say so

    def open_deadlines(self, *, today: datetime.date) -> list[Deadline]:
        """Every deadline still open as of ``today``, in one query (the scan decides what is due)."""
        ...

    def describe(self, keys: Iterable[int]) -> Mapping[int, Described]:
        """The rows' text for the inbox and the e-mail (one query; keys gone missing are left out)."""
        ...


_PATHS: list[str] = []


def register(path: str) -> None:
    """Register a source by the dotted path of an object (an instance) that follows DeadlineSource."""
    if path not in _PATHS:
        _PATHS.append(path)


def sources() -> list[DeadlineSource]:
    return [import_string(path) for path in _PATHS]


def source_named(name: str) -> DeadlineSource | None:
    return next((source for source in sources() if source.name == name), None)
