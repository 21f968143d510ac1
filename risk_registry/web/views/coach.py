"""Coaching while a risk point is written: the control rows of the form checked by the same
quality functions the register shows the discipline office (``controls.quality``: one source of
truth, no copy of the rules in the page's script), and controls suggested from the institution's
own approved points of earlier years with the same risk type. Reads only (GET, JSON)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from controls.models import Control
from controls.quality import control_hints, vague_control_reasons
from risk_registry import access, selectors
from risk_registry.web.params import id_param, int_param

MAX_ROWS = 30  # the formset's max_num


def _row(query, index: int) -> dict[str, str]:
    prefix = f"controls-{index}-"
    return {
        name: query.get(prefix + name, "")[:2000]
        for name in ("line", "measure", "owner", "frequency", "evidence", "rule", "DELETE")
    }


@require_GET
def risk_point_coach(request: HttpRequest) -> JsonResponse:
    """``?institution=<code>&risk_type=<id>&controls-TOTAL_FORMS=n&controls-0-measure=…``: per row
    of the form, the warnings (the register will flag them) and hints; the suggestions."""
    institution = access.object_or_404(
        access.institutions_visible_to(request.user), code=request.GET.get("institution", "")
    )
    total = (
        int_param(
            request.GET.get("controls-TOTAL_FORMS"), name="controls-TOTAL_FORMS", minimum=0, maximum=MAX_ROWS, default=0
        )
        or 0
    )
    rows = {i: _row(request.GET, i) for i in range(total)}
    live = {i: row for i, row in rows.items() if row["measure"].strip() and not row["DELETE"]}
    frequencies = {value for value, _label in Control.Frequency.choices}
    followed_up = any(row["line"] == Control.Line.MONITORING for row in live.values())
    checks = {
        str(i): {
            "warnings": [
                str(reason)
                for reason in vague_control_reasons(
                    measure=row["measure"],
                    owner=row["owner"],
                    frequency=row["frequency"] if row["frequency"] in frequencies else "",
                    evidence=row["evidence"],
                    followed_up=followed_up,
                )
            ],
            "hints": [str(hint) for hint in control_hints(rule_id=int(row["rule"]) if row["rule"].isdigit() else None)],
        }
        for i, row in live.items()
    }
    risk_type = request.GET.get("risk_type", "")
    suggestions = []
    if risk_type.isdigit():
        labels = dict(Control.Line.choices)
        frequency_labels = dict(Control.Frequency.choices)
        suggestions = [
            {
                "measure": row["measure"],
                "line": row["line"],
                "line_label": str(labels.get(row["line"], "")),
                "owner": row["owner"],
                "frequency": row["frequency"],
                "frequency_label": str(frequency_labels.get(row["frequency"], "")),
                "evidence": row["evidence"],
                "uses": row["uses"],
            }
            for row in selectors.control_suggestions(
                user=request.user,
                institution=institution,
                risk_type_id=id_param(risk_type, name="risk_type") or 0,
                year=selectors.current_year(),
            )
        ]
    return JsonResponse({"rows": checks, "suggestions": suggestions})
