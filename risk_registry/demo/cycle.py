"""The demo county's running cycle (called once by ``risk_registry.demo.build`` inside its
transaction): launched by the county's superior office, dated around today so that some tasks
are done (the points already submitted), some overdue (self-checks never submitted) and some due
soon (department reviews), with the notifications a scan as of today sends."""

from __future__ import annotations

import datetime

from django.utils import timezone

from assessments.models import Cycle, Phase
from assessments.scan import deadline_scan
from assessments.services import PhaseSpec, cycle_generate_tasks, cycle_launch
from risk_registry.organisation.models import Institution, Membership, Role

# (kind, name, first day, last day) in days from today.
DEMO_PHASES = (
    (Phase.Kind.PUBLICITY, "宣传发动", -80, -61),
    (Phase.Kind.INVENTORY, "清权查险", -60, 3),
    (Phase.Kind.CONTROLS, "措施防控", 4, 40),
    (Phase.Kind.MONITORING, "建章立制·运行监控", 41, 100),
    (Phase.Kind.INSPECTION, "检查考核·修正完善", 101, 120),
)


def demo_cycle_seed(*, root_code: str, year: int, today: datetime.date | None = None) -> Cycle | None:
    """Launch the demo cycle for ``root_code``'s subtree unless one exists for ``year``."""
    root = Institution.objects.filter(code=root_code).first()
    if root is None:
        return None
    existing = Cycle.objects.filter(institution=root, year=year).first()
    if existing is not None:
        return existing
    office = (
        Membership.objects.filter(institution=root, role__in=(Role.SUPERIOR, Role.DISCIPLINE))
        .select_related("user")
        .order_by("id")
        .first()
    )
    if office is None:
        return None
    today = today or timezone.localdate()
    phases = [
        PhaseSpec(kind, name, today + datetime.timedelta(days=start), today + datetime.timedelta(days=end))
        for kind, name, start, end in DEMO_PHASES
    ]
    # Launched the day its first phase began, as the story goes: its deadlines were ahead then.
    cycle = cycle_launch(
        by=office.user, institution=root, year=year, phases=phases, today=phases[0].starts_on, enqueue=False
    )
    cycle_generate_tasks(cycle_id=cycle.pk)
    deadline_scan()
    return cycle
