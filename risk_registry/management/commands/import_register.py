"""``python manage.py import_register --institution CODE --file PATH [--year YEAR] [--dry-run]``, and the
import wizard's steps as options: ``--mapping FILE.json`` or ``--wizard`` with flags."""

import json
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
        wizard = parser.add_argument_group(
            "the import wizard's steps (a register in its own layout; see docs/documents.md)"
        )
        wizard.add_argument(
            "--wizard",
            action="store_true",
            help="Read the file as the wizard does: header detected, columns and values suggested (from the "
            "synonym table and the institution's last mapping), completed by --mapping and the flags below.",
        )
        wizard.add_argument(
            "--mapping",
            default="",
            help="A JSON file: header_row (0-based), columns (a list, one target per column, or an object "
            "header → target), levels/risk_types/found_by/lines (word → code), departments (word → 'new' or "
            "an id), default_risk_type, default_level, default_line, state, create_unknown. Implies --wizard.",
        )
        wizard.add_argument("--header-row", type=int, default=None, help="The header row (1 = the first).")
        wizard.add_argument("--state", choices=("draft", "issued"), default=None, help="Points arrive as.")
        wizard.add_argument("--default-level", default=None, help="Level code for a file without a level column.")
        wizard.add_argument("--default-risk-type", default=None, help="Risk type id for a file without one.")
        wizard.add_argument(
            "--create-unknown", action="store_true", help="Create the departments and positions not yet known."
        )
        wizard.add_argument("--print-mapping", action="store_true", help="Print the completed mapping as JSON.")

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
        if options["wizard"] or options["mapping"]:
            self._wizard(found, path, data, year, dry_run=dry_run, options=options)
            return
        if dry_run:
            result = services.register_import_check(
                by=None, institution=found, year=year, data=data, sheet=options["sheet"]
            )
        else:
            result = services.register_import(
                by=None, institution=found, year=year, data=data, filename=path.name, sheet=options["sheet"]
            )
        self._report(
            path,
            found,
            year,
            result.problems,
            dry_run=dry_run,
            planned=len(result.planned) if dry_run else 0,
            created=0 if dry_run else result.created,
        )

    def _report(
        self, path: Path, institution, year: int, problems, *, dry_run: bool, planned: int, created: int
    ) -> None:
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(_("%(count)d problems: nothing was imported.") % {"count": len(problems)})
        if dry_run:
            self.stdout.write(
                _("%(file)s: %(count)d risk points would be imported (dry run).")
                % {"file": path.name, "count": planned}
            )
        else:
            self.stdout.write(
                _("%(file)s: %(count)d risk points imported into %(institution)s %(year)d.")
                % {"file": path.name, "count": created, "institution": institution.name, "year": year}
            )

    def _mapping_from(self, options) -> dict:
        """The mapping file, overridden by the flags."""
        try:
            mapping = json.loads(Path(options["mapping"]).read_text(encoding="utf-8")) if options["mapping"] else {}
        except (OSError, ValueError) as error:
            raise CommandError(_("The mapping file cannot be read: %(error)s") % {"error": error}) from None
        if not isinstance(mapping, dict):
            raise CommandError(_("The mapping file must hold a JSON object."))
        flags = {key: options[key] for key in ("state", "default_level", "default_risk_type")}
        mapping |= {key: value for key, value in flags.items() if value is not None}
        if options["header_row"] is not None:
            mapping["header_row"] = options["header_row"] - 1
        if options["create_unknown"]:
            mapping["create_unknown"] = True
        return mapping

    def _wizard(self, institution, path: Path, data: bytes, year: int, *, dry_run: bool, options) -> None:
        mapping = self._mapping_from(options)
        try:
            mapping = services.import_mapping_complete(
                institution=institution, data=data, mapping=mapping, sheet=options["sheet"]
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["print_mapping"]:
            self.stdout.write(json.dumps(mapping, ensure_ascii=False, indent=2))
        if dry_run:
            result = services.register_import_mapped_check(
                by=None, institution=institution, year=year, data=data, mapping=mapping, sheet=options["sheet"]
            )
        else:
            result = services.register_import_mapped(
                by=None,
                institution=institution,
                year=year,
                data=data,
                mapping=mapping,
                filename=path.name,
                sheet=options["sheet"],
            )
        self._report(
            path,
            institution,
            year,
            result.problems,
            dry_run=dry_run,
            planned=len(result.result.points) if dry_run else 0,
            created=0 if dry_run else result.created,
        )
