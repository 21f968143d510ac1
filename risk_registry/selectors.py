"""Read-side queries for pages: always start from the access module's scoped querysets."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, Count, Exists, F, Func, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone

from controls.models import Control
from controls.quality import vague_controls
from positions.models import Holding
from risk_registry import access
from risk_registry.models import PostGrade, RiskPoint, RiskPointState
from risk_registry.models.post_grade import supervisions_of_role
from risk_registry.organisation.counts import capped_counts
from risk_registry.organisation.models import (
    BAND_ORDER,
    Band,
    GradeLevel,
    GradingScheme,
    Institution,
    Membership,
    Role,
    band_order_expression,
)


def current_year() -> int:
    """The register year pages open on: the calendar year in the site's time zone (Asia/Shanghai).

    The one place that decides it: the risk list, the position page, the home page and the
    launch form all ask here, so they never disagree about which year is current.
    """
    return timezone.localdate().year


def points_a_switch_flags(*, institution: Institution, preset_code: str) -> QuerySet[RiskPoint]:
    """The points switching the institution to a grading preset flags for re-grading: its filed
    (not draft) points of this year and later not flagged yet, whose level is not of the preset's
    copy (an institution going back to a preset it used keeps the points still graded with it).
    The preview's number and the switch's are this one query (``services.grading_scheme_switch``)."""
    points = RiskPoint.objects.filter(institution=institution, year__gte=current_year(), needs_regrading=False).exclude(
        state=RiskPointState.DRAFT
    )
    target = GradingScheme.objects.filter(institution=institution, code=preset_code).values_list("pk", flat=True)
    return points.exclude(level__scheme_id__in=target)


@dataclass(frozen=True)
class RiskPointFilters:
    institution: Institution | None = None
    department_id: int | None = None
    risk_type_id: int | None = None
    level_rank: int | None = None
    band: str = ""  # high / medium / low: the county-wide band, whatever the scheme
    state: str = ""
    year: int | None = None
    text: str = ""
    position_id: int | None = None
    # What the dashboards' figures link to (each figure is a list filtered by these).
    likelihood: int | None = None
    severity: int | None = None
    power_category_id: int | None = None
    position_kind: str = ""
    controls: str = ""  # "none": no control; "vague": a vague control (controls.quality)
    regrade: bool = False  # flagged for re-grading
    mine: bool = False  # the points of the posts the user holds and the departments the user heads
    change: str = ""  # against the year before: "new", "raised", "lowered"; "dropped": not carried on


CHANGE_CHOICES = ("new", "raised", "lowered", "dropped")
CONTROL_CHOICES = ("none", "vague")


def _dashboard_filters(queryset: QuerySet[RiskPoint], filters: RiskPointFilters) -> QuerySet[RiskPoint]:
    """The filters only the dashboards' links set (hidden on the list, named in its caption)."""
    if filters.likelihood:
        queryset = queryset.filter(likelihood=filters.likelihood)
    if filters.severity:
        queryset = queryset.filter(severity=filters.severity)
    if filters.power_category_id:
        queryset = queryset.filter(power_item__category_id=filters.power_category_id)
    if filters.position_kind:
        queryset = queryset.filter(position__kind=filters.position_kind)
    if filters.controls == "none":  # the stored control quality (controls.services.control_quality_refresh)
        queryset = queryset.filter(controls_count=0)
    elif filters.controls == "vague":
        queryset = queryset.filter(vague_controls__gt=0)
    if filters.regrade:
        queryset = queryset.filter(needs_regrading=True)
    return _change_filter(queryset, filters.change)


class _IsTrue(Func):
    """``(condition) IS TRUE``: PostgreSQL estimates a comparison of two columns as a third of the
    rows whatever they hold, but such a test of an expression from the expression's own statistics."""

    template = "(%(expressions)s) IS TRUE"
    output_field = BooleanField()


# A point graded more (less) serious than the point it was carried from, by the stored ranks of
# the source's level and of its own (``carried_from_rank``, ``level_rank``: no join). Said as the
# partial indexes ``riskpoint_raised`` / ``riskpoint_lowered`` and the statistics
# ``riskpoint_rank_moves`` (migration 0026) say it, word for word, so that the few such points of
# a province are read from their index, not found by walking its 2 million (4 s).
RANK_MOVES = {
    "raised": Q(_IsTrue(GreaterThan(F("carried_from_rank"), F("level_rank")))),
    "lowered": Q(_IsTrue(LessThan(F("carried_from_rank"), F("level_rank")))),
}


def _change_filter(queryset: QuerySet[RiskPoint], change: str) -> QuerySet[RiskPoint]:
    """Year over year: new (not carried over), raised or lowered (a more or less serious rank than
    the point it was carried from), dropped (a point out of draft carried into no later year)."""
    if change == "new":
        return queryset.filter(carried_from__isnull=True)
    if change in RANK_MOVES:
        return queryset.filter(RANK_MOVES[change])
    if change == "dropped":
        carried = RiskPoint.objects.filter(carried_from=OuterRef("pk"), year=OuterRef("year") + 1)
        return queryset.exclude(state=RiskPointState.DRAFT).filter(~Exists(carried))
    return queryset


def text_search_q(text: str) -> Q:
    """Points whose description or manifestation contains ``text``, case aside (``icontains``).

    Terms of three characters and more are served by the trigram indexes on the upper-cased texts
    (migration 0010). Trigrams cannot serve two characters, the common Chinese search (审批, 收费):
    such a term, when it has no letter case, is first looked up in the point's stored two-character
    pieces (``search_bigrams``, a GIN index), which holds exactly the pieces ``icontains`` would
    find, so the result is the same rows.
    """
    match = Q(description__icontains=text) | Q(manifestation__icontains=text)
    if len(text) == 2 and text.upper() == text.lower():
        return Q(search_bigrams__contains=[text]) & match
    return match


def walks_ids(user) -> bool:
    """Whether a page of the user's points is best read by walking the ids backwards: when the user
    oversees a whole tree (a subtree whose top has no parent, ``/1/``), where nearly every point is
    visible. Any part of a tree (a city, a bureau, a department, a post) is read by its own index and
    sorted: walking the ids would pass every other part's points first."""
    return any(path.count("/") == 2 for path in access.scope_of(user).subtree_paths)


def within_ids_of_year(year: int) -> Q:
    """The ids from the year's first point to its last (index ``riskpoint_year``, two entries read):
    no row is added or left out, but a walk of the ids backwards (``walks_ids``) starts at the
    year's newest point and stops at its oldest, instead of passing every point of the later years
    first (the next year's register, carried over at the year's close, is as big as this one) and
    reading the whole table for a year without points. PostgreSQL prices such a walk as though
    the year's points were spread evenly over the ids, so the index alone does not keep it off
    the primary key; nor would it for the two ends, written ``year = %s ORDER BY id``. Written
    as the first point at or after the year and the last at or before it, in the order (year,
    id), which the primary key cannot give, they are the first entry of a range of the index.
    (For a year without points they are other years' points: the list's ``year =`` finds none.)"""
    return Q(
        id__gte=Subquery(RiskPoint.objects.filter(year__gte=year).order_by("year", "id").values("id")[:1]),
        id__lte=Subquery(RiskPoint.objects.filter(year__lte=year).order_by("-year", "-id").values("id")[:1]),
    )


def _read_by_their_own_index(filters: RiskPointFilters) -> bool:
    """Whether a filter's rows are read from an index of their own (a state's year, the points
    under revision, raised or lowered, flagged, without a control, a search term): the year's two
    ends (``within_ids_of_year``) would then only make a walk of the year look cheaper than it is,
    with PostgreSQL's even spread of the range over the ids."""
    return bool(filters.state or filters.change in RANK_MOVES or filters.regrade or filters.controls or filters.text)


def _state_and_year(queryset: QuerySet[RiskPoint], user, filters: RiskPointFilters) -> QuerySet[RiskPoint]:
    """The list's state and year filters, each said so that an index serves it at province scale."""
    if filters.state:
        queryset = queryset.filter(state=filters.state)
        if filters.state == RiskPointState.DRAFT and not access.sees_fresh_drafts(user):
            # The same rows, said so that PostgreSQL can tell: an office's drafts are the points
            # under revision (index ``riskpoint_revising``), not every fresh draft of its tree read
            # and thrown away (the province's office: 226,000 of them, 1.8 s).
            queryset = queryset.filter(issued_before=True)
    if filters.year:
        queryset = queryset.filter(year=filters.year)
        if walks_ids(user) and not _read_by_their_own_index(filters):
            queryset = queryset.filter(within_ids_of_year(filters.year))
    return queryset


def risk_points_for_list(*, user, filters: RiskPointFilters) -> QuerySet[RiskPoint]:
    """The risk points a user may see, filtered, with what a list row shows joined in."""
    queryset = access.risk_points_visible_to(user)
    if filters.institution is not None:
        queryset = queryset.filter(institution=filters.institution)
    if filters.department_id:
        queryset = queryset.filter(department_id=filters.department_id)
    if filters.position_id:
        queryset = queryset.filter(position_id=filters.position_id)
    if filters.risk_type_id:
        queryset = queryset.filter(risk_type_id=filters.risk_type_id)
    if filters.level_rank:
        queryset = queryset.filter(level__rank=filters.level_rank)
    if filters.band:
        queryset = queryset.filter(level__band=filters.band)
    queryset = _state_and_year(queryset, user, filters)
    if filters.text:
        queryset = queryset.filter(text_search_q(filters.text))
    if filters.mine:
        scope = access.scope_of(user)
        queryset = queryset.filter(
            Q(position_id__in=scope.held_position_ids) | Q(department_id__in=scope.department_ids)
        )
    queryset = _dashboard_filters(queryset, filters)
    return queryset.select_related("institution", "department", "position", "risk_type", "level")


def level_counts(*, queryset: QuerySet[RiskPoint]) -> list[Mapping[str, Any]]:
    """Counts per level with its band (one grouped query), most serious first: by band, then rank."""
    return list(
        queryset.order_by()
        .values("level__name", "level__colour", "level__rank", "level__band")
        .annotate(total=Count("id"), band_order=band_order_expression("level__band"))
        .order_by("band_order", "level__rank", "level__name")
    )


@dataclass(frozen=True)
class InstitutionSummary:
    institution: Institution
    counts: dict[str, int]  # state → number of visible points this year
    total: int
    bands: dict[str, int]  # county-wide band → number of visible points this year
    indent: int = 0  # depth below the top of the user's scope (0, 1, 2 …)


OVERSIGHT_LIMIT = 200  # institutions listed on the home page; past it, the top of the tree and its children


@dataclass(frozen=True)
class Oversight:
    rows: list[InstitutionSummary]
    capped: bool  # the tree is larger: only its top and the top's children are shown

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def oversight_summary(*, user, year: int, limit: int = OVERSIGHT_LIMIT) -> Oversight:
    """For the home page: the institutions a user oversees — the whole subtree of a discipline or
    superior office, villages under a township included, and the institutions of a leadership
    role — with the visible points of the year by state and by band. A subtree of more than
    ``limit`` institutions (a city has a thousand, a province ten thousand) is shown by its top
    and the top's direct children, each with its own register's points (the page links the
    dashboard for the rest). Three or four queries, whatever the size of the tree."""
    scope = access.scope_of(user)
    overseen = Q(id__in=scope.institution_ids)
    for path in scope.subtree_paths:
        overseen |= Q(path__startswith=path)
    institutions, capped = tree_top(access.institutions_visible_to(user).filter(overseen), limit=limit)
    top = min((i.depth for i in institutions), default=0)
    counts: dict[int, dict[str, int]] = {}
    bands: dict[int, dict[str, int]] = {}
    points = access.risk_points_visible_to(user).filter(year=year, institution__in=institutions).order_by()
    for row in points.values("institution_id", "state", "level__band").annotate(total=Count("id")):
        by_state = counts.setdefault(row["institution_id"], {})
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["total"]
        by_band = bands.setdefault(row["institution_id"], {})
        by_band[row["level__band"]] = by_band.get(row["level__band"], 0) + row["total"]
    rows = [
        InstitutionSummary(
            institution=i,
            counts=counts.get(i.pk, {}),
            total=sum(counts.get(i.pk, {}).values()),
            bands=bands.get(i.pk, {}),
            indent=min(i.depth - top, 3),
        )
        for i in institutions
    ]
    return Oversight(rows=rows, capped=capped)


def scope_subtree_roots(scope: access.Scope) -> list[int]:
    """Ids of the institutions at the top of the user's subtree scopes (from their paths)."""
    return [int(path.rstrip("/").rsplit("/", 1)[-1]) for path in scope.subtree_paths]


def department_summary(*, user, year: int) -> list[Mapping[str, Any]]:
    """For department heads: their departments' points of the year by state (one query)."""
    scope = access.scope_of(user)
    if not scope.department_ids:
        return []
    return list(
        access.risk_points_visible_to(user)
        .filter(year=year, department_id__in=scope.department_ids)
        .order_by()
        .values("department_id", "department__name", "institution__code", "state")
        .annotate(total=Count("id"))
        .order_by("department__name", "state")
    )


def home_for(*, user, year: int) -> dict:
    """Everything the home page shows a user, by role; a fixed number of queries."""
    scope = access.scope_of(user)
    holdings = (
        Holding.objects.filter(user=user, ended_on__isnull=True)
        .select_related("position__department", "position__institution")
        .annotate(points=Count("position__risk_points"))
    )
    drafts = (
        access.risk_points_visible_to(user)
        .filter(state=RiskPointState.DRAFT, created_by=user)
        .select_related("level", "position")[:10]
    )
    memberships = user.memberships.select_related("institution", "department").order_by("institution__path")
    oversight = (
        oversight_summary(user=user, year=year)
        if (scope.subtree_paths or scope.institution_ids)
        else Oversight(rows=[], capped=False)
    )
    return {
        "year": year,
        "scope": scope,
        "holdings": holdings,
        "my_drafts": drafts,
        "memberships": memberships,
        "department_rows": department_summary(user=user, year=year),
        "oversight": oversight.rows,
        "oversight_more": oversight.capped,
        "bands": Band.choices,
        "states": RiskPointState.choices,
    }


POINT_QUEUE_JOINS = ("institution", "department", "level")
# What a point queue's row shows (``_inbox_points.html``) and its batch links read: only these columns
# are read for its rows (a point has some forty).
POINT_QUEUE_FIELDS = (
    "id",
    "description",
    "year",
    "institution__code",
    "institution__name",
    "department__name",
    "level__name",
    "level__colour",
    "level__band",
)
INBOX_JOINS = {
    "to_submit": POINT_QUEUE_JOINS,
    "to_review": POINT_QUEUE_JOINS,
    "to_define": POINT_QUEUE_JOINS,
    "to_approve": POINT_QUEUE_JOINS,
    "to_regrade": POINT_QUEUE_JOINS,
    "comments": ("register__institution", "risk_point"),
    "proposals": ("risk_point__institution", "level", "proposed_by"),
    "revisions": ("risk_point__institution", "risk_point__department", "proposed_by"),
    "to_file": ("institution",),
}


def audit_entries(*, user, form) -> QuerySet:
    """The audit entries the user may read (access module), filtered by the search form; for an
    office of a part of the tree, from the newest entry of its part down (``access.q_audit_from_newest``)."""
    entries = access.audit_entries_visible_to(user).select_related("actor", "institution")
    from_newest = access.q_audit_from_newest(user)
    if from_newest is not None:
        entries = entries.filter(from_newest)
    if form.is_bound and not form.is_valid():
        return entries.none()  # a search that cannot be read finds nothing: it is not widened to everything
    if form.is_bound:
        data = form.cleaned_data
        if data["person"]:
            entries = entries.filter(actor__username=data["person"])
        if data["institution"]:
            entries = entries.filter(institution__code=data["institution"])
        if data["action"]:
            entries = entries.filter(action__startswith=data["action"])
        # The days as a range of the time itself (``at__date`` is a function of it that no index
        # serves: a province's search of a past month read all its 2 million entries, 2.6 s).
        if data["since"]:
            entries = entries.filter(at__gte=_day_starts(data["since"]))
        if data["until"] and data["until"] < datetime.date.max:
            entries = entries.filter(at__lt=_day_starts(data["until"] + datetime.timedelta(days=1)))
    return entries


def _day_starts(day: datetime.date) -> datetime.datetime:
    """The first moment of ``day`` in the current time zone, as ``__date`` reads a day."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- what I must watch: supervision by level (篇5, and each scheme level's supervising role) --------

WATCH_ROWS = 50  # rows shown per list, a list page's (RISK_REGISTRY_PAGE_SIZE); the count says how many there are


def _supervising_memberships(user) -> list[Membership]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Membership.objects.filter(user=user).select_related("institution"))


def _role_place(membership: Membership, *, points: bool = False) -> Q:
    """Where a membership's role supervises: its subtree (offices), its institution (leaders), its
    department (heads). ``points``: said of risk points by their own copy of the institution's
    path, a subtree's a range of the index ``riskpoint_figures`` (no join of the institutions), an
    institution's one path, so that its points need no sorting by the tree (see
    ``_watched_point_ids``: by its id, a leader's four ranks read and sorted all its points, 37 ms
    for a large bureau, where one path reads 50 of each, 5 ms)."""
    if membership.role in (Role.DISCIPLINE, Role.SUPERIOR):
        if points:
            return access.q_points_in_subtrees([membership.institution.path])
        return Q(institution__path__startswith=membership.institution.path)
    if membership.role in (Role.LEADERSHIP, Role.PRINCIPAL):
        if points:
            return Q(institution_path=membership.institution.path)
        return Q(institution_id=membership.institution_id)
    return Q(department_id=membership.department_id)


@dataclass
class Watchlist:
    roles: list[str]
    points: Sequence[RiskPoint]  # the first ``WATCH_ROWS``, most serious first
    posts: Sequence[PostGrade]  # the first ``WATCH_ROWS``, grade A first
    point_count: int  # all the points, counted up to ``RISK_REGISTRY_COUNT_LIMIT`` + 1
    post_count: int


def _watched_point_ids(points: QuerySet[RiskPoint], roles: list[str]) -> list[int]:
    """The ids of the first ``WATCH_ROWS`` of ``points`` in the page's order: band (高 first), the
    level's rank, the institution's place in the tree, id. One query whatever the number of points.

    Sorting the whole list by band to show its first rows read and sorted every matching point (a
    province office's 316,000: 5 s). Within one band and rank the order is the tree's, which the
    index ``riskpoint_figures`` holds: so each band and rank of the levels the roles supervise
    (``GradeLevel`` read once; a province's schemes share a few) is one branch of a ``UNION ALL``
    that reads its first ``WATCH_ROWS`` entries of the subtree's range and stops, and Python merges
    the branches' few rows. The ``level_band`` and ``level_rank`` the point stores (triggers of
    migration 0017) are its level's, so a branch filters on them without the levels.

    The path is sorted ``USING ~<~``, byte by byte, as the index's ``varchar_pattern_ops`` keeps it
    (and as Python compares the paths): by the collation, which Django's ``order_by`` says and the
    index cannot give, PostgreSQL read and sorted the whole range. Django cannot say ``USING``, so
    each branch orders its compiled query, as ``capped_counts`` composes its parts."""
    ranks = sorted(
        GradeLevel.objects.filter(supervisor_role__in=roles).order_by().values_list("band", "rank").distinct(),
        key=lambda band_rank: (BAND_ORDER.get(band_rank[0], len(BAND_ORDER) + 1), band_rank[1]),
    )
    parts: list[str] = []
    params: list = []
    for band, rank in ranks:
        branch = points.filter(level_band=band, level_rank=rank).order_by()
        try:
            sql, branch_params = branch.values_list(
                "level_band", "level_rank", "institution_path", "id"
            ).query.sql_with_params()
        except EmptyResultSet:
            return []  # the user reads no point: every branch is empty
        order = f"ORDER BY branch.institution_path USING ~<~, branch.id LIMIT {WATCH_ROWS}"
        parts.append(f"(SELECT * FROM ({sql}) AS branch {order})")  # noqa: S608 (compiled SQL)
        params.extend(branch_params)
    if not parts:
        return []
    with connections[points.db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    first = sorted(rows, key=lambda row: (BAND_ORDER.get(row[0], len(BAND_ORDER) + 1), *row[1:]))[:WATCH_ROWS]
    return [row[3] for row in first]


def watchlist(user, *, year: int) -> Watchlist:
    """The points and posts the user supervises in ``year``: the points whose level names one of
    the user's roles as its supervisor (``GradeLevel.supervisor_role``) where that role reaches, and
    the graded posts whose supervision includes it (``SUPERVISION_ROLES``); always within what the
    access module lets the user see, drafts left out. The first ``WATCH_ROWS`` of each, with their
    control runs of the year, and a capped count of each: six queries (memberships, the levels'
    ranks, the points' ids, the points, the posts, both counts in one) whatever the number of rows.

    Every figure is read for the rows shown only: a point's runs are its stored ``control_runs``
    (the runs of its controls dated in the point's year, kept by a trigger: the count of its
    controls' runs of ``year`` the page once joined for every matching point), a post's the sum of
    its points' of the year."""
    memberships = _supervising_memberships(user)
    point_q = Q(pk__in=[])
    post_q = Q(pk__in=[])
    for membership in memberships:
        point_q |= _role_place(membership, points=True) & Q(level__supervisor_role=membership.role)
        supervisions = supervisions_of_role(membership.role)
        if supervisions and membership.role != Role.DEPT_HEAD:
            post_q |= _role_place(membership) & Q(supervision__in=supervisions)
    roles = sorted({membership.role for membership in memberships})
    points = access.risk_points_visible_to(user).filter(point_q, year=year).exclude(state=RiskPointState.DRAFT)
    ids = _watched_point_ids(points, roles)
    by_id = RiskPoint.objects.select_related("institution", "department", "position", "level").in_bulk(ids)
    posts = access.post_grades_visible_to(user).filter(post_q, year=year)
    post_runs = (
        RiskPoint.objects.filter(position_id=OuterRef("position_id"), year=year)
        .order_by()
        .values("position_id")
        .annotate(runs=Sum("control_runs"))
        .values("runs")
    )
    # The runs a subquery, which PostgreSQL evaluates past the limit (for the rows shown), where a
    # join counted the runs of every matching post's points before sorting them.
    shown_posts = list(
        posts.select_related("institution", "position__department")
        .annotate(effective=Coalesce(NullIf("grade", Value("")), "proposed"), runs=Coalesce(Subquery(post_runs), 0))
        .order_by("effective", "institution_id", "position_id")[:WATCH_ROWS]
    )
    counts = capped_counts({"points": points, "posts": posts})
    return Watchlist(
        roles=roles,
        points=[by_id[pk] for pk in ids],
        posts=shown_posts,
        point_count=counts["points"],
        post_count=counts["posts"],
    )


# The states whose points the leadership approved: their controls are the institution's own
# examples for a new point of the same risk type.
SUGGESTION_STATES = (RiskPointState.APPROVED, RiskPointState.IN_NOTICE, RiskPointState.ISSUED)
SUGGESTIONS = 5


def control_suggestions(*, user, institution: Institution, risk_type_id: int, year: int) -> list[Mapping[str, Any]]:
    """Controls of the institution's own approved points of earlier years with the same risk type,
    as far as the user may read them, the vague ones left out: the most used measures first, one
    row per measure (one query)."""
    points = access.risk_points_visible_to(user).filter(
        institution=institution, year__lt=year, risk_type_id=risk_type_id, state__in=SUGGESTION_STATES
    )
    return list(
        Control.objects.filter(risk_point__in=points)
        .exclude(pk__in=vague_controls())
        .values("measure")
        .annotate(
            uses=Count("id"),
            line=Max("line"),
            owner=Max("owner"),
            frequency=Max("frequency"),
            evidence=Max("evidence"),
        )
        .order_by("-uses", "measure")[:SUGGESTIONS]
    )


# Institutions a drop-down lists at the most (a province office sees 10,000).
OFFERED_INSTITUTIONS = 200


def tree_top(visible: QuerySet[Institution], *, limit: int) -> tuple[list[Institution], bool]:
    """``visible`` in the tree's order: every one when they are at most ``limit``, else (capped:
    True) the top of the tree they form and its direct children, ``limit`` at the most — how the
    home page's summary and a drop-down show a city's 1,001 or a province's 10,000. One or two
    queries."""
    ordered = visible.order_by("path")
    institutions = list(ordered[: limit + 1])
    if len(institutions) <= limit:
        return institutions, False
    top = min(institution.depth for institution in institutions)
    return list(ordered.filter(depth__lte=top + 1)[:limit]), True


def institutions_to_offer(visible: QuerySet[Institution]) -> list[Institution]:
    """The institutions of ``visible`` a drop-down offers (``tree_top``, ``OFFERED_INSTITUTIONS`` at
    the most)."""
    return tree_top(visible, limit=OFFERED_INSTITUTIONS)[0]
