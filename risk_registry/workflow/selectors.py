"""Read-side queries of the register pages and the batch steps."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, Count, Exists, F, Func, IntegerField, OuterRef, Prefetch, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy

from controls.models import Control
from controls.quality import vague_control_reasons, vague_controls
from positions.models import Holding
from risk_registry import access
from risk_registry.models import Decision, DecisionAttachment, RiskPoint, RiskPointState
from risk_registry.organisation.models import AuditEntry, Department, GradeLevel, Membership, Role
from risk_registry.workflow import inbox, registers
from risk_registry.workflow.quality import figure_rows, figures_of, quality_report
from risk_registry.workflow.transitions import Change, transition, transitions_for


def batch_points(*, user, register, state: str, step) -> list[RiskPoint]:
    """The points of a register in ``state`` that the user may move with ``step`` (bounded)."""
    points = (
        access.risk_points_visible_to(user)
        .filter(institution_id=register.institution_id, year=register.year, state=state)
        .select_related("institution", "department", "position", "risk_type", "level")
        .order_by("department__order", "department_id", "id")[:500]
    )
    return [p for p in points if step.may(user, p)]


BATCH_NUMBERS = ("version_", "likelihood_", "severity_")  # the batch form's per-point fields: <name>_<point id>


def batch_change(numbers: dict[str, int | None], reasons: dict[str, str], point: RiskPoint, *, define: bool):
    """One row of a batch form as a workflow Change (per-point likelihood/severity and reason when
    defining); ``numbers`` and ``reasons`` are the form's per-point fields, parsed by the page."""

    def number(name: str) -> int | None:
        return numbers.get(f"{name}_{point.pk}")

    seen = number("version")
    return Change(
        point_id=point.pk,
        # A row posted without the version its reader saw cannot be checked: it is refused as
        # stale (no version is -1), never applied over someone else's change.
        version=seen if seen is not None else -1,
        likelihood=number("likelihood") if define else None,
        severity=number("severity") if define else None,
        reason=reasons.get(f"reason_{point.pk}", "")[:1000] if define else "",
    )


# The steps the register page's 下一步 card offers as buttons, when the user may take them.
NEXT_STEPS = ("review", "define", "appraise", "approve", "superior", "publish", "answer_now", "issue", "file")


def register_page(*, user, register) -> dict:
    """Everything the register page shows; a fixed number of queries."""
    institution = register.institution
    points = access.risk_points_visible_to(user).filter(institution=institution, year=register.year)
    # One pass over the register's points for the state counts and the quality report's figures (each
    # was a pass of its own over a big bureau's 4,257 points, 4 ms each at province scale).
    grouped = figure_rows(points, "state")
    by_state: dict[str, int] = {}
    for row in grouped:
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["n"]
    rules = registers.decision_rules_for(institution)
    waiting = (
        list(
            points.filter(state__in=(RiskPointState.DEFINED, RiskPointState.APPRAISED))
            .select_related("department", "position", "level")
            .order_by("department__order", "department_id", "id")[:500]
        )
        if by_state.get(RiskPointState.DEFINED) or by_state.get(RiskPointState.APPRAISED)
        else []  # the state counts above say there is none: no query
    )
    saved = register.pk is not None  # a register nobody has acted on yet is shown unsaved (GETs write nothing)
    versions = (
        list(access.versions_visible_to(user).filter(register=register).select_related("signed_by").order_by("-number"))
        if saved
        else []
    )
    notice_open = registers.notice_is_open(register)
    superior_waiting = registers.superior_pending(register) if rules.superior_approval else []
    to_superior = (
        list(
            points.filter(pk__in=superior_waiting)
            .select_related("department", "position", "level")
            .order_by("department__order", "id")[:500]
        )
        if superior_waiting
        else []
    )
    decisions = Decision.objects.filter(register=register) if saved else Decision.objects.none()
    visible_comments = access.notice_comments_visible_to(user)
    comments = list(
        (visible_comments.filter(register=register) if saved else visible_comments.none()).select_related(
            "author", "answered_by", "risk_point"
        )
    )
    unanswered = sum(1 for comment in comments if comment.answered_at is None)
    can_approve = access.is_leadership_of(user, institution) and bool(waiting)
    page = {
        "register": register,
        "institution": institution,
        "by_state": [(value, label, by_state.get(value, 0)) for value, label in RiskPointState.choices],
        "total": sum(by_state.values()),
        "decisions": decisions.select_related("recorded_by")
        .annotate(n=Count("points"))
        .prefetch_related(
            Prefetch("points", queryset=RiskPoint.objects.only("id").order_by("id")),
            Prefetch("attachments", queryset=DecisionAttachment.objects.only("id", "decision_id", "name", "size")),
        ),
        "rules": rules,
        # shown only on the approval card, to the leadership: counted only for them
        "team_size": registers.leadership_team_size(institution, rules) if can_approve else None,
        "to_approve": waiting,
        "to_appraise": [p for p in waiting if p.state == RiskPointState.DEFINED],
        "to_superior": to_superior,
        "comments": comments,
        "unanswered": unanswered,
        "versions": versions,
        "notice_open": notice_open,
        "quality": quality_report(
            points=points, institution_id=institution.pk, year=register.year, figures=figures_of(grouped)
        ),
        "can": {
            "review": bool(access.scope_of(user).department_ids) and by_state.get(RiskPointState.SUBMITTED, 0) > 0,
            "define": access.is_discipline_office_for(user, institution)
            and by_state.get(RiskPointState.REVIEWED, 0) > 0,
            "appraise": access.is_discipline_office_for(user, institution)
            and by_state.get(RiskPointState.DEFINED, 0) > 0,
            "approve": can_approve,
            "publish": access.is_discipline_office_for(user, institution)
            and ((by_state.get(RiskPointState.APPROVED, 0) > 0 and not superior_waiting) or notice_open),
            "superior": bool(to_superior) and access.is_superior_office_for(user, institution),
            "rules": access.is_discipline_office_for(user, institution),
            "answer": access.is_discipline_office_for(user, institution),
            "comment": access.is_staff_of(user, institution) and notice_open,
            "issue": access.is_discipline_office_for(user, institution)
            and by_state.get(RiskPointState.IN_NOTICE, 0) > 0
            and register.notice_ends_on is not None
            and register.notice_ends_on < timezone.localdate(),
            "file": saved and inbox.registers_to_file(user).filter(pk=register.pk).exists(),
        },
    }
    can = page["can"]
    can["answer_now"] = can["answer"] and unanswered > 0
    can["nothing"] = not any(can[step] for step in NEXT_STEPS)  # the 下一步 card says so, never stays empty
    return page


# --- the register as a workspace (台账) ----------------------------------------------------------

# Rows of the register table shown at once, as many as every other list's page
# (``RISK_REGISTRY_PAGE_SIZE``); numbered pages for the rest. It was 100: the rows were a third of
# the page's time, and "all N matching points" acts on every page anyway.
TABLE_PAGE = 50
STATE_ORDER = tuple(value for value, _label in RiskPointState.choices)
# Steps the table takes on the selected rows (through ``transition_apply``), and a level proposal.
BULK_STEPS = ("review", "return_to_author", "define", "return_to_department")
BULK_ACTIONS = (*BULK_STEPS, "propose")
FLAGS = {
    "no_controls": gettext_lazy("No control"),
    "vague": gettext_lazy("Vague control"),
    "regrade": gettext_lazy("Needs re-grading"),
    "carried": gettext_lazy("Carried over"),
}
# ``department_rank``: the department's place in its institution's order (``table_points``);
# ``level_rank``: the level's rank as the point stores it. Neither joins a table to sort.
SORTS = {
    "": ("department_rank", "id"),
    "level": ("level_rank", "department_rank", "id"),
    "-level": ("-level_rank", "department_rank", "id"),
    "state": ("state_rank", "department_rank", "id"),
    "-state": ("-state_rank", "department_rank", "id"),
}


# What a row of the table reads (``registry.register_rows``, ``_row_flags``, ``row_actions`` and the
# steps' rights): a point has some forty columns, long texts among them.
TABLE_ROW_FIELDS = (
    "id",
    "institution_id",
    "institution_path",
    "department_id",
    "position_id",
    "level_id",
    "created_by_id",
    "year",
    "state",
    "version",
    "description",
    "needs_regrading",
    "carried_from_id",
    "carried_unfiled",
    "issued_before",
    "department__name",
    "position__title",
    "level__name",
    "level__colour",
    "level__band",
    "level__rank",
)


@dataclass(frozen=True)
class TableFilters:
    department: int | None = None
    position: int | None = None
    state: str = ""
    level: int | None = None
    flag: str = ""
    sort: str = ""
    page: int = 1

    @property
    def narrows(self) -> bool:
        """Whether any filter leaves points out (sorting and paging do not)."""
        return bool(self.department or self.position or self.state or self.level or self.flag)


@dataclass
class TableRow:
    point: RiskPoint
    flags: list[tuple[str, str]] = field(default_factory=list)
    actions: frozenset[str] = frozenset()


def _row_flags(point: RiskPoint) -> list[tuple[str, str]]:
    """The quality flags of one row, from its prefetched controls (no query)."""
    controls = list(point.controls.all())
    monitored = any(c.line == Control.Line.MONITORING for c in controls)
    flags = []
    if not controls:
        flags.append("no_controls")
    elif any(
        vague_control_reasons(
            measure=c.measure, owner=c.owner, frequency=c.frequency, evidence=c.evidence, followed_up=monitored
        )
        for c in controls
    ):
        flags.append("vague")
    if point.needs_regrading:
        flags.append("regrade")
    return [(code, str(FLAGS[code])) for code in flags]


def row_actions(user, point: RiskPoint) -> frozenset[str]:
    """What the table may do with this row for this user (the service checks again)."""
    actions = {t.name for t in transitions_for(user, point) if t.name in BULK_STEPS}
    if access.can_propose_level(user, point):
        actions.add("propose")
    return frozenset(actions)


def table_points(*, user, register, filters: TableFilters):
    """The register's visible points that the table's filters keep (every page of them), sorted;
    the rows of a page and the bulk action on "all N" both start here."""
    points = access.risk_points_visible_to(user).filter(institution_id=register.institution_id, year=register.year)
    if filters.department:
        points = points.filter(department_id=filters.department)
    if filters.position:
        points = points.filter(position_id=filters.position)
    if filters.state:
        points = points.filter(state=filters.state)
    if filters.level:
        points = points.filter(level_id=filters.level)
    if filters.flag == "regrade":
        points = points.filter(needs_regrading=True)
    elif filters.flag == "carried":
        points = points.filter(carried_from__isnull=False)
    elif filters.flag == "no_controls":
        points = points.filter(~Exists(Control.objects.filter(risk_point=OuterRef("pk"))))
    elif filters.flag == "vague":  # the same rule as the rows' flag, in SQL, so that pages stay whole
        points = points.filter(Exists(vague_controls().filter(risk_point=OuterRef("pk"))))
    state_rank = Case(
        *(When(state=value, then=Value(rank)) for rank, value in enumerate(STATE_ORDER)),
        output_field=IntegerField(),
    )
    # The departments in their order, read once (an array of a few dozen ids); each point's place
    # in it sorts the table. Sorting by the joined department's ``order`` looked up the department
    # of each of a bureau's 4,257 points to keep 50 (EXPLAIN: 5 of the rows query's 12 ms).
    departments = Department.objects.filter(institution_id=register.institution_id).order_by("order", "id")
    in_order = ArraySubquery(departments.values("pk"))
    department_rank = Func(in_order, F("department_id"), function="array_position", output_field=IntegerField())
    return points.annotate(state_rank=state_rank, department_rank=department_rank).order_by(*SORTS[filters.sort])


def bulk_points(*, user, register, filters: TableFilters, action: str) -> list[RiskPoint]:
    """Every point of the register that the filters keep, on every page, whose row offers
    ``action`` (what ``row_actions`` says, asked of this one action): the set "all N matching
    points" acts on. The step's states are filtered in SQL; only the rights are asked per point."""
    points = table_points(user=user, register=register, filters=filters).select_related(
        "institution", "department", "position", "level"
    )
    if action == "propose":
        return [p for p in points.exclude(state=RiskPointState.DRAFT) if access.can_propose_level(user, p)]
    step = transition(action)
    return [p for p in points.filter(state__in=step.sources) if step.may(user, p)]


def selection_digest(points) -> str:
    """A fingerprint of a set of points at their versions: what a confirmation of "all N" showed."""
    text = ",".join(f"{p.pk}:{p.version}" for p in sorted(points, key=lambda p: p.pk))
    return hashlib.sha256(text.encode()).hexdigest()


def register_table(*, user, register, filters: TableFilters, total: int | None = None) -> dict:
    """One page of the register's points as the workspace shows them: filtered, sorted, each with its
    flags, controls (in the lines' order) and the bulk actions the user may take, with how many
    points match on every page. A fixed number of queries: the count, the rows, their controls,
    the filters' choices. ``total``: the register's visible points, counted by the caller
    (``register_page``), which is the table's count when no filter leaves points out."""
    institution = register.institution
    matching = table_points(user=user, register=register, filters=filters)
    count = total if total is not None and not filters.narrows else matching.count()
    pages = max(1, -(-count // TABLE_PAGE))
    page = min(max(filters.page, 1), pages)
    # The page's ids first, sorted on the narrow rows, then those rows with their joins: sorting the
    # register's 4,730 joined rows to keep 100 cost most of the query (EXPLAIN: 40 of 46 ms).
    window = matching.values("pk")[(page - 1) * TABLE_PAGE : page * TABLE_PAGE]
    fetched = list(
        matching.filter(pk__in=window)
        .select_related("department", "position", "level")
        .only(*TABLE_ROW_FIELDS)
        .prefetch_related(Prefetch("controls", queryset=Control.objects.in_line_order()))
    )
    for point in fetched:
        point.institution = institution  # every row is the register's: no join for it
    rows = [TableRow(point=p, flags=_row_flags(p), actions=row_actions(user, p)) for p in fetched]
    levels = (
        list(GradeLevel.objects.filter(scheme_id=institution.grading_scheme_id).order_by("rank"))
        if institution.grading_scheme_id
        else []
    )
    visible = access.risk_points_visible_to(user).filter(institution_id=institution.pk, year=register.year)
    return {
        "rows": rows,
        "count": count,
        "page": page,
        "pages": pages,
        "page_numbers": _page_numbers(page, pages),
        "actions": [name for name in BULK_ACTIONS if any(name in row.actions for row in rows)],
        "departments": list(
            access.departments_visible_to(user)
            .filter(institution_id=institution.pk)
            .only("id", "name")
            .order_by("order", "id")
        ),
        # A bureau has a thousand posts: the post filter offers those of the chosen department.
        "positions": list(
            access.positions_visible_to(user)
            .filter(pk__in=visible.values("position_id"), department_id=filters.department)
            .only("id", "title")
            .order_by("title")
        )
        if filters.department
        else [],
        "levels": levels,
        "states": RiskPointState.choices,
        "flags": list(FLAGS.items()),
    }


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """The pager's numbers: the first, the last and two around the current page; None is a gap."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


def confirmation_points(*, user, register, states: tuple[str, ...], point_ids=None) -> list[RiskPoint]:
    """The points a register step will change, as the confirmation lists them (bounded)."""
    points = access.risk_points_visible_to(user).filter(
        institution_id=register.institution_id, year=register.year, state__in=states
    )
    if point_ids is not None:
        points = points.filter(pk__in=list(point_ids))
    return list(points.select_related("department", "position", "level").order_by("department__order", "id")[:1000])


@dataclass(frozen=True)
class RevisionRequest:
    """A point reopened for revision (修订中): who reopened it, when and why, and who revises it."""

    entry: AuditEntry | None  # the latest ``risk_point.revise`` (a public entry: the office's step)
    revisers: list  # the users who must revise it: open holders of its post, or its department's head
    post: str  # the post (or the department, for a department-level point) they revise it as


def revision_request(point: RiskPoint) -> RevisionRequest | None:
    """What the point page says of a reopened point (two queries), or None for any other point."""
    if not point.under_revision:
        return None
    entry = (
        AuditEntry.objects.filter(
            target_type=RiskPoint._meta.label_lower, target_id=point.pk, action="risk_point.revise"
        )
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if point.position is not None:
        holdings = Holding.objects.filter(position_id=point.position.pk, ended_on__isnull=True)
        revisers = [h.user for h in holdings.select_related("user").order_by("started_on", "id")]
        post = point.position.title
    else:
        heads = Membership.objects.filter(department_id=point.department_id, role=Role.DEPT_HEAD)
        revisers = [m.user for m in heads.select_related("user").order_by("id")]
        post = point.department.name
    return RevisionRequest(entry=entry, revisers=revisers, post=post)
