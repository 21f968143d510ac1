"""The process flow of a power (权力运行流程图) laid out for an SVG drawn on the server.

Server-rendered SVG rather than a JavaScript diagram library: the flow of a power is a sequence
of steps (the source documents draw them top to bottom), so a fixed layout is enough; the page
prints as it shows, works with scripts off and under the CSP, and the same markup goes into PDFs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

STEP_WIDTH = 300
STEP_HEIGHT = 64
GAP = 36
LEFT = 8
PIN_X = LEFT + STEP_WIDTH + 24
PIN_WIDTH = 360
PINS_SHOWN = 4  # risk points named beside a step; the rest are counted


@dataclass
class FlowNode:
    step: object
    y: int
    pins: list = field(default_factory=list)
    hidden_pins: int = 0

    @property
    def centre_y(self) -> int:
        return self.y + STEP_HEIGHT // 2

    @property
    def arrow_from(self) -> int:
        return self.y + STEP_HEIGHT

    @property
    def arrow_to(self) -> int:
        return self.y + STEP_HEIGHT + GAP - 2

    @property
    def pin_rows(self) -> list[tuple[object, int]]:
        """Each named point with the y of its line (the text's baseline; its swatch sits above)."""
        return [(point, self.y + 14 + index * 16) for index, point in enumerate(self.pins)]

    @property
    def more_y(self) -> int:
        return self.y + 14 + len(self.pins) * 16


@dataclass(frozen=True)
class Flow:
    nodes: list[FlowNode]
    width: int
    height: int
    step_width: int = STEP_WIDTH
    step_height: int = STEP_HEIGHT
    left: int = LEFT
    pin_x: int = PIN_X
    centre_x: int = LEFT + STEP_WIDTH // 2


def flow_layout(steps: Sequence, points: Iterable) -> Flow:
    """Steps in order, top to bottom; each step's risk points (``process_step_id``) beside it."""
    by_step: dict[int, list] = defaultdict(list)
    for point in points:
        by_step[point.process_step_id].append(point)
    nodes = []
    for index, step in enumerate(steps):
        pinned = sorted(by_step.get(step.pk, []), key=lambda p: (p.level.rank if p.level else 99, p.pk))
        nodes.append(
            FlowNode(
                step=step,
                y=8 + index * (STEP_HEIGHT + GAP),
                pins=pinned[:PINS_SHOWN],
                hidden_pins=max(0, len(pinned) - PINS_SHOWN),
            )
        )
    height = 16 + len(nodes) * (STEP_HEIGHT + GAP) - GAP
    return Flow(nodes=nodes, width=PIN_X + PIN_WIDTH, height=max(height, STEP_HEIGHT + 16))
