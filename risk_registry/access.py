"""Who may see and do what: the one access module.

Views never filter by institution themselves; they ask here. Deny by default: a user with no
membership and no held position sees nothing. Objects outside a user's scope are answered with
404 (``*_or_404``: the user must not learn they exist); objects in scope that the user may not
change are answered with 403 (``require``).

Scopes, from memberships (user × institution × role):
- discipline office and superior office: the institution and its whole subtree;
- leadership and principal leader: their own institution;
- department head: their department (and the organisation chart of their institution);
- post holder (django-guardian ``positions.hold_position`` on a position, granted while a holding
  is open): the positions they hold and those positions' risk points.
Drafts are private to their authors' side (the holders of the position, the department's head)
until they are submitted. A register in public notice, and once issued, is open to every member
of staff of its institution. A point once issued stays so when the discipline office reopens it
for revision (修订中, ``RiskPoint.issued_before``): read-only to everyone who read it issued, so the
office follows the revision it asked for; only a never-issued draft is its author's alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Protocol, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.lookups import Exact
from django.http import Http404

from controls.models import Control, ControlRevision, ControlRun, Rule
from positions.models import Holding, Position, PositionUserObjectPermission, PowerItem
from risk_registry.models import (
    DecisionAttachment,
    LevelProposal,
    NoticeComment,
    PointSpread,
    PointTally,
    PostGrade,
    Register,
    RegisterVersion,
    RiskPoint,
    RiskPointState,
)
from risk_registry.models.risk import PART_DEPTH, path_part
from risk_registry.organisation.models import AuditEntry, Department, Institution, Membership, Role
from risk_registry.organisation.paths import path_ids
from risk_registry.organisation.services import SCOPE_CACHE_ATTRIBUTE, forget_scope
from risk_registry.organisation.users import AnyUser, User

Tally = TypeVar("Tally", PointTally, PointSpread)  # the points' stored counts an office may sum

SUBTREE_ROLES = (Role.DISCIPLINE, Role.SUPERIOR)
PUBLISHED_STATES = (RiskPointState.IN_NOTICE, RiskPointState.ISSUED)
INSTITUTION_ROLES = (Role.LEADERSHIP, Role.PRINCIPAL)
HOLD_CODENAME = "hold_position"  # positions.services.HOLD_PERMISSION, granted per position
MEMBERSHIP, HOLDING = "membership", "holding"  # the two kinds of row of the scope's one query


@dataclass(frozen=True)
class Scope:
    """What a user's memberships and holdings reach, computed once per request (two queries)."""

    subtree_paths: tuple[str, ...] = ()
    institution_ids: frozenset[int] = frozenset()  # leadership, principal leader
    department_ids: frozenset[int] = frozenset()  # department heads
    member_institution_ids: frozenset[int] = frozenset()  # any role or holding: sees the org chart
    # Those of them outside the user's subtrees: their published points are not already in sight.
    staff_beyond_subtrees: frozenset[int] = frozenset()
    held_position_ids: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset()
    discipline_paths: tuple[str, ...] = ()  # discipline office only (not the superior office)
    principal_institution_ids: frozenset[int] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not (self.subtree_paths or self.member_institution_ids)

    @property
    def is_holder(self) -> bool:
        return bool(self.held_position_ids)

    def q_institution(self, prefix: str = "") -> Q:
        """Institutions this scope may see the organisation chart of, as a Q on ``prefix``."""
        parts = [Q(**{f"{prefix}path__startswith": path}) for path in self.subtree_paths]
        if self.member_institution_ids:
            parts.append(Q(**{f"{prefix}id__in": self.member_institution_ids}))
        return reduce(or_, parts) if parts else Q(pk__in=[])


_EMPTY = Scope()


def scope_of(user: AnyUser) -> Scope:
    """The user's scope, cached on the user object for the length of the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return _EMPTY
    cached = getattr(user, SCOPE_CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    memberships, held = _roles_and_holdings(user)
    subtree_paths = tuple(sorted({path for role, _, _, path in memberships if role in SUBTREE_ROLES}))
    paths = {inst: path for _, _, inst, path in memberships} | {inst: path for _, inst, path in held}
    scope = Scope(
        subtree_paths=subtree_paths,
        institution_ids=frozenset(inst for role, _, inst, _ in memberships if role in INSTITUTION_ROLES),
        department_ids=frozenset(
            dept for role, dept, _, _ in memberships if role == Role.DEPT_HEAD and dept is not None
        ),
        member_institution_ids=frozenset(paths),
        staff_beyond_subtrees=frozenset(
            pk for pk, path in paths.items() if not any(path.startswith(top) for top in subtree_paths)
        ),
        held_position_ids=frozenset(pk for pk, _, _ in held),
        roles=frozenset(role for role, _, _, _ in memberships),
        discipline_paths=tuple(sorted({path for role, _, _, path in memberships if role == Role.DISCIPLINE})),
        principal_institution_ids=frozenset(inst for role, _, inst, _ in memberships if role == Role.PRINCIPAL),
    )
    setattr(user, SCOPE_CACHE_ATTRIBUTE, scope)
    return scope


def _roles_and_holdings(user: User) -> tuple[list[tuple[str, int | None, int, str]], list[tuple[int, int, str]]]:
    """The user's memberships (role, department, institution, path) and held positions (position,
    institution, path), read in one query (``UNION ALL``: every page needs the scope, so a round
    trip less on every page). The held positions come from guardian's direct foreign-key table for
    this user alone: guardian's get_objects_for_user ORs user and group permissions, which defeats
    the index and read every position of a province on every request. Holders are granted
    directly, never through a group (positions.services.holding_start)."""
    memberships = Membership.objects.filter(user_id=user.pk).values_list(
        Value(MEMBERSHIP, output_field=CharField()), "role", "department_id", "institution_id", "institution__path"
    )
    held = PositionUserObjectPermission.objects.filter(
        user_id=user.pk,
        permission__codename=HOLD_CODENAME,
        permission__content_type__app_label="positions",
    ).values_list(
        Value(HOLDING, output_field=CharField()),
        Value("", output_field=CharField()),
        "content_object_id",
        "content_object__institution_id",
        "content_object__institution__path",
    )
    rows = list(memberships.union(held, all=True))
    return (
        [(role, dept, inst, path) for kind, role, dept, inst, path in rows if kind == MEMBERSHIP],
        [(position, inst, path) for kind, _, position, inst, path in rows if kind == HOLDING],
    )


# --- what a user may see -------------------------------------------------------------------


def institutions_visible_to(user: AnyUser) -> QuerySet[Institution]:
    return Institution.objects.filter(scope_of(user).q_institution())


def departments_visible_to(user: AnyUser) -> QuerySet[Department]:
    return Department.objects.filter(scope_of(user).q_institution("institution__"))


def positions_visible_to(user: AnyUser) -> QuerySet[Position]:
    return Position.objects.filter(scope_of(user).q_institution("institution__"))


def positions_of_visible_institutions(user: AnyUser, *, path: str | None = None) -> QuerySet[Position]:
    """``positions_visible_to`` (within the subtree at ``path``), the same rows written as a
    semi-join on ``institutions_visible_to``: PostgreSQL reads each visible institution's posts by
    index instead of joining every post of the tree to its institution to test the scope's OR (a
    city's 53,000 posts counted per institution among the province's 527,000: 95 -> 22 ms)."""
    institutions = institutions_visible_to(user)
    if path is not None:
        institutions = institutions.filter(path__startswith=path)
    return Position.objects.filter(institution_id__in=institutions.values("pk"))


def power_items_visible_to(user: AnyUser) -> QuerySet[PowerItem]:
    return PowerItem.objects.filter(scope_of(user).q_institution("institution__"))


def can_manage_powers(user: AnyUser, institution: Institution, department_id: int | None = None) -> bool:
    """The power inventory (清权) of an institution: its discipline office, or a department's
    head for the powers of that department."""
    if is_discipline_office_for(user, institution):
        return True
    return department_id is not None and department_id in scope_of(user).department_ids


def rules_visible_to(user: AnyUser) -> QuerySet[Rule]:
    """The rule catalogue (制度目录) is read by whoever sees the institution's organisation chart."""
    return Rule.objects.filter(scope_of(user).q_institution("institution__"))


def can_manage_rules(user: AnyUser, institution: Institution, department_id: int | None = None) -> bool:
    """The discipline office of the institution, or a department's head for that department's rules."""
    return can_manage_powers(user, institution, department_id)


def can_read_disclosure(user: AnyUser, institution: Institution, scope: str) -> bool:
    """The public disclosure page: anyone when it is open, else the institution's staff and those
    above it who see it (the discipline offices and superiors in scope)."""
    if scope == "public":
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return is_staff_of(user, institution) or institutions_visible_to(user).filter(pk=institution.pk).exists()


def can_edit_grading_scheme(user: AnyUser, institution: Institution) -> bool:
    """The discipline office defines levels (纪委界定), so it keeps its institution's matrix."""
    return is_discipline_office_for(user, institution)


class InTree(Protocol):
    """An institution, or a row that carries its path (``dashboards.Compared``): what the offices'
    rules read of it."""

    @property
    def path(self) -> str: ...


def can_decide_post_grades(user: AnyUser, institution: InTree) -> bool:
    """The discipline office confirms or changes the grades the product proposes for posts (篇5)."""
    return is_discipline_office_for(user, institution)


def post_grades_visible_to(user: AnyUser) -> QuerySet[PostGrade]:
    """Post grades of the institutions the user oversees: discipline and superior offices (subtree),
    leadership and principal leader (own institution). Holders and department heads see none."""
    scope = scope_of(user)
    q = Q(pk__in=[])
    if scope.subtree_paths:
        q |= reduce(or_, (Q(institution__path__startswith=path) for path in scope.subtree_paths))
    if scope.institution_ids:
        q |= Q(institution_id__in=scope.institution_ids)
    return PostGrade.objects.filter(q)


def can_record_rotation(user: AnyUser, institution: Institution) -> bool:
    """Holdings start, end and rotate (轮岗交流) as the discipline office records them."""
    return is_discipline_office_for(user, institution)


def q_points_in_subtrees(paths: Iterable[str], prefix: str = "") -> Q:
    """Risk points (through ``prefix``) of the subtrees at ``paths``, by the point's own copy of its
    institution's path (kept by the database): a prefix range of the index ``riskpoint_figures``,
    never a join through the institution table that walks the whole table."""
    return reduce(or_, (Q(**{f"{prefix}institution_path__startswith": path}) for path in paths), Q(pk__in=[]))


def q_one_part(user: AnyUser) -> Q | None:
    """When everything the user may read lies in one city's part of the tree (a city's discipline or
    superior office, with no other role or post), that part as the index ``riskpoint_part`` says it;
    else None. The filter adds nothing to ``risk_points_visible_to`` (the same rows) but lets a page
    read the user's newest points in id order from that index (the first 51 entries of the city's
    range, backwards) where the prefix range alone had the city's 204,000 entries of
    ``riskpoint_scope`` read and sorted. It is not part of the visibility filter itself: evaluated
    on every row, the expression cost the pages that group a city's points (the oversight
    dashboard) 0.3 s, and PostgreSQL, counting the two conditions as independent, expected a
    tenth of the rows."""
    scope = scope_of(user)
    if len(scope.subtree_paths) != 1 or len(path_ids(scope.subtree_paths[0])) != PART_DEPTH:
        return None
    if scope.institution_ids or scope.department_ids or scope.held_position_ids or scope.staff_beyond_subtrees:
        return None
    return Q(Exact(path_part(), scope.subtree_paths[0]))


def q_published_once() -> Q:
    """Points the institution's staff read: published (in notice, issued), or issued once and
    reopened for revision since (a revision follows in sight, to the next issue)."""
    return Q(state__in=PUBLISHED_STATES) | Q(issued_before=True)


def risk_points_visible_to(user: AnyUser) -> QuerySet[RiskPoint]:
    """Risk points the user may read: see the module docstring for the rules."""
    scope = scope_of(user)
    if scope.is_empty:
        return RiskPoint.objects.none()
    overseen = _q_points_overseen(scope)
    parts = [overseen] if overseen is not None else []
    parts += _q_points_beyond_oversight(scope)
    if not parts:
        return RiskPoint.objects.none()
    return RiskPoint.objects.filter(reduce(or_, parts))


def sees_fresh_drafts(user: AnyUser) -> bool:
    """Whether a point the user may read can be a fresh draft (never issued): only through the
    departments the user heads and the posts the user holds. What an office or the leadership
    oversees is submitted (``Q_SUBMITTED``): its drafts are the points reopened for revision."""
    scope = scope_of(user)
    return bool(scope.department_ids or scope.held_position_ids)


# Submitted, or once issued and now reopened for revision (修订中): never a fresh draft. (The
# points' tallies say the same in SQL: ``models.tally.SUBMITTED_SQL``.)
Q_SUBMITTED = ~Q(state=RiskPointState.DRAFT) | Q(issued_before=True)


def _q_points_overseen(scope: Scope) -> Q | None:
    """The submitted points of the subtrees the scope oversees and of the institutions it leads."""
    oversight = [q_points_in_subtrees(scope.subtree_paths)] if scope.subtree_paths else []
    if scope.institution_ids:
        oversight.append(Q(institution_id__in=scope.institution_ids))
    return Q_SUBMITTED & reduce(or_, oversight) if oversight else None


def _q_points_beyond_oversight(scope: Scope) -> list[Q]:
    """The scope's other points: of the departments it heads, the posts it holds, the published
    registers of the institutions it works in."""
    parts = []
    if scope.department_ids:
        parts.append(Q(department_id__in=scope.department_ids))
    if scope.held_position_ids:
        parts.append(Q(position_id__in=scope.held_position_ids))
    # The published register is open to the institution's staff; within the user's subtrees the
    # submitted points are in sight already, and leaving those institutions out keeps a city
    # office's filter one index range (an OR with them made PostgreSQL read every row of it).
    if scope.staff_beyond_subtrees:
        parts.append(Q(institution_id__in=scope.staff_beyond_subtrees) & q_published_once())
    return parts


def point_tallies_visible_to(user: AnyUser) -> QuerySet[PointTally]:
    """The tallies (``PointTally``) of the submitted points of the subtrees the user oversees and of
    the institutions the user leads: every point they count is one ``risk_points_visible_to`` gives
    the user, so a figure per institution may sum them instead of the points. The user's other
    points are ``risk_points_seen_elsewhere``; the two never count a point twice."""
    scope = scope_of(user)
    parts = [Q(institution__path__startswith=path) for path in scope.subtree_paths]
    return _overseen_tallies(PointTally.objects.all(), parts, scope)


def point_spreads_visible_to(user: AnyUser) -> QuerySet[PointSpread]:
    """The charts' rows (``PointSpread``) of the same points as ``point_tallies_visible_to``: the
    submitted points of the subtrees the user oversees (a range of the rows' own copy of the path)
    and of the institutions the user leads. The user's other points are ``risk_points_seen_elsewhere``."""
    scope = scope_of(user)
    parts = [q_points_in_subtrees(scope.subtree_paths)] if scope.subtree_paths else []
    return _overseen_tallies(PointSpread.objects.all(), parts, scope)


def _overseen_tallies(tallies: QuerySet[Tally], subtrees: list[Q], scope: Scope) -> QuerySet[Tally]:
    """``tallies`` (rows with an ``institution`` and ``submitted``) of the submitted points of
    ``subtrees`` (the scope's subtrees as a condition on them) and of the institutions ``scope`` leads."""
    parts = list(subtrees)
    if scope.institution_ids:
        parts.append(Q(institution_id__in=scope.institution_ids))
    if not parts:
        return tallies.none()
    return tallies.filter(reduce(or_, parts), submitted=True)


def risk_points_seen_elsewhere(user: AnyUser) -> QuerySet[RiskPoint]:
    """The points ``risk_points_visible_to`` gives beyond those ``point_tallies_visible_to`` counts:
    of the departments the user heads and the posts the user holds (their drafts too), of the
    published registers where the user works, less the submitted points of what the user oversees.
    Said with their own conditions (the departments', the posts' indexes), not as the visible points
    minus the others; none at all (no query) for an office that only oversees."""
    scope = scope_of(user)
    parts = _q_points_beyond_oversight(scope)
    if not parts:
        return RiskPoint.objects.none()
    points = RiskPoint.objects.filter(reduce(or_, parts))
    overseen = _q_points_overseen(scope)
    return points.exclude(overseen) if overseen is not None else points


def people_of(institutions: QuerySet[Institution], *, former_holders: bool = False) -> QuerySet[User]:
    """Users with a role in ``institutions`` or holding one of their posts (an open holding; any,
    ended ones too, with ``former_holders``), by name: whom a form may name there (a warning's
    subject, a rotation's holder). Not a right to see them: who may open the page decides.

    Their ids as a union of the two indexed lookups (the memberships, the holdings of the
    institutions' posts): an OR across both joins read every user and holding instead (a bureau of
    1,100 posts in a province of 590,000 users: 0.7–1.0 s, against 25 ms)."""
    members = Membership.objects.filter(institution__in=institutions).order_by().values("user_id")
    holdings = Holding.objects.filter(position__institution__in=institutions)
    if not former_holders:
        holdings = holdings.filter(ended_on__isnull=True)
    holders = holdings.order_by().values("user_id")
    return User.objects.filter(pk__in=members.union(holders)).order_by("last_name", "first_name", "username")


def holdings_visible_to(user: AnyUser) -> QuerySet[Holding]:
    """Holdings of the positions the user may see (who holds a post is part of the org chart)."""
    return Holding.objects.filter(position__in=positions_visible_to(user))


def registers_visible_to(user: AnyUser) -> QuerySet[Register]:
    """Registers of the institutions the user may see; their points stay filtered by
    ``risk_points_visible_to``."""
    return Register.objects.filter(institution__in=institutions_visible_to(user))


def versions_visible_to(user: AnyUser) -> QuerySet[RegisterVersion]:
    """Filed versions (归档版本) of the registers the user may see."""
    return RegisterVersion.objects.filter(register__in=registers_visible_to(user))


def decision_attachments_visible_to(user: AnyUser) -> QuerySet[DecisionAttachment]:
    """Files of the decisions the user may see: those of the registers the user may see (whose
    page lists the decisions)."""
    return DecisionAttachment.objects.filter(decision__register__in=registers_visible_to(user))


def notice_comments_visible_to(user: AnyUser) -> QuerySet[NoticeComment]:
    """Comments made during the public notice of the registers the user may see."""
    return NoticeComment.objects.filter(register__in=registers_visible_to(user))


def level_proposals_visible_to(user: AnyUser) -> QuerySet[LevelProposal]:
    """Proposals to raise a level (提级建议) on the risk points the user may read."""
    return LevelProposal.objects.filter(risk_point__in=risk_points_visible_to(user))


def _draft_readers_q(scope: Scope) -> Q:
    """Points whose drafts the scope may read: the author's side (holders of the post, the head
    of the department). Edits made while a point was a draft are theirs alone, for good."""
    parts = []
    if scope.department_ids:
        parts.append(Q(department_id__in=scope.department_ids))
    if scope.held_position_ids:
        parts.append(Q(position_id__in=scope.held_position_ids))
    return reduce(or_, parts) if parts else Q(pk__in=[])


def _is_draft_reader(scope: Scope, risk_point: RiskPoint) -> bool:
    """``_draft_readers_q`` for one point already loaded: the same rule, without a query."""
    return risk_point.department_id in scope.department_ids or risk_point.position_id in scope.held_position_ids


def risk_point_history_visible_to(user, risk_point: RiskPoint) -> QuerySet[AuditEntry]:
    """The point's audit entries the user may read (the point itself is visible to them): the
    edits made while it was a draft only for its author's side."""
    entries = AuditEntry.objects.filter(target_type=RiskPoint._meta.label_lower, target_id=risk_point.pk)
    if not _is_draft_reader(scope_of(user), risk_point):
        entries = entries.filter(private=False)
    return entries


def _holds(rows: QuerySet, column: str = "target_id") -> Exists:
    """Whether ``rows`` hold the row ``column`` names (by default the entry's target), checked row
    by row through their primary key.

    ``id >= column`` beside ``id = column`` adds nothing to the test, but PostgreSQL can no longer
    turn it into a hash of every visible row (it hashes only equalities), which it built before
    reading the first entry whenever the hash fitted in memory: a city's 204,000 points, 70–110 ms
    at province scale, for a page that checks about 57 entries (0.3 ms one by one). A whole tree's
    two million points never fitted, which is why only the offices of a part of the tree paid for
    it. The equality stays so that the check is one step in the primary key."""
    return Exists(rows.filter(pk=OuterRef(column), pk__gte=OuterRef(column)))


def audit_entries_visible_to(user) -> QuerySet[AuditEntry]:
    """Audit entries of the institutions the user oversees (discipline and superior offices),
    each only while the user may see its object in the object's current state: a risk point's
    entries, its controls', their runs' and its comments' follow the point's visibility; entries
    made on a draft (``private``) stay with the draft's author side; an entry whose object no
    longer exists and whose visibility cannot be told is not shown (deny by default)."""
    scope = scope_of(user)
    if not scope.subtree_paths:
        return AuditEntry.objects.none()
    overseen = reduce(or_, (Q(institution__path__startswith=path) for path in scope.subtree_paths))
    # Each visibility test is an EXISTS on the target's primary key (``_holds``: row by row, never
    # a hash of every visible row), checked for the entries the page reads (50, or the 1,001 its
    # count stops at). ``target_id IN (all visible points)`` inside an OR cannot become a join: at
    # province size its hash did not fit in memory and PostgreSQL scanned the two million points
    # once per entry (a count ran for minutes).
    points = risk_points_visible_to(user)
    controls = Control.objects.filter(_holds(points, "risk_point_id"))
    comments = NoticeComment.objects.filter(
        Q(risk_point__isnull=True) | _holds(points, "risk_point_id"),
        register__institution__in=institutions_visible_to(user),
    )
    by_type = {
        RiskPoint._meta.label_lower: points,
        Control._meta.label_lower: controls,
        ControlRun._meta.label_lower: ControlRun.objects.filter(_holds(controls, "control_id")),
        NoticeComment._meta.label_lower: comments,
    }
    target = ~Q(target_type__in=list(by_type)) | reduce(
        or_,
        (Q(target_type=kind) & _holds(rows) for kind, rows in by_type.items()),
    )
    drafts = RiskPoint.objects.filter(_draft_readers_q(scope))
    draft_controls = Control.objects.filter(_holds(drafts, "risk_point_id"))
    private = (
        Q(private=False)
        | (Q(target_type=RiskPoint._meta.label_lower) & _holds(drafts))
        | (Q(target_type=Control._meta.label_lower) & _holds(draft_controls))
    )
    return AuditEntry.objects.filter(overseen, target, private)


def q_audit_from_newest(user) -> Q | None:
    """For an office whose scope is a part of the tree (a city, a county, a bureau): its entries
    are those at or below the newest entry of its institutions, as the index ``audit_institution``
    says it (one backward step per institution: a city's 1,001 in about 6 ms). The filter adds
    nothing to ``audit_entries_visible_to`` (the same rows) but lets the page start its walk down the
    ids there: PostgreSQL, taking a part's entries to be spread evenly over the ids, walked them
    backwards from the newest entry of the whole table, past every other part's (a province's first
    city: two million entries, 0.7–1.4 s). None for a whole tree (``/1/``), where nearly every entry
    is the user's own, or for a user who oversees no subtree."""
    paths = scope_of(user).subtree_paths
    if not paths or any(len(path_ids(path)) == 1 for path in paths):
        return None
    newest = AuditEntry.objects.filter(institution=OuterRef("pk")).order_by("-id").values("id")[:1]
    institutions = Institution.objects.filter(reduce(or_, (Q(path__startswith=path) for path in paths)))
    top = institutions.annotate(newest=Subquery(newest)).order_by(F("newest").desc(nulls_last=True))
    return Q(id__lte=Subquery(top.values("newest")[:1]))


def history_of(user, target) -> QuerySet[AuditEntry]:
    """The audit history shown on the page of an organisation record (a power item, a rule): the
    entries of ``target``, which the caller has already fetched through a ``*_visible_to``
    queryset; such records are open to everyone who sees the institution, but an entry recorded
    as private (a draft's) never is, and nothing is shown to a user who cannot see the institution."""
    institution_id = getattr(target, "institution_id", None)
    if institution_id is None or not institutions_visible_to(user).filter(pk=institution_id).exists():
        return AuditEntry.objects.none()
    return AuditEntry.objects.filter(target_type=target._meta.label_lower, target_id=target.pk, private=False)


def register_official_points(*, institution: Institution, year: int) -> tuple[QuerySet[RiskPoint], bool]:
    """The register as it officially stands, the same whoever asks: the published points (in
    notice or issued) once any are published, else the approved ones. Returns (points, published).
    Drafts, points under review and points sent back are never part of it."""
    points = RiskPoint.objects.filter(institution=institution, year=year)
    published = points.filter(state__in=PUBLISHED_STATES)
    if published.exists():
        return published, True
    return points.filter(state=RiskPointState.APPROVED), False


def official_register_for(user, *, institution: Institution, year: int) -> QuerySet[RiskPoint] | None:
    """The official register for a user who may read all of it, else None (the user gets a working
    copy of what they may see). Those who oversee the institution (its leadership, its discipline
    office, the superior office) may always; its other staff once the register is published, as
    they may read it on the notice page."""
    points, published = register_official_points(institution=institution, year=year)
    scope = scope_of(user)
    oversees = institution.pk in scope.institution_ids or any(
        institution.path.startswith(path) for path in scope.subtree_paths
    )
    if oversees or (published and institution.pk in scope.member_institution_ids):
        return points
    return None


# --- what a user may do ---------------------------------------------------------------------


def can_add_risk_point_to_position(user: AnyUser, position: Position) -> bool:
    return position.pk in scope_of(user).held_position_ids


def can_add_risk_point_to_department(user: AnyUser, department: Department) -> bool:
    return department.pk in scope_of(user).department_ids


def can_edit_risk_point(user: AnyUser, risk_point: RiskPoint) -> bool:
    """Drafts only, by a holder of the point's position (or the head, for department-level points)."""
    if risk_point.state != RiskPointState.DRAFT:
        return False
    scope = scope_of(user)
    if risk_point.position_id is not None:
        return risk_point.position_id in scope.held_position_ids
    return risk_point.department_id in scope.department_ids


# --- who acts at each step of the workflow (risk_registry.workflow) --------------------------


def holds_position_of(user: AnyUser, risk_point: RiskPoint) -> bool:
    return risk_point.position_id is not None and risk_point.position_id in scope_of(user).held_position_ids


def is_author_side(user: AnyUser, risk_point: RiskPoint) -> bool:
    """The holder of the point's position, or the head for a department-level point."""
    if risk_point.position_id is not None:
        return holds_position_of(user, risk_point)
    return risk_point.department_id in scope_of(user).department_ids


def is_department_reviewer(user: AnyUser, risk_point: RiskPoint) -> bool:
    """Department review (部门评查): the department's head, never on a post they hold themselves
    (the leadership team's head is its principal: their own points go to the discipline office)."""
    scope = scope_of(user)
    if holds_position_of(user, risk_point):
        return False
    return risk_point.department_id in scope.department_ids or is_discipline_office_for(user, risk_point.institution)


def is_discipline_office_for(user: AnyUser, institution: InTree) -> bool:
    return any(institution.path.startswith(path) for path in scope_of(user).discipline_paths)


def is_superior_office_for(user: AnyUser, institution: Institution) -> bool:
    """The superior office of an institution: the discipline office or superior office of one of its
    ancestors (never of the institution itself), who approves the grades (审议确定) where the
    institution's rules ask for it."""
    return any(institution.path.startswith(path) and institution.path != path for path in scope_of(user).subtree_paths)


def is_leadership_of(user: AnyUser, institution: Institution) -> bool:
    return institution.pk in scope_of(user).institution_ids


def is_principal_of(user: AnyUser, institution: Institution) -> bool:
    return institution.pk in scope_of(user).principal_institution_ids


def can_propose_level(user: AnyUser, risk_point: RiskPoint) -> bool:
    """The discipline office proposes raising a level (提级) of a point the department has
    submitted: never of a draft, which is still its author's (their own, if they hold the post)."""
    return risk_point.state != RiskPointState.DRAFT and is_discipline_office_for(user, risk_point.institution)


def is_staff_of(user: AnyUser, institution: Institution) -> bool:
    """Anyone with a role or a position in the institution: may read and comment on its notice."""
    return institution.pk in scope_of(user).member_institution_ids


# --- helpers for views ----------------------------------------------------------------------


def object_or_404(queryset: QuerySet, **lookup):
    """The object from a scoped queryset, or 404 when it is missing or out of scope."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None


def require(allowed: bool) -> None:
    """403 for an action on an object the user may see but not change."""
    if not allowed:
        raise PermissionDenied


# --- controls ---------------------------------------------------------------------------------


def can_record_control_run(user: AnyUser, control) -> bool:
    """The holder of the control's point's position, or the head for a department-level point."""
    return can_record_runs_of(user, control.risk_point)


def can_record_runs_of(user: AnyUser, point: RiskPoint) -> bool:
    """Who records the runs of a point's controls (from the cached scope, no query)."""
    scope = scope_of(user)
    if point.position_id is not None:
        return point.position_id in scope.held_position_ids
    return point.department_id in scope.department_ids


def controls_visible_to(user: AnyUser) -> QuerySet:
    return Control.objects.filter(risk_point__in=risk_points_visible_to(user))


# Once leadership has approved a grade (审定), its point is approved, in notice or issued.
SETTLED_STATES = (RiskPointState.APPROVED, RiskPointState.IN_NOTICE, RiskPointState.ISSUED)


def control_revisions_visible_to(user: AnyUser) -> QuerySet[ControlRevision]:
    """Revisions of controls (措施修订) on the risk points the user may read."""
    return ControlRevision.objects.filter(risk_point__in=risk_points_visible_to(user))


def can_propose_control_revision(user: AnyUser, risk_point: RiskPoint) -> bool:
    """After 审定, a holder of the point's position or the head of its department proposes its
    controls (where the institution's rules let measures follow the approved grades)."""
    if risk_point.state not in SETTLED_STATES:
        return False
    return is_author_side(user, risk_point) or risk_point.department_id in scope_of(user).department_ids


def can_review_control_revision(user: AnyUser, revision: ControlRevision) -> bool:
    """The department head (not on a post they hold) or the discipline office, never the proposer."""
    return revision.proposed_by_id != getattr(user, "pk", None) and is_department_reviewer(user, revision.risk_point)


__all__ = ["forget_scope"]  # re-exported for callers above the organisation layer
