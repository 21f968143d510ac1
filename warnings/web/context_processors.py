"""The warning entries of the navigation: the ledger for those who keep or oversee it (from the
cached scope, no query), and the recipient's open notices (one COUNT, only when rendered)."""

from django.utils.functional import SimpleLazyObject

from integrity_warnings import access, selectors


def warnings_navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_warning_ledger": access.may_see_ledger(user),
        "nav_open_notices": SimpleLazyObject(lambda: selectors.open_notice_count(user)),
    }
