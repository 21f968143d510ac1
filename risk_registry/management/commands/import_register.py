"""``python manage.py import_register --institution CODE --file PATH [--year YEAR] [--dry-run]``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from risk_registry.documents import services
from risk_registry.organisation.models import Institution


class Command(BaseCommand):
    help = (
        "Import a register kept in Excel (the columns of the 廉政风险点排查及防控措施一览表; the browser's "
        "import page offers the template). Prints every problem (row, column, what is wrong, what was "
        "expected) and exits with status 1 when there is any; otherwise imports the whole file in one "
        "transaction, the points entering as submitted. --dry-run checks without writing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="Institution code.")
        parser.add_argument("--file", required=True, help="The .xlsx file.")
        parser.add_argument("--year", type=int, default=None, help="Year of the points (default: this year).")
        parser.add_argument("--sheet", default="", help="The visible sheet to read (default: the first visible one).")
        parser.add_argument("--dry-run", action="store_true", help="Check the file and write nothing.")

    def handle(self, *args, **options):
        # Every line this command prints is Chinese, like the problems it lists: the operator's
        # terminal shows the same words as the import page (no English trailer after them).
        with translation.override("zh-hans"):
            self._handle(**options)

    def _handle(self, *, institution, file, year=None, dry_run=False, **options):
        found = Institution.objects.filter(code=institution).select_related("grading_scheme").first()
        if found is None:
            raise CommandError(_("No institution with the code %(code)s.") % {"code": institution})
        path = Path(file)
        if not path.is_file():
            raise CommandError(_("No file %(file)s.") % {"file": file})
        year = year or timezone.localdate().year
        data = path.read_bytes()
        if dry_run:
            result = services.register_import_check(
                by=None, institution=found, year=year, data=data, sheet=options["sheet"]
            )
        else:
            result = services.register_import(
                by=None, institution=found, year=year, data=data, filename=path.name, sheet=options["sheet"]
            )
        for problem in result.problems:
            self.stderr.write(str(problem))
        if result.problems:
            raise CommandError(_("%(count)d problems: nothing was imported.") % {"count": len(result.problems)})
        if dry_run:
            self.stdout.write(
                _("%(file)s: %(count)d risk points would be imported (dry run).")
                % {"file": path.name, "count": len(result.planned)}
            )
        else:
            self.stdout.write(
                _("%(file)s: %(count)d risk points imported into %(institution)s %(year)d.")
                % {"file": path.name, "count": result.created, "institution": found.name, "year": year}
            )
