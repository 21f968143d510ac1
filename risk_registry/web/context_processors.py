"""What every page's navigation needs: the user's roles (from the cached scope) and languages."""

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from risk_registry import access
from risk_registry.organisation.models import Role
from risk_registry.web import todo


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_languages": settings.LANGUAGES}
    scope = access.scope_of(user)
    labels = [Role(role).label for role in Role if role in scope.roles]
    return {
        "nav_languages": settings.LANGUAGES,
        "nav_roles": labels,
        "nav_is_holder": scope.is_holder,
        "nav_inbox": SimpleLazyObject(lambda: todo.badge_of(request)),  # things to do, one meaning
        "nav_audit": bool(scope.discipline_paths or Role.SUPERIOR in scope.roles),
        "nav_oversight_dashboard": bool(scope.subtree_paths),
        "nav_leadership_dashboard": bool(scope.institution_ids),
        "nav_watch": bool(scope.roles),
    }
