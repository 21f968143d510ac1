"""The unread-notification count for the navigation badge (one COUNT query per page)."""

from assessments.selectors import unread_notification_count


def notifications(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_unread_notifications": unread_notification_count(user)}
