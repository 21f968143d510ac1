"""``python manage.py import_register --institution CODE --file PATH [--year YEAR] [--dry-run]``."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

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

    def handle(self, *args, institution, file, year=None, dry_run=False, **options):
        found = Institution.objects.filter(code=institution).select_related("grading_scheme").first()
        if found is None:
            raise CommandError(f"No institution with the code {institution!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file {file}.")
        year = year or timezone.localdate().year
        data = path.read_bytes()
        with translation.override("zh-hans"):
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
            raise CommandError(f"{len(result.problems)} problems: nothing was imported.")
        if dry_run:
            self.stdout.write(f"{path.name}: {len(result.planned)} risk points would be imported (dry run).")
        else:
            self.stdout.write(f"{path.name}: {result.created} risk points imported into {found.code} {year}.")
