"""The register as plain data: one shape for filing snapshots, exports and version diffs.

``point_rows`` streams the points of a queryset as dicts (bounded memory, a fixed number of
queries per chunk), ``register_snapshot`` wraps them with the institution, year, scheme and the
filing itself, and ``content_hash`` is the SHA-256 of the canonical JSON (sorted keys, no spaces,
UTF-8), so the same content always gives the same hash.

Format 2 holds everything a filed document prints — each level's label, colour, rank and who
supervises it (监控责任), the scheme's name, the institution's name, the signatory, the filing
number and time — so a filed document is reproduced from its snapshot alone and the hash covers
all of it. Format 1 lacked the supervision and the filing block: documents print 未记录 there.

Format 3 adds to each point what the forms of issue 15 print: its power item's category
(``power_category``, for the 风险类别 column of the Jiuquan plan's five classes), the labels of its
likelihood and severity (``likelihood_label``, ``severity_label``: printed beside the numbers) and
the people holding its post (``holders``, named on the 个人登记表). A document of a format-1 or
format-2 snapshot is printed in the layout of its time, identical to what it printed then
(``rendering.document_for_version``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from django.db.models import F, QuerySet

from controls.models import Control
from positions.models import Holding
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import GradingScheme, Institution, band_order_expression
from risk_registry.organisation.names import person

SNAPSHOT_FORMAT = 3
CHUNK = 2000


def _level(level) -> dict:
    return {
        "code": level.code,
        "name": level.name,
        "rank": level.rank,
        "colour": level.colour,
        "supervision": level.supervision,
    }


def control_row(control: Control) -> dict:
    """One control as data (its rule by title, as the documents print it). Expects the rule joined."""
    return {
        "line": control.line,
        "measure": control.measure,
        "owner": control.owner,
        "frequency": control.frequency,
        "evidence": control.evidence,
        "rule": control.rule.title if control.rule else "",
    }


def point_row(point: RiskPoint) -> dict:
    """One point as data. Expects the joins of ``point_rows`` (no query of its own). A point graded
    directly (直接定级) has no likelihood and severity and says so; the key is absent otherwise,
    so the snapshots of graded points are what they were."""
    row = {
        "id": point.pk,
        "department": point.department.name,
        "position": point.position.title if point.position else "",
        "position_kind": point.position.kind if point.position else "",
        "power_item": point.power_item.name if point.power_item else "",
        "process_step": point.process_step.name if point.process_step else "",
        "risk_type": point.risk_type.name,
        "found_by": point.found_by,
        "description": point.description,
        "manifestation": point.manifestation,
        "likelihood": point.likelihood,
        "severity": point.severity,
        "level": _level(point.level),
        "state": point.state,
        "controls": [control_row(c) for c in point.controls.all()],
    }
    if point.graded_directly:
        row["graded_directly"] = True
    _add_format_3(row, point)
    return row


def _label_of(labels: list[str], value: int | None) -> str:
    return labels[value - 1] if value is not None and 0 < value <= len(labels) else ""


def _add_format_3(row: dict, point: RiskPoint) -> None:
    """What format 3 adds: the power category, the scales' labels, the post's holders."""
    scheme = point.level.scheme
    row["power_category"] = point.power_item.category.name if point.power_item else ""
    row["likelihood_label"] = _label_of(list(scheme.likelihood_labels), point.likelihood)
    row["severity_label"] = _label_of(list(scheme.severity_labels), point.severity)
    row["holders"] = [person(holding.user) for holding in point.position.holdings.all()] if point.position else []


# What ``point_rows`` reads of a point, as columns: ``point_row`` of a model instance, without one.
_POINT_COLUMNS = (
    "id",
    "department__name",
    "position_id",
    "position__title",
    "position__kind",
    "power_item__name",
    "process_step__name",
    "risk_type__name",
    "found_by",
    "description",
    "manifestation",
    "likelihood",
    "severity",
    "level__code",
    "level__name",
    "level__rank",
    "level__colour",
    "level__supervision",
    "state",
    "graded_directly",
    "power_item__category__name",
    "level__scheme_id",
)
_CONTROL_COLUMNS = ("risk_point_id", "line", "measure", "owner", "frequency", "evidence", "rule__title")


def point_rows(queryset: QuerySet[RiskPoint], *, spanning: bool = False) -> Iterator[dict]:
    """Stream ``queryset`` as rows, department by department, in a stable order.

    ``spanning`` (a document over several institutions, never a snapshot): the most serious first
    (band, then rank, then institution and department), and each row also carries its
    institution's name and its level's band, since the level's label alone means different things
    in different institutions.

    The rows are ``point_row``'s, read as tuples (one query for the points, streamed, and one for
    the controls of each chunk of ``CHUNK`` points): building a model instance per point, level,
    department and control was most of an export's time (issue 15). ``test_point_rows_are_point_row``
    holds the two to the same output."""
    columns = _POINT_COLUMNS + (("institution__name", "level__band") if spanning else ())
    ordered: QuerySet
    if spanning:
        ordered = queryset.annotate(band_order=band_order_expression("level__band")).order_by(
            "band_order", "level__rank", "institution__path", "department__order", "department_id", "id"
        )
    else:
        ordered = queryset.order_by(
            "department__order", "department_id", F("import_order").asc(nulls_last=True), "position_id", "id"
        )
    chunk: list[tuple] = []
    for values in ordered.values_list(*columns).iterator(chunk_size=CHUNK):
        chunk.append(values)
        if len(chunk) == CHUNK:
            yield from _rows_of_chunk(chunk, spanning=spanning)
            chunk = []
    if chunk:
        yield from _rows_of_chunk(chunk, spanning=spanning)


def _rows_of_chunk(chunk: list[tuple], *, spanning: bool) -> Iterator[dict]:
    controls: dict[int, list[dict]] = {values[0]: [] for values in chunk}
    # format 3: the post's current holders and the scales' labels, one query each per chunk
    holders: dict[int, list[str]] = {}
    for holding in (
        Holding.objects.filter(position_id__in={values[2] for values in chunk if values[2]}, ended_on__isnull=True)
        .select_related("user")
        .order_by("started_on", "id")
    ):
        holders.setdefault(holding.position_id, []).append(person(holding.user))
    scales = {
        pk: (list(likelihood or []), list(severity or []))
        for pk, likelihood, severity in GradingScheme.objects.filter(
            pk__in={values[21] for values in chunk}
        ).values_list("pk", "likelihood_labels", "severity_labels")
    }
    for point_id, line, measure, owner, frequency, evidence, rule in (
        Control.objects.filter(risk_point_id__in=list(controls)).in_line_order().values_list(*_CONTROL_COLUMNS)
    ):
        controls[point_id].append(
            {
                "line": line,
                "measure": measure,
                "owner": owner,
                "frequency": frequency,
                "evidence": evidence,
                "rule": rule or "",
            }
        )
    for values in chunk:
        (
            pk,
            department,
            position_id,
            position,
            position_kind,
            power_item,
            process_step,
            risk_type,
            found_by,
            description,
            manifestation,
            likelihood,
            severity,
            level_code,
            level_name,
            level_rank,
            level_colour,
            level_supervision,
            state,
            graded_directly,
            power_category,
            scheme_id,
            *more,
        ) = values
        row = {
            "id": pk,
            "department": department,
            "position": position if position_id else "",
            "position_kind": position_kind if position_id else "",
            "power_item": power_item or "",
            "process_step": process_step or "",
            "risk_type": risk_type,
            "found_by": found_by,
            "description": description,
            "manifestation": manifestation,
            "likelihood": likelihood,
            "severity": severity,
            "level": {
                "code": level_code,
                "name": level_name,
                "rank": level_rank,
                "colour": level_colour,
                "supervision": level_supervision,
            },
            "state": state,
            "controls": controls[pk],
        }
        if graded_directly:
            row["graded_directly"] = True
        likelihood_labels, severity_labels = scales.get(scheme_id, ([], []))
        row["power_category"] = power_category or ""
        row["likelihood_label"] = _label_of(likelihood_labels, likelihood)
        row["severity_label"] = _label_of(severity_labels, severity)
        row["holders"] = holders.get(position_id, []) if position_id else []
        if spanning:
            row["institution"], row["level"]["band"] = more
        yield row


def register_snapshot(
    *, institution: Institution, year: int, points: QuerySet[RiskPoint], filing: dict | None = None
) -> dict:
    """The register as data. ``filing`` is what the filing adds and the hash must cover:
    ``{"number": 1, "filed_at": ISO time, "signatory": name, "filed_with": name}``."""
    scheme = institution.grading_scheme
    return {
        "format": SNAPSHOT_FORMAT,
        "filing": filing,
        "institution": {"code": institution.code, "name": institution.name},
        "year": year,
        "scheme": {
            "code": scheme.code,
            "name": scheme.name,
            "likelihood": scheme.likelihood_labels,
            "severity": scheme.severity_labels,
            "levels": [_level(level) for level in scheme.levels.all()],
        }
        if scheme
        else None,
        "points": list(point_rows(points)),
    }


def content_hash(snapshot: dict) -> str:
    canonical = json.dumps(snapshot, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
