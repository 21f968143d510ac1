"""The dashboards, one page per role: the oversight offices', the leadership's and my own.

An entry point: it reads the register's figures (``risk_registry.dashboards``), the cycle's
(``assessments.selectors``) and the warning ledger's (``risk_registry.web.warning_figures``), each
through its access module, and links every figure to the list behind it (the risk list, the cycle
board, the inbox, my tasks, the warning ledger).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from assessments import selectors as cycle_selectors
from assessments.access import tasks_visible_to
from risk_registry import access, dashboards, selectors
from risk_registry.organisation import selectors as org_selectors
from risk_registry.organisation.models import Institution
from risk_registry.web.params import year_param
from risk_registry.web.warning_figures import warning_figures
from risk_registry.workflow import inbox

LEADERSHIP_SECTIONS = ("to_approve", "proposals", "to_file")


def _year(request: HttpRequest) -> int:
    return year_param(request.GET.get("year"), default=selectors.current_year()) or selectors.current_year()


def _node(request: HttpRequest, institutions) -> Institution | None:
    """The institution named by ``?institution=CODE`` among ``institutions`` (404 outside them)."""
    code = request.GET.get("institution", "").strip()
    if not code:
        return None
    return access.object_or_404(institutions.select_related("grading_scheme"), code=code[:40])


def _figures(user, *, year: int, node: Institution | None) -> dict[str, Any]:
    """Heat map (or roll-up), distributions and what to watch for ``node`` (or the whole scope)."""
    points = access.risk_points_visible_to(user).filter(year=year)
    previous = access.risk_points_visible_to(user).filter(year=year - 1)
    query: dict[str, object] = {"year": year}
    if node is not None:
        points, previous = points.filter(institution=node), previous.filter(institution=node)
        query["institution"] = node.code
    # the whole scope's charts from the stored rows of what the user oversees (a subtree's points
    # are too many to group on each request); one institution's from its points
    groups = dashboards.Groups.overseen(user, year=year) if node is None else None
    charts, watch = dashboards.point_figures(points, previous, institution=node, query=query, year=year, groups=groups)
    return {
        "year": year,
        "node": node,
        "heat": dashboards.heat_map(points, institution=node, query=query) if node is not None else None,
        "charts": charts,
        "chart_data": {chart.key: chart.as_data() for chart in charts},
        "watch": watch,
    }


@require_GET
def oversight_dashboard(request: HttpRequest) -> HttpResponse:
    """The discipline office's and the superior office's: their subtree, or one institution of it."""
    scope = access.scope_of(request.user)
    access.require(bool(scope.subtree_paths))
    year = _year(request)
    node = _node(request, access.institutions_visible_to(request.user))
    compared = dashboards.compared_institutions(request.user, node)
    counts = dashboards.institution_counts(request.user, year=year, node=node)
    figures = dashboards.comparison(request.user, compared, year=year, counts=counts, node=node)
    progress = cycle_selectors.progress_by_institution(
        user=request.user, year=year, today=timezone.localdate(), within=node.path if node else None
    )
    compared_ids = {inst.pk for inst in compared}
    progress = {pk: item for pk, item in progress.items() if pk in compared_ids}  # not own tasks elsewhere
    order = request.GET.get("order") or "path"
    order = order if order in dashboards.ORDERS else "path"
    page = Paginator(figures.ordered(order), dashboards.COMPARISON_PAGE).get_page(request.GET.get("page"))
    shown = figures.rows(page.object_list)  # the rows of the institutions shown only, not every one
    for row in shown:
        row.progress = progress.get(row.institution.pk)
        row.filed_on_time = row.progress.filed_on_time if row.progress else None
    dashboards.may_open_posts(request.user, shown)
    context = _figures(request.user, year=year, node=node)
    context.update(
        {
            "roll_up": (
                dashboards.roll_up(
                    counts.bands,
                    [row.institution for row in shown],
                    year=year,
                    in_scope=len(compared),
                    first=page.start_index(),
                )
                if node is None
                else None
            ),
            # the schemes of the institutions the roll-up shows (a page of them), not the whole scope's
            "legend": org_selectors.band_legend(counts.schemes_of(row.institution for row in shown))
            if node is None
            else [],
            "comparison": shown,
            "comparison_total": figures.total() if len(compared) > 1 else None,
            "institutions_in_scope": len(compared),
            "progress_total": _progress_total(progress.values()),
            "page": page if page.paginator.num_pages > 1 else None,
            "order": order,
            "overdue": sum(item.overdue for item in progress.values()),
            "institutions": compared[: dashboards.INSTITUTION_CHOICES],
            "warnings": warning_figures(request.user, year=year, institution=node, today=timezone.localdate()),
            "kind": "oversight",
        }
    )
    return render(request, "risk_registry/dashboard.html", context)


def _progress_total(items) -> dict[str, int]:
    """The cycle's figures of every institution compared (the table's total row)."""
    total = {"done": 0, "total": 0, "overdue": 0}
    for item in items:
        total["done"] += item.done
        total["total"] += item.total
        total["overdue"] += item.overdue
    return total


@require_GET
def leadership_dashboard(request: HttpRequest) -> HttpResponse:
    """The leadership's: its institution's heat map, what waits for its decision, the year's changes."""
    scope = access.scope_of(request.user)
    access.require(bool(scope.institution_ids))
    year = _year(request)
    led = Institution.objects.filter(pk__in=scope.institution_ids).order_by("path")
    node = _node(request, led) or led.select_related("grading_scheme").first()
    context = _figures(request.user, year=year, node=node)
    counts = inbox.inbox_counts(request.user)
    context.update(
        {
            "waiting": [(name, counts.get(name, 0)) for name in LEADERSHIP_SECTIONS],
            "inbox_url": reverse("inbox"),
            "institutions": list(led),
            "warnings": warning_figures(request.user, year=year, institution=node, today=timezone.localdate()),
            "kind": "leadership",
        }
    )
    return render(request, "risk_registry/dashboard.html", context)


@require_GET
def my_dashboard(request: HttpRequest) -> HttpResponse:
    """The post holder's and the department head's: my points by state and level, my tasks, my
    control runs due."""
    year = _year(request)
    points = dashboards.my_points(request.user, year=year)
    bands, rows = dashboards.by_state_and_band(points, query={"year": year, "mine": "on"})
    return render(
        request,
        "risk_registry/dashboard_mine.html",
        {
            "year": year,
            "bands": bands,
            "rows": rows,
            "total": sum(bar.count for _, _, bars in rows for bar in bars),
            "all_url": dashboards.list_url({"year": year, "mine": "on"}),
            "tasks": cycle_selectors.my_task_counts(user=request.user, today=timezone.localdate()),
        },
    )


@require_GET
def watch_page(request: HttpRequest) -> HttpResponse:
    """What I must watch (篇5's supervision by level): the points and posts of the levels and grades
    my roles supervise, their control runs this year and their overdue cycle tasks. A fixed number
    of queries whatever the number of rows."""
    year = _year(request)
    today = timezone.localdate()
    watched = selectors.watchlist(request.user, year=year)
    count_limit = settings.RISK_REGISTRY_COUNT_LIMIT
    points, posts = watched.points, watched.posts
    point_ids = [point.pk for point in points]
    position_ids = [grade.position_id for grade in posts]
    overdue_by_point: dict[int, int] = {}
    overdue_by_post: dict[int, int] = {}  # a post's own tasks and its points' control runs
    overdue = 0  # distinct tasks
    if point_ids or position_ids:
        late = (
            tasks_visible_to(request.user)
            .filter(year=year, due_on__lt=today, done=False)
            .filter(Q(control__risk_point_id__in=point_ids) | Q(position_id__in=position_ids))
            .order_by()
            .values("control__risk_point_id", "position_id")
            .annotate(n=Count("id"))
        )
        for row in late:
            overdue += row["n"]
            if row["control__risk_point_id"] is not None:
                key = row["control__risk_point_id"]
                overdue_by_point[key] = overdue_by_point.get(key, 0) + row["n"]
            if row["position_id"] is not None:
                overdue_by_post[row["position_id"]] = overdue_by_post.get(row["position_id"], 0) + row["n"]
    return render(
        request,
        "risk_registry/watch.html",
        {
            "year": year,
            "roles": watched.roles,
            "point_rows": [(point, overdue_by_point.get(point.pk, 0)) for point in points],
            "post_rows": [(grade, overdue_by_post.get(grade.position_id, 0)) for grade in posts],
            # Counted up to the lists' limit: past it the page says "more than" the limit.
            "point_total": min(watched.point_count, count_limit),
            "points_capped": watched.point_count > count_limit,
            "points_more": watched.point_count > len(points),
            "post_total": min(watched.post_count, count_limit),
            "posts_capped": watched.post_count > count_limit,
            "overdue": overdue,
            "limit": selectors.WATCH_ROWS,
        },
    )
