"""The one inbox (我的待办): everything waiting for the user, grouped, each group with its count,
and the notifications apart (通知). The page's total is the navigation's badge (``web.todo``)."""

from __future__ import annotations

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from assessments.selectors import inbox_for, unread_notification_count
from integrity_warnings.selectors import notices_to_answer
from risk_registry import access
from risk_registry import selectors as registry_selectors
from risk_registry.models import RiskPoint
from risk_registry.web import todo
from risk_registry.web.pagination import newest
from risk_registry.workflow import inbox

# Rows shown per group, as many as a list's page (``RISK_REGISTRY_PAGE_SIZE``); the group's count
# says how many there are (to the list limit). It was 100: a city office's page drew 200 rows.
ROWS = 50


def _first_rows(rows, *, walk_ids: bool, part: Q | None) -> list:
    """A group's first rows. The newest points of a queue over a part of the tree (a county's points
    to define) are read from the part's index and sorted, not found by walking every id backwards;
    a city office's, in id order from its city's index (``access.q_one_part``). Another queue's
    first ids are sorted on its own rows before their joins are read: a city's 1,269 comments to
    answer were joined to their points and then sorted to keep 100."""
    if rows.model is RiskPoint:
        return newest(rows.only(*registry_selectors.POINT_QUEUE_FIELDS), ROWS, walk_ids=walk_ids, part=part)
    return list(rows.filter(pk__in=rows.values("pk")[:ROWS]))


@require_GET
def inbox_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    counts = todo.todo_counts(user)
    todo.remember_badge(request, counts.badge)
    walk_ids, part = registry_selectors.walks_ids(user), access.q_one_part(user)
    sections = {
        name: _first_rows(
            selector(user).select_related(*registry_selectors.INBOX_JOINS[name]), walk_ids=walk_ids, part=part
        )
        for name, selector in inbox.SECTIONS
        if counts.workflow[name]
    }
    # The batch pages for what waits in bulk: one link per register and department (from the rows
    # already loaded, no query more), so a head reviews and the office defines from the inbox.
    batches = {
        key: sorted(
            {
                (p.institution.code, p.year, p.department_id, p.institution.name, p.department.name)
                for p in sections.get(section, [])
                if isinstance(p, RiskPoint)
            }
        )
        for key, section in (("review", "to_review"), ("define", "to_define"))
    }
    cycle = inbox_for(user=user, today=timezone.localdate())
    notices = list(notices_to_answer(user)[:ROWS]) if counts.notices else []
    return render(
        request,
        "risk_registry/inbox.html",
        {
            "sections": sections,
            "section_counts": {name: todo.capped(n) for name, n in counts.workflow.items()},
            "batches": batches,
            "cycle": cycle,
            "tasks_count": todo.capped(counts.tasks),
            "notices": notices,
            "notices_count": todo.capped(counts.notices),
            "total": counts.total,
            "nav_inbox": counts.badge,  # the navigation's badge, from the same counts (not counted twice)
            "total_label": counts.total_label,
            "unread": unread_notification_count(user),
            "today": cycle.today,
        },
    )
