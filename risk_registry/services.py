"""Services that write risk points (and, through controls.services, their controls)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BooleanField,
    Count,
    F,
    Func,
    OuterRef,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from controls.models import Control, ControlRun, Rule
from controls.services import control_apply_changes, control_quality_refresh
from positions import services as positions_services
from positions.models import Holding, Position, PowerItem
from risk_registry import access
from risk_registry.models import PostGrade, PostGradeLevel, RiskPoint, RiskPointState
from risk_registry.models.post_grade import propose_grade, supervision_for
from risk_registry.organisation import work
from risk_registry.organisation.models import (
    BAND_ORDER,
    AuditEntry,
    Band,
    Department,
    GradeLevel,
    GradingScheme,
    Institution,
)
from risk_registry.organisation.selectors import risk_types_for
from risk_registry.organisation.services import (
    apply_changes,
    audit_record,
    grade_level_for,
    grading_scheme_adopt_preset,
)
from risk_registry.selectors import current_year, points_a_switch_flags

# A write based on an old copy of a point is refused with this message, in the user's language.
STALE_POINT_MESSAGE = gettext_lazy(
    "This risk point has just been changed by someone else. Reload the page, check the changes and try again."
)

RISK_POINT_FIELDS = (
    "risk_type",
    "found_by",
    "description",
    "manifestation",
    "likelihood",
    "severity",
    "power_item",
    "process_step",
)


# --- risk points ----------------------------------------------------------------------------


def _check_placement(
    *, institution: Institution, department: Department, position, risk_type, power_item, process_step
) -> None:
    """Refuse a point whose parts belong elsewhere; the forms offer only valid choices, but the
    services are the last line: a crafted POST must not attach another unit's data."""
    if department.institution_id != institution.pk:
        raise ValidationError(_("The department belongs to another institution."))
    if position is not None and position.department_id != department.pk:
        raise ValidationError(_("The position belongs to another department."))
    if risk_type is not None and not risk_types_for(institution).filter(pk=risk_type.pk).exists():
        raise ValidationError(_("The risk type is not one of this institution's risk types."))
    if power_item is not None:
        exercised = power_item.positions.filter(pk=position.pk).exists() if position is not None else False
        if power_item.institution_id != institution.pk or not (exercised or power_item.department_id == department.pk):
            raise ValidationError(_("The power item is not exercised by this position or department."))
    if process_step is not None and (power_item is None or process_step.power_item_id != power_item.pk):
        raise ValidationError(_("The process step belongs to another power item."))


@transaction.atomic
def risk_point_create(
    *,
    by,
    department: Department,
    position=None,
    year: int,
    fields: dict[str, Any],
    controls: Iterable[dict[str, Any]] = (),
) -> RiskPoint:
    """A holder (on their position) or a department head (department-level) drafts a point."""
    allowed = (
        access.can_add_risk_point_to_position(by, position)
        if position is not None
        else access.can_add_risk_point_to_department(by, department)
    )
    access.require(allowed)
    institution = department.institution
    values = {name: fields[name] for name in RISK_POINT_FIELDS if name in fields}
    _check_placement(
        institution=institution,
        department=department,
        position=position,
        risk_type=values.get("risk_type"),
        power_item=values.get("power_item"),
        process_step=values.get("process_step"),
    )
    level = grade_level_for(institution=institution, likelihood=values["likelihood"], severity=values["severity"])
    risk_point = RiskPoint.objects.create(
        institution=institution,
        department=department,
        position=position,
        year=year,
        level=level,
        state=RiskPointState.DRAFT,
        created_by=by,
        **values,
    )
    audit_record(
        actor=by,
        action="risk_point.create",
        target=risk_point,
        institution=institution,
        changes={"level": [None, level.name], "state": [None, RiskPointState.DRAFT]},
        private=True,
    )
    control_apply_changes(risk_point=risk_point, by=by, controls=controls)
    work.work_changed(work.POINTS, institution_ids=[institution.pk], year=year)  # a draft reopens the self-check
    return risk_point


@transaction.atomic
def risk_point_update(
    *,
    by,
    risk_point: RiskPoint,
    fields: dict[str, Any],
    controls: Iterable[dict[str, Any]] = (),
    version: int | None = None,
) -> RiskPoint:
    """Edit a draft. The row is locked so that two editors cannot interleave their changes, and
    ``version`` (the one the editor loaded) must still be current: the second of two editors who
    opened the same draft is told so instead of overwriting the first. Every edit bumps it."""
    risk_point = RiskPoint.objects.select_for_update().select_related("institution", "level").get(pk=risk_point.pk)
    access.require(access.can_edit_risk_point(by, risk_point))
    if version is not None and version != risk_point.version:
        raise ValidationError(STALE_POINT_MESSAGE)
    values = {name: fields[name] for name in RISK_POINT_FIELDS if name in fields}
    _check_placement(
        institution=risk_point.institution,
        department=risk_point.department,
        position=risk_point.position,
        risk_type=values.get("risk_type"),
        power_item=values.get("power_item", risk_point.power_item),
        process_step=values.get("process_step", risk_point.process_step),
    )
    changes = apply_changes(risk_point, values)
    if risk_point.likelihood is None or risk_point.severity is None:
        raise ValidationError(_("Give the likelihood and the severity."))
    if risk_point.graded_directly:  # graded directly (imported): assessed now, graded by the matrix
        risk_point.graded_directly = False
        changes["graded_directly"] = [True, False]
    level = grade_level_for(
        institution=risk_point.institution, likelihood=risk_point.likelihood, severity=risk_point.severity
    )
    if level.pk != risk_point.level_id:
        changes["level"] = [risk_point.level.name, level.name]
        risk_point.level = level
    controls = [c for c in controls if c.get("id") or (c.get("measure") or "").strip()]  # blank rows are no edit
    if changes or controls:
        risk_point.version += 1  # read under the row lock
        risk_point.save()
    if changes:
        audit_record(
            actor=by,
            action="risk_point.update",
            target=risk_point,
            institution=risk_point.institution,
            changes=changes,
            private=True,  # drafts only: their wording stays with the author's side
        )
    control_apply_changes(risk_point=risk_point, by=by, controls=controls)
    return risk_point


def risk_points_copy(
    *, points: Iterable[RiskPoint], year: int, state: str, carried: bool, carried_unfiled: bool = False, author=None
) -> dict:
    """Copy points and their controls into ``year`` in ``state``: the PDCA rollover (``carried``:
    each copy remembers its source; ``carried_unfiled``: the source's register was never filed)
    and the demo's past registers. Two bulk inserts and one read, whatever the number of points.
    ``author`` None keeps each source's author. Returns ``{source id: copy}``; callers write
    their own audit entries (one per register)."""
    sources = list(points)
    if not sources:
        return {}
    copies = RiskPoint.objects.bulk_create(
        RiskPoint(
            institution_id=p.institution_id,
            department_id=p.department_id,
            position_id=p.position_id,
            power_item_id=p.power_item_id,
            process_step_id=p.process_step_id,
            year=year,
            risk_type_id=p.risk_type_id,
            found_by=p.found_by,
            description=p.description,
            manifestation=p.manifestation,
            likelihood=p.likelihood,
            severity=p.severity,
            graded_directly=p.graded_directly,
            level_id=p.level_id,
            notes=p.notes,
            head_in_charge=p.head_in_charge,
            leader_in_charge=p.leader_in_charge,
            import_order=p.import_order,
            state=state,
            carried_from_id=p.pk if carried else None,
            carried_unfiled=carried and carried_unfiled,
            created_by=author if author is not None else p.created_by,
        )
        for p in sources
    )
    copy_of = {source.pk: copy for source, copy in zip(sources, copies, strict=True)}
    Control.objects.bulk_create(
        Control(
            risk_point_id=copy_of[c.risk_point_id].pk,
            line=c.line,
            measure=c.measure,
            owner=c.owner,
            frequency=c.frequency,
            evidence=c.evidence,
            rule_id=c.rule_id,
        )
        for c in Control.objects.filter(risk_point_id__in=copy_of).order_by("id")
    )
    control_quality_refresh(RiskPoint.objects.filter(pk__in=[copy.pk for copy in copies]))
    work.work_changed(work.POINTS, institution_ids={copy.institution_id for copy in copies}, year=year)
    return copy_of


# --- the grading matrix: the discipline office edits it; filed points are flagged, never regraded --


def carried_rank_refresh(points: QuerySet[RiskPoint]) -> int:
    """Store the rank of each of ``points``' source's level (``RiskPoint.carried_from_rank``; NULL
    without a source) in one UPDATE that writes only the points whose stored rank differs; returns
    how many. PostgreSQL's triggers keep the column (migration 0014): this is for
    ``manage.py reconcile_stored``, over rows written with the triggers off."""
    source_rank = Subquery(
        RiskPoint.objects.filter(pk=OuterRef("carried_from_id")).order_by().values("level__rank")[:1],
        output_field=PositiveSmallIntegerField(),
    )
    differs = Func(  # NULL-safe: a rank left behind by a source that is gone is stale too
        F("carried_from_rank"),
        source_rank,
        template="%(expressions)s",
        arg_joiner=" IS DISTINCT FROM ",
        output_field=BooleanField(),
    )
    return points.order_by().filter(differs).update(carried_from_rank=source_rank)


def position_kind_refresh(points: QuerySet[RiskPoint]) -> int:
    """Store the kind of each of ``points``' post (``RiskPoint.position_kind``; "" for a
    department's point) in one UPDATE that writes only the points where it differs; returns how
    many. Triggers keep it (migration 0016): this is for ``manage.py reconcile_stored``."""
    kind = Coalesce(Subquery(Position.objects.filter(pk=OuterRef("position_id")).values("kind")[:1]), Value(""))
    return points.order_by().exclude(position_kind=kind).update(position_kind=kind)


def level_figures_refresh(points: QuerySet[RiskPoint]) -> int:
    """Store the band, rank and scheme of each of ``points``' level (``RiskPoint.level_band``,
    ``level_rank``, ``level_scheme_id``) in one UPDATE that writes only the points where one of them
    differs; returns how many. Triggers keep them (migration 0017): this is for
    ``manage.py reconcile_stored``."""
    stale = (
        ~Q(level_band=F("level__band"))
        | ~Q(level_rank=F("level__rank"))
        | ~Q(level_scheme_id=F("level__scheme_id"))
        | Q(level_scheme_id__isnull=True)
    )
    stale_ids = points.order_by().filter(stale).values("pk")
    level = GradeLevel.objects.filter(pk=OuterRef("level_id"))
    return RiskPoint.objects.filter(pk__in=stale_ids).update(
        level_band=Subquery(level.values("band")[:1]),
        level_rank=Subquery(level.values("rank")[:1]),
        level_scheme_id=Subquery(level.values("scheme_id")[:1]),
    )


def control_runs_refresh(points: QuerySet[RiskPoint]) -> int:
    """Store the runs of each of ``points``' controls dated in the point's year
    (``RiskPoint.control_runs``) in one UPDATE that writes only the points whose count differs;
    returns how many. A trigger keeps the column (migration 0015): this is for
    ``manage.py reconcile_stored``, over rows written with the triggers off."""
    runs = Subquery(
        ControlRun.objects.filter(control__risk_point=OuterRef("pk"), ran_on__year=OuterRef("year"))
        .order_by()
        .values("control__risk_point")
        .annotate(total=Count("id"))
        .values("total"),
        output_field=PositiveIntegerField(),
    )
    counted = Coalesce(runs, 0)
    return points.order_by().exclude(control_runs=counted).update(control_runs=counted)


@transaction.atomic
def grading_scheme_edit(*, by, institution: Institution, matrix: list[list[str]], bands: dict[str, str]) -> int:
    """Change the institution's matrix (cell by cell) and its levels' bands; returns the number of
    points flagged for re-grading.

    A point keeps its level: the points of this year and later whose (likelihood, severity) cell
    now names another level are flagged (``needs_regrading``, the discipline office's 待重新定级
    list) and get their new level only when the office defines it again through the register path.
    Drafts are not flagged (their level follows the matrix at their next edit); earlier years are
    history. A change of band alone regrades nothing. One audit entry holds before and after."""
    access.require(access.can_edit_grading_scheme(by, institution))
    scheme = (
        GradingScheme.objects.select_for_update().filter(pk=institution.grading_scheme_id).first()
        if institution.grading_scheme_id is not None
        else None
    )
    if scheme is None or scheme.institution_id != institution.pk:
        raise ValidationError(_("%(institution)s has no grading scheme of its own yet.") % {"institution": institution})
    levels = list(scheme.levels.all())
    if set(bands) != {level.code for level in levels} or not set(bands.values()) <= set(Band.values):
        raise ValidationError(_("Give every level one of the bands high, medium or low."))
    before = [list(row) for row in scheme.matrix]
    scheme.matrix = [list(row) for row in matrix]
    scheme.full_clean()  # the shape, and every cell one of the scheme's levels
    changed = [
        (likelihood, severity)
        for likelihood, row in enumerate(scheme.matrix, start=1)
        for severity, code in enumerate(row, start=1)
        if before[likelihood - 1][severity - 1] != code
    ]
    band_changes = {level.code: [level.band, bands[level.code]] for level in levels if level.band != bands[level.code]}
    if not changed and not band_changes:
        return 0
    scheme.save(update_fields=["matrix"])
    for level in levels:
        if level.code in band_changes:
            level.band = bands[level.code]
            level.save(update_fields=["band"])
    audit_record(
        actor=by,
        action="grading_scheme.update",
        target=scheme,
        institution=institution,
        summary=_("%(cells)d cells and %(bands)d bands changed") % {"cells": len(changed), "bands": len(band_changes)},
        changes={
            **({"matrix": [before, scheme.matrix]} if changed else {}),
            **({"bands": band_changes} if band_changes else {}),
        },
    )
    if not changed:
        return 0
    cells = Q()
    for likelihood, severity in changed:
        cells |= Q(likelihood=likelihood, severity=severity)
    affected = RiskPoint.objects.filter(cells, institution=institution, year__gte=current_year())
    return _flag(affected, reason=_("The grading matrix changed: the level of this cell is now another."), by=by)


@transaction.atomic
def grading_scheme_switch(*, by, institution: Institution, preset_code: str) -> int:
    """Make a copy of another preset the institution's scheme (``grading_scheme_adopt_preset``) and
    flag this year's live points, whose levels belong to the old scheme, for re-grading; returns
    the number flagged. Like a matrix edit, it never rewrites a level."""
    access.require(access.can_edit_grading_scheme(by, institution))
    before = institution.grading_scheme_id
    scheme = grading_scheme_adopt_preset(institution=institution, preset_code=preset_code, by=by)
    if scheme.pk == before:
        return 0
    affected = points_a_switch_flags(institution=institution, preset_code=preset_code)
    return _flag(affected, reason=_("The institution adopted another grading scheme."), by=by)


# --- re-grading: a post's points are graded again when its holder or its powers change ----------


def points_flag_for_regrading(*, position_ids: Iterable[int], reason: str, by=None) -> int:
    """Mark the live points of these positions for re-grading (rotation, changed powers)."""
    return _flag(RiskPoint.objects.filter(position_id__in=list(position_ids)), reason=reason, by=by)


def points_flag_for_review(*, point_ids: Iterable[int], reason: str, by=None) -> int:
    """Mark these points for re-grading: a rule one of their controls rests on was revised or repealed."""
    return _flag(RiskPoint.objects.filter(pk__in=list(point_ids)), reason=reason, by=by)


def _flag(points_query, *, reason: str, by=None) -> int:
    """Flag the points not yet flagged: one update and one bulk insert of audit entries. Drafts are
    not flagged: they are still their author's, graded when they are defined."""
    points = list(
        points_query.filter(needs_regrading=False)
        .exclude(state=RiskPointState.DRAFT)
        .values_list("pk", "institution_id")
    )
    if not points:
        return 0
    RiskPoint.objects.filter(pk__in=[pk for pk, _i in points]).update(
        needs_regrading=True, regrading_reason=reason[:255]
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            actor=by if getattr(by, "pk", None) else None,
            action="risk_point.flag_regrading",
            target_type="risk_registry.riskpoint",
            target_id=pk,
            institution_id=institution_id,
            summary=reason[:255],
        )
        for pk, institution_id in points
    )
    return len(points)


@transaction.atomic
def holding_end(*, holding: Holding, ended_on: datetime.date, by=None) -> Holding:
    """End a holding (positions.services.holding_end) and flag the post's points for re-grading.
    A holding that had already ended flags nothing again (the row is locked first)."""
    was_open = Holding.objects.select_for_update().filter(pk=holding.pk, ended_on__isnull=True).exists()
    ended = positions_services.holding_end(holding=holding, ended_on=ended_on, by=by)
    if was_open:
        points_flag_for_regrading(
            position_ids=[ended.position_id], reason=_("The holder changed (rotation or departure)."), by=by
        )
    return ended


@transaction.atomic
def holding_rotate(*, holding: Holding, to_position: Position, on: datetime.date, by=None) -> Holding:
    """Rotation (轮岗): end one holding (flagging its post's points) and start another that day."""
    holding_end(holding=holding, ended_on=on, by=by)
    return positions_services.holding_start(user=holding.user, position=to_position, started_on=on, by=by)


@transaction.atomic
def power_item_update(*, item: PowerItem, by=None, positions: Iterable[Position] | None = None, **fields) -> PowerItem:
    """Change a power; the points of every position concerned, before and after, are flagged
    for re-grading: their powers changed."""
    update = positions_services.power_item_update(item=item, by=by, positions=positions, **fields)
    if update.changed:
        points_flag_for_regrading(
            position_ids=update.position_ids, reason=_("The powers of the position changed."), by=by
        )
    return update.item


@transaction.atomic
def power_item_retire(*, item: PowerItem, on: datetime.date, reason: str, by=None) -> PowerItem:
    """Retire a power; the points of its positions are flagged: their powers changed."""
    update = positions_services.power_item_retire(item=item, on=on, reason=reason, by=by)
    points_flag_for_regrading(position_ids=update.position_ids, reason=_("The powers of the position changed."), by=by)
    return update.item


@transaction.atomic
def process_steps_save(*, item: PowerItem, rows, by=None) -> PowerItem:
    """Save a power's flow; when it changed, the points of its positions are flagged for re-grading."""
    update = positions_services.process_steps_save(item=item, rows=rows, by=by)
    if update.changed:
        points_flag_for_regrading(
            position_ids=update.position_ids, reason=_("The process flow of a power changed."), by=by
        )
    return update.item


# --- the rule catalogue (制度目录): a revised or repealed rule flags the points of its controls ---
# (``controls.services.rule_create`` records a rule; correcting it here flags nothing.)

RULE_FIELDS = (
    "title",
    "document_number",
    "issuing_body",
    "effective_on",
    "summary",
    "text",
    "department",
    "published",
)


def _check_rule_fields(*, institution: Institution, fields: dict[str, Any]) -> dict[str, Any]:
    unknown = fields.keys() - set(RULE_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown rule fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    department = fields.get("department")
    if department is not None and department.institution_id != institution.pk:
        raise ValidationError(_("The department belongs to another institution."))
    if "title" in fields and not (fields["title"] or "").strip():
        raise ValidationError(_("A rule needs a title."))
    return fields


def _rule_locked(rule: Rule) -> Rule:
    rule = Rule.objects.select_for_update().select_related("institution").get(pk=rule.pk)
    if rule.is_repealed:
        raise ValidationError(_("A repealed rule stays as it was when it was repealed."))
    return rule


def _flag_controls_of(rule: Rule, *, reason: str, by) -> int:
    point_ids = Control.objects.filter(rule=rule).values_list("risk_point_id", flat=True)
    return points_flag_for_review(point_ids=point_ids, reason=reason, by=by)


@transaction.atomic
def rule_update(*, rule: Rule, by=None, **fields) -> Rule:
    """Correct a rule's entry (a typo, a missing number): its content is unchanged, so nothing is flagged."""
    rule = _rule_locked(rule)
    changes = apply_changes(rule, _check_rule_fields(institution=rule.institution, fields=fields))
    if changes:
        rule.save()
        audit_record(
            actor=by,
            action="rule.update",
            target=rule,
            institution=rule.institution,
            summary=rule.title,
            changes=_json_changes(changes),
        )
        work.work_changed(work.RULES, institution_ids=[rule.institution_id])  # its department may change
    return rule


@transaction.atomic
def rule_revise(*, rule: Rule, on: datetime.date, text: str, note: str = "", by=None) -> tuple[Rule, int]:
    """A revision (修订): the new text from ``on``; the points of the controls resting on the rule
    are flagged for review. Returns the rule and the number of points flagged."""
    rule = _rule_locked(rule)
    if rule.effective_on is not None and on < rule.effective_on:
        raise ValidationError(_("A rule cannot be revised before it took effect."))
    if rule.revised_on is not None and on < rule.revised_on:
        raise ValidationError(_("A revision cannot be dated before the last revision."))
    changes = apply_changes(rule, {"revised_on": on, "text": text})
    rule.save()
    audit_record(
        actor=by,
        action="rule.revise",
        target=rule,
        institution=rule.institution,
        summary=(note or rule.title)[:255],
        changes=_json_changes(changes),
    )
    work.work_changed(work.RULES, institution_ids=[rule.institution_id])
    flagged = _flag_controls_of(
        rule, reason=_("The rule %(title)s was revised.") % {"title": f"《{rule.title}》"}, by=by
    )
    return rule, flagged


@transaction.atomic
def rule_repeal(*, rule: Rule, on: datetime.date, reason: str, by=None) -> tuple[Rule, int]:
    """A repeal (废止): the rule stays in the catalogue's history; its controls' points are flagged."""
    rule = _rule_locked(rule)
    if not reason.strip():
        raise ValidationError(_("Say why the rule is repealed."))
    if rule.effective_on is not None and on < rule.effective_on:
        raise ValidationError(_("A rule cannot be repealed before it took effect."))
    rule.repealed_on, rule.repeal_reason = on, reason.strip()[:255]
    rule.save(update_fields=["repealed_on", "repeal_reason"])
    audit_record(
        actor=by,
        action="rule.repeal",
        target=rule,
        institution=rule.institution,
        summary=rule.repeal_reason,
        changes={"repealed_on": [None, on.isoformat()]},
    )
    work.work_changed(work.RULES, institution_ids=[rule.institution_id])
    flagged = _flag_controls_of(
        rule, reason=_("The rule %(title)s was repealed.") % {"title": f"《{rule.title}》"}, by=by
    )
    return rule, flagged


def _json_changes(changes: dict[str, list]) -> dict[str, list]:
    """Dates and related objects as text, as an audit entry's JSON keeps them."""

    def plain(value):
        if isinstance(value, datetime.date):
            return value.isoformat()
        if hasattr(value, "pk"):
            return str(value)
        return value

    return {name: [plain(before), plain(after)] for name, (before, after) in changes.items()}


# States in which the discipline office has defined a point's level (查实): a post's grade reads these.
VERIFIED_STATES = (
    RiskPointState.DEFINED,
    RiskPointState.APPRAISED,
    RiskPointState.APPROVED,
    RiskPointState.IN_NOTICE,
    RiskPointState.ISSUED,
)


def post_grades_propose(*, by, institution: Institution, year: int) -> int:
    access.require(access.can_decide_post_grades(by, institution))
    return post_grades_refresh(by=by, institution=institution, year=year)


def post_grades_refresh(*, by, institution: Institution, year: int) -> int:
    """Propose a grade A/B/C for every post of ``institution`` for ``year`` from its verified
    points' most serious band and its kind (``post_grade.propose_grade``); no permission check (the
    office's page checks, the demo builds). A decided grade is kept: only the proposal beside it
    changes. Three reads, one insert of the new proposals and one update of the changed ones, one
    audit entry, whatever the number of posts. Returns the number of posts whose proposal is new or
    changed."""
    now = timezone.now()
    bands: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    rows = (
        RiskPoint.objects.filter(institution=institution, year=year, state__in=VERIFIED_STATES, position__isnull=False)
        .order_by()
        .values("position_id", "level__band")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        bands.setdefault(row["position_id"], []).append(row["level__band"])
        counts[row["position_id"]] = counts.get(row["position_id"], 0) + row["n"]
    existing = {grade.position_id: grade for grade in PostGrade.objects.filter(institution=institution, year=year)}
    changed: list[dict[str, Any]] = []
    new: list[PostGrade] = []
    updated: list[PostGrade] = []
    with transaction.atomic():
        for position in Position.objects.filter(institution=institution).only("pk", "kind", "is_key_post", "title"):
            present = (band for band in bands.get(position.pk, []) if band in BAND_ORDER)
            top = min(present, key=BAND_ORDER.__getitem__, default="")
            proposed = propose_grade(top or None, position.kind, position.is_key_post)
            grade = existing.get(position.pk)
            if grade is None:
                grade = PostGrade(position=position, institution=institution, year=year)
                new.append(grade)
            elif (grade.proposed, grade.proposed_band, grade.proposed_points) == (
                proposed,
                top,
                counts.get(position.pk, 0),
            ):
                continue
            else:
                updated.append(grade)
            grade.proposed, grade.proposed_band, grade.proposed_points = proposed, top, counts.get(position.pk, 0)
            grade.proposed_at = now
            grade.supervision = supervision_for(grade.grade or proposed, position.kind)
            changed.append({"position": position.title, "proposed": proposed, "band": top})
        PostGrade.objects.bulk_create(new)
        PostGrade.objects.bulk_update(
            updated, ["proposed", "proposed_band", "proposed_points", "proposed_at", "supervision"]
        )
        if changed:
            audit_record(
                actor=by,
                action="post_grade.propose",
                target=institution,
                institution=institution,
                summary=_("%(count)d post grades proposed for %(year)d") % {"count": len(changed), "year": year},
                changes={"after": changed},
            )
    return len(changed)


def post_grade_decide(*, by, grade: PostGrade, decided: str, reason: str = "") -> None:
    """The discipline office decides a post's grade: confirms the proposal, or changes it with a
    reason. Audited with the grade before and after; the supervision follows the decided grade."""
    access.require(access.can_decide_post_grades(by, grade.institution))
    if decided not in PostGradeLevel.values:
        raise ValidationError(_("Choose grade A, B or C."))
    reason = reason.strip()
    if decided != grade.proposed and not reason:
        raise ValidationError(_("Give a reason when the decided grade differs from the proposal."))
    with transaction.atomic():
        locked = PostGrade.objects.select_for_update().select_related("position").get(pk=grade.pk)
        before = {"grade": locked.grade, "supervision": locked.supervision, "reason": locked.reason}
        locked.grade, locked.reason = decided, reason
        locked.supervision = supervision_for(decided, locked.position.kind)
        locked.decided_by, locked.decided_at = by, timezone.now()
        locked.save()
        audit_record(
            actor=by,
            action="post_grade.decide",
            target=locked,
            institution=locked.institution,
            summary=_("%(position)s: grade %(grade)s (proposed %(proposed)s)")
            % {"position": locked.position.title, "grade": decided, "proposed": locked.proposed},
            changes={
                "before": before,
                "after": {"grade": decided, "supervision": locked.supervision, "reason": reason},
            },
        )
    grade.refresh_from_db()
