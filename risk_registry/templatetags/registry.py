"""Template helpers of the register pages."""

from django import template

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
