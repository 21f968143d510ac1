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

from django.db.models import F, Prefetch, QuerySet

from controls.models import Control
from positions.models import Holding
from risk_registry.models import RiskPoint
from risk_registry.organisation.models import Institution, band_order_expression
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


def point_rows(queryset: QuerySet[RiskPoint], *, spanning: bool = False) -> Iterator[dict]:
    """Stream ``queryset`` as rows, department by department, in a stable order.

    ``spanning`` (a document over several institutions, never a snapshot): the most serious first
    (band, then rank, then institution and department), and each row also carries its
    institution's name and its level's band, since the level's label alone means different things
    in different institutions."""
    rows = queryset.select_related(
        "department", "position", "power_item__category", "process_step", "risk_type", "level__scheme"
    ).prefetch_related(
        Prefetch("controls", queryset=Control.objects.select_related("rule").in_line_order()),
        Prefetch(
            "position__holdings",
            queryset=Holding.objects.filter(ended_on__isnull=True).select_related("user").order_by("started_on", "id"),
        ),
    )
    if spanning:
        rows = (
            rows.select_related("institution")
            .annotate(band_order=band_order_expression("level__band"))
            .order_by("band_order", "level__rank", "institution__path", "department__order", "department_id", "id")
        )
    else:
        rows = rows.order_by(
            "department__order", "department_id", F("import_order").asc(nulls_last=True), "position_id", "id"
        )
    for point in rows.iterator(chunk_size=CHUNK):
        row = point_row(point)
        if spanning:
            row["institution"] = point.institution.name
            row["level"]["band"] = point.level.band
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
