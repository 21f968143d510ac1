"""The warning entry of the navigation: the ledger for those who keep or oversee it (from the
cached scope, no query). The recipient's notices to answer are counted by the one inbox."""

from integrity_warnings import access


def warnings_navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_warning_ledger": access.may_see_ledger(user),
    }
