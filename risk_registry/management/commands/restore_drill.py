"""``python manage.py restore_drill``: after restoring a backup, prove the filed records are intact.

Every filed version (备案版本) carries the SHA-256 of its frozen snapshot; the drill recomputes each
from the restored snapshot and compares. It also checks that the database still refuses changes to
filed versions (the trigger of risk_registry/migrations/0002). See docs/operations.md, "Backup and
restore". Exit status 0 when everything matches, 1 (CommandError) otherwise.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from risk_registry.models.register import RegisterVersion
from risk_registry.workflow.snapshots import content_hash

FROZEN_TRIGGER = "risk_registry_version_frozen"


class Command(BaseCommand):
    help = (
        "Verify a restored database: recompute the SHA-256 of every filed version from its snapshot "
        "and check that filed versions are still write-protected. Exits non-zero on any mismatch."
    )

    def handle(self, *args, **options):
        checked, mismatches = 0, []
        versions = RegisterVersion.objects.select_related("register__institution").order_by("pk")
        for version in versions.iterator(chunk_size=100):
            checked += 1
            recomputed = content_hash(version.snapshot)
            if recomputed != version.content_hash:
                register = version.register
                mismatches.append(
                    f"{register.institution.code} {register.year} v{version.number} (id {version.pk}): "
                    f"stored {version.content_hash}, recomputed {recomputed}"
                )
        for line in mismatches:
            self.stderr.write(f"MISMATCH {line}")
        protected = self._frozen_trigger_present()
        if not protected:
            self.stderr.write(f"MISSING the trigger {FROZEN_TRIGGER}: filed versions could be changed")
        if mismatches or not protected:
            raise CommandError(
                f"restore drill failed: {len(mismatches)} of {checked} filed versions do not match their hash"
                + ("" if protected else "; filed versions are not write-protected")
            )
        self.stdout.write(
            f"restore drill passed: {checked} filed versions, every SHA-256 matches its snapshot; "
            "filed versions are write-protected"
        )

    def _frozen_trigger_present(self) -> bool:
        if connection.vendor != "postgresql":
            return True  # SQLite (make run): the trigger is PostgreSQL's; nothing to check
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass AND tgenabled <> 'D'",
                [FROZEN_TRIGGER, RegisterVersion._meta.db_table],
            )
            return cursor.fetchone() is not None
