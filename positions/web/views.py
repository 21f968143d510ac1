"""The position page: its holders, its powers with their process steps, its risk points."""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from positions.models import ProcessStep
from risk_registry import access


@require_GET
def position_detail(request: HttpRequest, pk: int) -> HttpResponse:
    position = access.object_or_404(
        access.positions_visible_to(request.user).select_related("department", "institution"), pk=pk
    )
    holdings = access.holdings_visible_to(request.user).filter(position=position).select_related("user")
    power_items = (
        access.power_items_visible_to(request.user)
        .filter(positions=position)
        .select_related("category")
        .prefetch_related(Prefetch("steps", queryset=ProcessStep.objects.order_by("order")))
    )
    risk_points = (
        access.risk_points_visible_to(request.user)
        .filter(position=position)
        .select_related("risk_type", "level")
        .prefetch_related("controls")[:200]
    )
    return render(
        request,
        "positions/position_detail.html",
        {
            "position": position,
            "holdings": holdings,
            "power_items": power_items,
            "risk_points": risk_points,
            "can_add": access.can_add_risk_point_to_position(request.user, position),
        },
    )
