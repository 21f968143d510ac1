"""Working days (工作日) for response deadlines: weekends and listed holidays skipped, 调休 honoured."""

from __future__ import annotations

import datetime

from django.db.models import F, Q

from integrity_warnings.models import CalendarDay

# Far enough for any response period a form accepts (at most 60 working days), with holidays.
_HORIZON_DAYS = 200


def add_working_days(*, start: datetime.date, days: int, institution=None) -> datetime.date:
    """The date ``days`` working days after ``start`` (``start`` itself is not counted). One query."""
    exceptions = dict(
        CalendarDay.objects.filter(
            Q(institution__isnull=True) | Q(institution=institution),
            date__gt=start,
            date__lte=start + datetime.timedelta(days=_HORIZON_DAYS),
        )
        .order_by(F("institution_id").asc(nulls_first=True))  # the institution's own day comes last and wins
        .values_list("date", "working")
    )
    current, counted = start, 0
    while counted < days:
        current += datetime.timedelta(days=1)
        working = exceptions.get(current, current.weekday() < 5)
        if working:
            counted += 1
    return current
