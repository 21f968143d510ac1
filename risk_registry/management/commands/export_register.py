"""``python manage.py export_register --institution CODE --year YEAR --form FORM --format xlsx|pdf --out PATH``."""

from argparse import RawDescriptionHelpFormatter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from risk_registry.documents import rendering, selectors
from risk_registry.documents.definitions import FORMATS, FORMS
from risk_registry.documents.pdf import DocumentUnavailable
from risk_registry.models.register import RegisterVersion
from risk_registry.organisation.models import Institution

FORM_LIST = "\n".join(f"  {code:<20} {form.title} ({form.source})" for code, form in FORMS.items())


class Command(BaseCommand):
    help = (
        "Write one register form of an institution and year as Excel or PDF: the official register "
        "(its approved, or once published its published, points), with --working a working copy of "
        "every point of that year except drafts, or with --filed-version N the filed version N (from "
        "its frozen snapshot).\n\n"
        "Forms:\n" + FORM_LIST
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = RawDescriptionHelpFormatter  # keep the list of forms one per line
        return parser

    def add_arguments(self, parser):
        parser.add_argument("--institution", required=True, help="Institution code.")
        parser.add_argument("--year", type=int, required=True, help="Year of the register.")
        parser.add_argument(
            "--form", required=True, choices=list(FORMS), metavar="FORM", help="One of: " + ", ".join(FORMS)
        )
        parser.add_argument("--format", required=True, choices=FORMATS, dest="fmt", help="xlsx or pdf.")
        parser.add_argument("--out", required=True, help="File to write.")
        parser.add_argument(
            "--filed-version", type=int, dest="version_number", help="Render filed version N (its frozen snapshot)."
        )
        parser.add_argument(
            "--working", action="store_true", help="A working copy (工作稿): every point but drafts, with its state."
        )

    def handle(self, *args, institution, year, form, fmt, out, version_number=None, working=False, **options):
        found = Institution.objects.filter(code=institution).select_related("grading_scheme").first()
        if found is None:
            raise CommandError(f"No institution with the code {institution!r}.")
        if version_number is not None:
            version = (
                RegisterVersion.objects.filter(register__institution=found, register__year=year, number=version_number)
                .select_related("register__institution", "signed_by")
                .first()
            )
            if version is None:
                raise CommandError(f"{found.code} {year} has no filed version {version_number}.")
            document = rendering.document_for_version(version=version, form_code=form)
        else:
            if working:
                points = selectors.register_points_for_working_copy(institution=found, year=year)
            else:
                points = selectors.register_points_for_filing(institution=found, year=year)
            document = rendering.document_for_points(
                points=points, form_code=form, institution=found, year=year, working=working
            )
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            written = rendering.render(str(path), document=document, fmt=fmt)
        except DocumentUnavailable as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{path}: {FORMS[form].title}, {written} risk points, {path.stat().st_size} bytes")
