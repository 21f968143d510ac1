"""The one inbox (我的待办): what waits for the user across the register path, the annual cycle and
the warning ledger, counted once for the navigation's badge and the page's total.

An entry point (layer 7): it reads the workflow's queues, the cycle's own tasks and the ledger's
notices through their own selectors, each of which starts from what the access module shows. Every
count stops at ``RISK_REGISTRY_COUNT_LIMIT`` + 1, like the lists, and all go to the database in one
query (``organisation.counts``); notifications are news, not
things to do, and are counted apart (unread)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from assessments.selectors import open_tasks_of
from integrity_warnings.selectors import notices_to_answer
from risk_registry.organisation.counts import capped_counts
from risk_registry.workflow import inbox

TASKS, NOTICES = "cycle tasks", "notices"  # beside the workflow's sections in the one count query


def capped(count: int) -> str:
    """A count as the lists say it: "1000+" past the limit."""
    limit = settings.RISK_REGISTRY_COUNT_LIMIT
    return f"{limit}+" if count > limit else str(count)


@dataclass(frozen=True)
class TodoCounts:
    workflow: dict[str, int]
    tasks: int
    notices: int

    @property
    def total(self) -> int:
        return sum(self.workflow.values()) + self.tasks + self.notices

    @property
    def total_label(self) -> str:
        return capped(self.total)

    @property
    def badge(self) -> str:
        """The navigation's badge: "" when nothing waits."""
        return self.total_label if self.total else ""


def todo_counts(user) -> TodoCounts:
    """A count per queue that applies to the user's roles (see ``inbox.inbox_queues``), the open
    cycle tasks and the notices to answer: all in one query, since every page shows the badge."""
    queues = inbox.inbox_queues(user)
    counts = capped_counts({**queues, TASKS: open_tasks_of(user), NOTICES: notices_to_answer(user)})
    return TodoCounts(
        workflow={name: counts.get(name, 0) for name, _ in inbox.SECTIONS},
        tasks=counts[TASKS],
        notices=counts[NOTICES],
    )
