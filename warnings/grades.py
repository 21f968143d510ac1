"""The warning grade scales: which scale an institution grades with, the legend of the scales a list
spans, and the one service that edits a scale.

An institution's scale is its own levels if it has any, else those of its nearest ancestor that has
some, else the default scale (rows without institution, ``presets.DEFAULT_GRADES``): the discipline
office of a county sets it once for its subtree, and a township may set its own. Invariant kept by
``warning_grades_save``: an item's grade is a level of its institution's scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Q, QuerySet, When
from django.utils.translation import gettext as _

from integrity_warnings.models import WarningGrade, WarningItem
from risk_registry.access import is_discipline_office_for
from risk_registry.organisation.models import BAND_ORDER, AuditAction, Band, Institution
from risk_registry.organisation.paths import path_ids
from risk_registry.organisation.services import audit_record


def _owner_among(institution_path: str, owners: set[int]) -> int | None:
    """The nearest of ``owners`` on the path (the institution itself first), None for the default."""
    for pk in reversed(path_ids(institution_path)):
        if pk in owners:
            return pk
    return None


def scales_of(institutions: Iterable[Institution]) -> dict[int, list[WarningGrade]]:
    """Each institution's scale (by institution id), most serious first: one query for all."""
    institutions = list(institutions)
    ancestors = {pk for institution in institutions for pk in path_ids(institution.path)}
    rows = WarningGrade.objects.filter(Q(institution_id__in=ancestors) | Q(institution__isnull=True)).order_by(
        "rank", "id"
    )
    by_owner: dict[int | None, list[WarningGrade]] = {}
    for row in rows:
        by_owner.setdefault(row.institution_id, []).append(row)
    owners = {pk for pk in by_owner if pk is not None}
    return {institution.pk: by_owner.get(_owner_among(institution.path, owners), []) for institution in institutions}


def scale_of(institution: Institution) -> list[WarningGrade]:
    """The levels the institution grades with, most serious first (one query)."""
    return scales_of([institution])[institution.pk]


def scale_owner(institution: Institution, scale: Sequence[WarningGrade]) -> Institution | None:
    """Who set the scale: the institution, an ancestor, or nobody (the default)."""
    if not scale or scale[0].institution_id is None:
        return None
    if scale[0].institution_id == institution.pk:
        return institution
    return Institution.objects.filter(pk=scale[0].institution_id).first()


def grades_of_scales(institutions: QuerySet[Institution] | Iterable[Institution]) -> QuerySet[WarningGrade]:
    """The levels of the scales of ``institutions`` (a filter's choices; loaded ones are not read
    again), most serious first."""
    if isinstance(institutions, QuerySet):
        institutions = institutions.only("pk", "path")
    ids = {grade.pk for scale in scales_of(institutions).values() for grade in scale}
    return (
        WarningGrade.objects.filter(pk__in=ids)
        .select_related("institution")
        .order_by(band_order(), "rank", "institution_id", "id")
    )


def band_order(field: str = "band") -> Case:
    """SQL for the band's order (1 = 高), the same vocabulary and order as the risk levels."""
    return Case(*(When(**{field: band}, then=order) for band, order in BAND_ORDER.items()), default=len(BAND_ORDER) + 1)


@dataclass(frozen=True)
class LegendEntry:
    """One scale present in a list: who set it, its levels (label = band) and the institutions shown."""

    owner: str
    levels: tuple[tuple[str, str], ...]
    institutions: tuple[str, ...]

    def __str__(self) -> str:
        levels = "、".join(f"{label}={band}" for label, band in self.levels)
        return f"{self.owner}：{levels}（{'、'.join(self.institutions)}）"


def legend_of(items: Iterable[WarningItem]) -> list[LegendEntry]:
    """The legend of the scales the items' grades come from, read from the loaded items and one
    query for those scales' levels (``items`` carry ``grade`` and ``institution``)."""
    owners: dict[int | None, list[str]] = {}
    for item in items:
        names = owners.setdefault(item.grade.institution_id, [])
        if item.institution.name not in names:
            names.append(item.institution.name)
    if not owners:
        return []
    owner_q = Q(institution_id__in=[pk for pk in owners if pk is not None])
    if None in owners:
        owner_q |= Q(institution__isnull=True)
    levels: dict[int | None, list[tuple[str, str]]] = {}
    titles: dict[int | None, str] = {}
    for grade in WarningGrade.objects.filter(owner_q).select_related("institution").order_by("rank", "id"):
        levels.setdefault(grade.institution_id, []).append((grade.label, str(Band(grade.band).label)))
        titles[grade.institution_id] = grade.institution.name if grade.institution else _("Default scale")
    return [
        LegendEntry(owner=titles[pk], levels=tuple(levels[pk]), institutions=tuple(names))
        for pk, names in owners.items()
        if pk in levels
    ]


@dataclass(frozen=True)
class LevelRow:
    """A level as the editing page posts it: ``pk`` of the row shown (own or inherited), or None."""

    pk: int | None
    label: str
    rank: int
    band: str
    delete: bool = False


def _check(rows: Sequence[LevelRow]) -> list[LevelRow]:
    kept = [row for row in rows if not row.delete]
    if not kept:
        raise ValidationError(_("A grade scale needs at least one level."))
    if any(not row.label.strip() for row in kept):
        raise ValidationError(_("Every level needs a label."))
    if any(row.band not in Band.values for row in kept):
        raise ValidationError(_("Choose the county-wide band of every level."))
    if any(row.rank < 1 for row in kept):
        raise ValidationError(_("A rank is a whole number from 1 (the most serious)."))
    ranks = [row.rank for row in kept]
    if len(set(ranks)) != len(ranks):
        raise ValidationError(_("Two levels have the same rank: each level needs its own."))
    labels = [row.label.strip() for row in kept]
    if len(set(labels)) != len(labels):
        raise ValidationError(_("Two levels have the same label."))
    return kept


def _inheriting_items(institution: Institution) -> QuerySet[WarningItem]:
    """Items of the subtree that grade with this institution's scale (no nearer scale of their own)."""
    nearer = (
        WarningGrade.objects.filter(institution__path__startswith=institution.path)
        .exclude(institution=institution)
        .values_list("institution__path", flat=True)
        .distinct()
    )
    items = WarningItem.objects.filter(institution__path__startswith=institution.path)
    for path in set(nearer):
        items = items.exclude(institution__path__startswith=path)
    return items


def _snapshot(levels: Iterable[WarningGrade]) -> list[dict[str, object]]:
    return [{"label": g.label, "rank": g.rank, "band": g.band} for g in sorted(levels, key=lambda g: g.rank)]


@transaction.atomic
def warning_grades_save(*, by, institution: Institution, rows: Sequence[LevelRow]) -> list[WarningGrade]:
    """Save the institution's own scale: rename, re-rank, set bands, add, delete unused levels.

    The first save of an institution that inherited its scale makes its own copy and moves the items
    that graded with the inherited levels (its subtree's, where no nearer scale exists) to the copied
    level of the same row: a copy, not a regrading. A level graded on by any item is never deleted."""
    if not is_discipline_office_for(by, institution):
        raise PermissionDenied
    Institution.objects.select_for_update().filter(pk=institution.pk).first()  # one editor at a time
    kept = _check(rows)
    before = scale_of(institution)
    own = {grade.pk: grade for grade in before if grade.institution_id == institution.pk}
    inherited = {grade.pk: grade for grade in before if grade.institution_id != institution.pk}
    affected = _inheriting_items(institution)
    if set(own) - {row.pk for row in rows}:
        raise ValidationError(_("The scale changed meanwhile: reload the page."))
    for row in rows:
        if row.pk is not None and row.pk not in own and row.pk not in inherited:
            raise ValidationError(_("A level of another scale was posted: reload the page."))
        if not row.delete or row.pk is None:
            continue
        used = (WarningItem.objects if row.pk in own else affected).filter(grade_id=row.pk).count()
        if used:
            label = (own.get(row.pk) or inherited[row.pk]).label
            raise ValidationError(
                _("%(label)s grades %(n)d warnings and cannot be deleted: rename it instead.")
                % {"label": label, "n": used}
            )
    moves: dict[int, int] = {}
    saved = []
    for row in kept:
        grade = own.get(row.pk) if row.pk is not None else None
        if grade is None:
            grade = WarningGrade(institution=institution)
        grade.label, grade.rank, grade.band = row.label.strip(), row.rank, row.band
        grade.save()
        saved.append(grade)
        if row.pk is not None and row.pk in inherited:
            moves[row.pk] = grade.pk
    WarningGrade.objects.filter(pk__in=[row.pk for row in rows if row.delete and row.pk in own]).delete()
    if affected.filter(grade_id__in=set(inherited) - set(moves)).exists():
        raise ValidationError(_("The scale changed meanwhile: reload the page."))
    if moves:
        affected.filter(grade_id__in=moves).update(
            grade_id=Case(*(When(grade_id=old, then=new) for old, new in moves.items()))
        )
    audit_record(
        actor=by,
        action=AuditAction.WARNING_GRADES_UPDATE,
        target=institution,
        institution=institution,
        summary=institution.name,
        changes={"before": _snapshot(before), "after": _snapshot(saved), "copied": bool(inherited)},
    )
    return sorted(saved, key=lambda grade: grade.rank)
