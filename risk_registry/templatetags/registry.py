"""Template helpers of the register pages."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()


@register.filter
def person(user) -> str:
    """A user's name as people write it: 张三 (family name first, no space), else the username."""
    if user is None:
        return ""
    family, given = (user.last_name or "").strip(), (user.first_name or "").strip()
    if family or given:
        if all(ord(ch) > 0x2E7F for ch in family + given):  # CJK names are written together
            return f"{family}{given}"
        return f"{given} {family}".strip()
    return user.username


@register.filter
def get_item(mapping, key):
    """``{{ counts|get_item:state }}``: a dict lookup with a variable key."""
    return mapping.get(key) if mapping else None


@register.filter
def state_label(value: str) -> str:
    from risk_registry.models import RiskPointState

    return RiskPointState(value).label if value in RiskPointState.values else value


EXTRA_LABELS = {
    "reason": _("reason"),
    "controls": _("controls"),
    "decision": _("decision"),
    "meeting": _("meeting"),
}


@register.filter
def field_label(name: str) -> str:
    """The verbose name of a risk-point field named in an audit entry's changes."""
    from django.core.exceptions import FieldDoesNotExist

    from risk_registry.models import RiskPoint

    try:
        return str(RiskPoint._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return str(EXTRA_LABELS.get(name, name))


@register.filter
def change_value(value, field: str):
    """An audited value as people read it: states by their label (ids and text stay as they are)."""
    if field == "state" and isinstance(value, str):
        return state_label(value)
    if field == "found_by" and isinstance(value, str):
        from risk_registry.models import FoundBy

        return FoundBy(value).label if value in FoundBy.values else value
    return value


@register.filter
def is_pair(value) -> bool:
    """Audit changes are [before, after] pairs, or a single value (a reason, a count)."""
    return isinstance(value, list | tuple) and len(value) == 2
