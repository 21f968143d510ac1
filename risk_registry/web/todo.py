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
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

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


# --- the navigation's badge, kept in the session ------------------------------------------------
# Every page shows the badge; counting it is a query on every page. The session, which every
# request reads anyway, keeps the last badge. It is counted, and kept, whenever that session is
# saved anyway: at login (``keep_badge_at_login``), and when the last-seen stamp moves, once a
# minute while the user is active (config.security.SessionLimitsMiddleware). A GET never writes
# the session just to keep it (no GET that writes). Until a kept badge exists, every page counts.
# After any request of the user's that wrote (``web.middleware.FreshBadgeMiddleware``) it is dropped
# (``forget_badge``), so it is right after the user's own action; a refused request keeps it and
# writes nothing. What others change shows within about a minute, and at once on the inbox page,
# which always counts (and shows its count in its own navigation).
BADGE_SESSION_KEY = "todo_badge"


@receiver(user_logged_in, dispatch_uid="todo_badge_at_login")
def keep_badge_at_login(sender, request, user, **kwargs) -> None:
    """Login saves the session anyway: the badge is counted there and kept, so the pages of the
    first minute read it instead of each counting it. (Connected by ``RiskRegistryConfig.ready``.)"""
    session = getattr(request, "session", None)
    if session is not None:
        session[BADGE_SESSION_KEY] = todo_counts(user).badge


def badge_of(request) -> str:
    """The navigation's badge for the signed-in user of ``request`` (counted at most once a request)."""
    fresh = getattr(request, "todo_badge", None)
    if fresh is not None:
        return fresh
    kept = request.session.get(BADGE_SESSION_KEY)
    if kept is None or request.session.modified:
        kept = todo_counts(request.user).badge
        remember_badge(request, kept)
    request.todo_badge = kept
    return kept


def remember_badge(request, badge: str) -> None:
    """A badge just counted: shown on this page, and kept for the next pages only if the session is
    saved anyway by this request (a GET never writes just to keep it: no GET that writes)."""
    request.todo_badge = badge
    if request.session.modified and request.session.get(BADGE_SESSION_KEY) != badge:
        request.session[BADGE_SESSION_KEY] = badge


def forget_badge(request) -> None:
    """After the user's own write: the next page counts again."""
    if BADGE_SESSION_KEY in request.session:
        del request.session[BADGE_SESSION_KEY]
