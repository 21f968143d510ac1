"""Run one deadline scan as of a moment and print what it sent (time travel for tests and demos).

    python manage.py run_deadline_scan                       # as of now
    python manage.py run_deadline_scan --now 2026-05-25T09:00

Cycles whose tasks were never generated (or long ago) are generated first, here, in-process.
The e-mails of the notifications created are sent here too (Django's e-mail backend), unless
--no-email; a notification is never e-mailed twice, whoever sends it.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments import delivery, scan, services
from assessments.models import Notification
from assessments.selectors import describe_notifications


def parse_moment(text: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now {text!r} is not an ISO date or date-time (2026-05-25 or 2026-05-25T09:00)") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


class Command(BaseCommand):
    help = "Run one deadline scan as of --now (default: now) and print the notifications it sent."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO date or date-time the scan runs as of (local time if naive)")
        parser.add_argument("--no-email", action="store_true", help="create the notifications, send no e-mail")

    def handle(self, *args, now=None, no_email=False, **options):
        moment = parse_moment(now) if now else timezone.now()
        for cycle_id in scan.cycles_needing_generation(now=timezone.now()):
            count = services.cycle_generate_tasks(cycle_id=cycle_id)
            self.stdout.write(f"generated cycle {cycle_id}: {count} tasks")
        result = scan.deadline_scan(now=moment)
        emailed = set()
        if not no_email and result.created:
            try:
                emailed = set(delivery.notifications_email_deliver(ids=result.created).sent)
            except delivery.DeliveryError as error:
                self.stderr.write(f"e-mail: {error} (pending again; the next scan re-sends them)")
        with translation.override(settings.LANGUAGE_CODE):
            created = list(
                Notification.objects.filter(pk__in=result.created)
                .select_related("recipient")
                .order_by("source", "object_id", "stage", "recipient_id")
            )
            describe_notifications(created, today=result.today, lines=1)
            for n in created:
                mail = " ✉" if n.pk in emailed else ""
                name = f"{n.recipient.last_name}{n.recipient.first_name}" or n.recipient.username
                due_on = n.tasks[0].due_on if n.is_digest and n.tasks else n.due_on
                self.stdout.write(f"{n.text.stage} → {n.recipient.username} ({name}){mail}: {n.text.title} · {due_on}")
            self.stdout.write(
                _(
                    "Scan %(scan)s as of %(at)s (%(today)s): %(total)d deadline(s) near or past due"
                    " (%(tasks)d of cycle tasks, %(others)d of other features such as warning notices),"
                    " %(sent)d notification(s) sent"
                )
                % {
                    "scan": result.scan_id,
                    "at": f"{timezone.localtime(result.as_of):%Y-%m-%d %H:%M}",
                    "today": result.today,
                    "total": result.considered,
                    "tasks": result.tasks_considered,
                    "others": result.considered - result.tasks_considered,
                    "sent": len(result.created),
                }
            )
